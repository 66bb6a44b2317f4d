"""A cement line with a CEMS (SO2, NOx, PM, flow, O2) and one local day of 15-minute
readings, stored through the real ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import parse_period
from kilnwatch.identity import Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.repos.users import add_user
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
USCC = "91370100MA3C4XY21E"
DAY = parse_period("2025-03-02", SHANGHAI)
PASSWORD = "long-password-1"
STACK_METERS = (
    ("CEMS-SO2", "so2", "mg/m3", "a21026"),
    ("CEMS-NOX", "nox", "mg/m3", "a21002"),
    ("CEMS-PM", "dust", "mg/m3", "a34013"),
    ("CEMS-FLOW", "flue_gas_flow", "m3/h", "a00000"),
    ("CEMS-O2", "o2", "%", "a19001"),
)
NOX_EXCEEDANCE_HOURS = (10, 11, 12)  # local hours (10:00-13:00) with NOx 450 > 400 mg/m3
CALIBRATION_HOUR = 5  # 05:00-06:00: two of four SO2 readings flagged C -> invalid hour


def stack_day_readings() -> list[RawReading]:
    """SO2 50, NOx 300 (450 in the exceedance hours), PM 10 mg/m3, flow 100 000 m3/h,
    O2 10 %, every 15 minutes of 2 March 2025 (local)."""
    start = DAY.start.astimezone(UTC)
    rows = []
    for k in range(1, 24 * 4 + 1):
        ts = start + timedelta(minutes=15 * k)
        hour = (k - 1) // 4
        nox = 450.0 if hour in NOX_EXCEEDANCE_HOURS else 300.0
        so2_flag = "C" if hour == CALIBRATION_HOUR and k % 2 else "N"
        for code, value, flag in (
            ("CEMS-SO2", 50.0, so2_flag),
            ("CEMS-NOX", nox, "N"),
            ("CEMS-PM", 10.0, "N"),
            ("CEMS-FLOW", 100_000.0, "N"),
            ("CEMS-O2", 10.0, "N"),
        ):
            rows.append(RawReading(code, ts, value, None, flag))
    return rows


@pytest.fixture
def stack_day(session: Session, tmp_path: Path) -> Session:
    lines = [
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,hj212_code"
    ]
    lines += [
        f"{c},{USCC},CL1,{carrier},equipment,instant,{u},{h}" for c, carrier, u, h in STACK_METERS
    ]
    return _registry_and_readings(session, tmp_path, lines, stack_day_readings())


def _registry_and_readings(
    session: Session, tmp_path: Path, meter_lines: list[str], readings: list[RawReading]
) -> Session:
    """The fixture registry plus ``meter_lines`` (a meters.csv), and ``readings`` stored."""
    import_registry(session, REGISTRY)
    meters = tmp_path / "meters.csv"
    meters.write_text("\n".join(meter_lines) + "\n", encoding="utf-8")
    import_registry(session, meters)
    result = ingest_readings(
        session, readings, "file", "test", now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY
    )
    assert result.rejected == [], result.rejected[:3]
    session.commit()
    return session


def api_headers(
    client: TestClient, session: Session, user: str, role: Role, region: str
) -> dict[str, str]:
    """Bearer headers of a new user of ``role`` over ``region``."""
    add_user(session, user, PASSWORD, role, region_code=region)
    session.commit()
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


WATER_METERS = (  # code, unit, level, source, m3 per hour
    ("W-IN-WELL", "", "entry", "groundwater", 10.0),
    ("W-IN-TAP", "", "entry", "municipal_supply", 2.5),
    ("W-CL1", "CL1", "sub_unit", "", 8.0),  # no source in the registry -> unspecified
)


@pytest.fixture
def water_day(session: Session, tmp_path: Path) -> Session:
    """Two entry water meters of two sources and a unit meter without a source, each with 24
    hourly interval readings of 2 March 2025 (local) at its constant rate."""
    lines = ["meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,"
             "water_source"]  # fmt: skip
    lines += [f"{c},{USCC},{u},water,{lv},interval,m3,{s}" for c, u, lv, s, _ in WATER_METERS]
    start = DAY.start.astimezone(UTC)
    rows = [
        RawReading(code, start + timedelta(hours=h), rate, None, "N")
        for code, _, _, _, rate in WATER_METERS
        for h in range(1, 25)
    ]
    return _registry_and_readings(session, tmp_path, lines, rows)
