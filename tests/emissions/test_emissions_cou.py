"""The device's own emission amount (HJ 212 ``-Cou``): stored only on a meter mapped for
``<code>-Cou``, and cross-checked against the computed quantity."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from _emissions_factory import DAY, USCC
from sqlalchemy.orm import Session

from kilnwatch.emissions.service import emissions_scope
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.hj212 import Device, encode_frame
from kilnwatch.ingest.hj212.codec import parse_frame
from kilnwatch.ingest.hj212_store import packet_rows
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from zone import POLICY

ADMIN = Principal("t", Role.ADMIN)
HEADER = {"QN": "20250302110000000", "ST": "31", "CN": "2061", "PW": "123456", "MN": "MN1",
          "Flag": "4"}  # fmt: skip
CP = "DataTime=20250302100000;a21026-Avg=50.0,a21026-Cou=5.0,a21026-Flag=N"


def test_cou_is_kept_only_on_a_meter_mapped_for_it() -> None:
    packet = parse_frame(encode_frame(HEADER, CP))
    plain = Device("MN1", "123456", meters={"a21026": "SO2"})
    assert [(r.meter_code, r.value) for r in packet_rows(plain, packet)] == [("SO2", 50.0)]
    mapped = Device("MN1", "123456", meters={"a21026": "SO2", "a21026-Cou": "SO2-COU"})
    rows = {(r.meter_code, r.value, r.unit) for r in packet_rows(mapped, packet)}
    assert rows == {("SO2", 50.0, "mg/m3"), ("SO2-COU", 5.0, "kg")}


def test_device_total_is_cross_checked(stack_day: Session, tmp_path: Path) -> None:
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,"
        f"hj212_code\nCEMS-SO2-COU,{USCC},CL1,so2_mass,equipment,interval,kg,a21026-Cou\n",
        encoding="utf-8",
    )
    import_registry(stack_day, meters)
    # the device sends 5 kg every hour and 6 kg for 05:00-06:00 (the hour our rules found
    # invalid and substituted by 5 kg): device 23 x 5 + 6 = 121 kg, computed 120 kg
    start = DAY.start.astimezone(UTC)
    rows = [
        RawReading("CEMS-SO2-COU", start + timedelta(hours=h + 1), 6.0 if h == 5 else 5.0, "kg")
        for h in range(24)
    ]
    result = ingest_readings(stack_day, rows, "hj212", "MN1", policy=POLICY)
    assert result.rejected == []
    stack_day.commit()
    [stack] = emissions_scope(stack_day, ADMIN, DAY).accounts
    so2 = stack.pollutants["so2"]
    assert so2.device_kg == pytest.approx(121.0)
    assert so2.device_gap_fraction == pytest.approx((120.0 - 121.0) / 121.0)
    assert stack.pollutants["nox"].device_kg is None
