"""Wastewater COD and NH3-N of an outfall (issue 21), hand-worked: one local day of 15-minute
HJ 212 readings, one hour under calibration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _emissions_factory import DAY, REGISTRY, USCC
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.emissions.wastewater import wastewater_accounts
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from zone import POLICY

ADMIN = Principal("t", Role.ADMIN)
CALIBRATION_HOUR = 7


@pytest.fixture
def outfall(session: Session, tmp_path: Path) -> Session:
    import_registry(session, REGISTRY)
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,"
        "hj212_code\n"
        f"WW-FLOW,{USCC},CL1,wastewater_flow,equipment,instant,L/s,w00000\n"
        f"WW-COD,{USCC},CL1,cod,equipment,instant,mg/L,w01018\n"
        f"WW-NH3N,{USCC},CL1,ammonia_nitrogen,equipment,instant,mg/L,w21003\n",
        encoding="utf-8",
    )
    import_registry(session, meters)
    start = DAY.start.astimezone(UTC)
    rows = []
    for k in range(1, 24 * 4 + 1):
        ts = start + timedelta(minutes=15 * k)
        hour = (k - 1) // 4
        flag = "C" if hour == CALIBRATION_HOUR else "N"  # COD analyser calibrated 07:00-08:00
        rows += [RawReading("WW-FLOW", ts, 10.0, None, "N"),
                 RawReading("WW-COD", ts, 50.0, None, flag),
                 RawReading("WW-NH3N", ts, 5.0, None, "N")]  # fmt: skip
    result = ingest_readings(session, rows, "file", "test",
                             now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY)  # fmt: skip
    assert result.rejected == [], result.rejected[:3]
    session.commit()
    return session


def test_cod_and_ammonia_amounts_with_their_arithmetic(outfall: Session) -> None:
    rows = {r.pollutant: r for r in wastewater_accounts(outfall, ADMIN, DAY)}
    # flow 10 L/s = 36 m3/h; COD 50 mg/L x 36 m3/h = 1.8 kg per valid hour, 23 valid hours
    # (the calibration hour is invalid and not substituted) = 41.4 kg
    cod = rows["cod"]
    assert (cod.valid_hours, cod.invalid_hours, cod.stopped_hours) == (23, 1, 0)
    assert cod.amount_kg == pytest.approx(41.4) and cod.flow_m3 == pytest.approx(23 * 36)
    # NH3-N 5 mg/L x 36 m3/h = 0.18 kg per hour x 24 = 4.32 kg
    nh3 = rows["ammonia_nitrogen"]
    assert nh3.valid_hours == 24 and nh3.amount_kg == pytest.approx(4.32)
    assert nh3.mean_mg_l == pytest.approx(5.0)
    city = Principal("qd", Role.CITY, region_code="370200")
    assert wastewater_accounts(outfall, city, DAY) == []  # another city's outfall: not seen


def test_cli_gives_the_service_rows(
    outfall: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(
        app, ["emissions", "wastewater", "--period", "2025-03-02", "--json"]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["rows"]
    assert got == [r.as_json() for r in wastewater_accounts(outfall, ADMIN, DAY)]
    assert {r["pollutant"]: r["amount_kg"] for r in got} == {
        "cod": 41.4, "ammonia_nitrogen": 4.32}  # fmt: skip
