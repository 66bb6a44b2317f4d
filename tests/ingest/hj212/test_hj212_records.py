"""Packets to readings, the code table, the devices file and the CSV sink."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kilnwatch.errors import InputError
from kilnwatch.ingest.hj212 import (
    Compat,
    CsvReadingSink,
    Device,
    encode_frame,
    packet_readings,
    packet_to_readings,
    parse_frame,
    read_devices,
)
from kilnwatch.reference.hj212 import load_hj212_codes

CST = timezone(timedelta(hours=8))
FIELDS = {"QN": "20250301090000000", "ST": "31", "PW": "123456", "MN": "MN1", "Flag": "5"}
HOURLY_CP = (
    "DataTime=20250301080000;"
    "a21026-Avg=35.5,a21026-ZsAvg=52.1,a21026-Min=30,a21026-Max=41,a21026-Cou=1.25,a21026-Flag=N;"
    "a00000-Avg=120.5,a00000-Cou=433800,a00000-Flag=N;"
    "a99999-Avg=1,a99999-Flag=D"
)
DEVICE = Device(
    mn="MN1",
    password="123456",
    meters={"a21026": "SO2", "a21026-Zs": "SO2-ZS", "a00000": "FLOW", "a00000-Cou": "FLOW-TOT"},
)


def hourly() -> list:
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2061"}, HOURLY_CP))
    return packet_to_readings(DEVICE, packet)


def test_codes_table_covers_the_required_codes() -> None:
    table = load_hj212_codes()
    units = {
        "a21026": "mg/m3",
        "a21002": "mg/m3",
        "a34013": "mg/m3",
        "a00000": "m3/s",
        "a19001": "%",
        "a01012": "degC",
        "a01013": "kPa",
        "a01014": "%",
        "w01018": "mg/L",
        "w21003": "mg/L",
        "w00000": "L/s",
    }
    for code, unit in units.items():
        row = table.lookup(code)
        assert row is not None and row.unit == unit and row.source.startswith("HJ 212-2017")
    assert table.lookup("02") == table.lookup("a21026")  # 2005 code of SO2
    assert table.lookup("a21026").cou_unit == "kg"  # type: ignore[union-attr]


def test_hourly_packet_to_readings() -> None:
    readings = {(r.code, r.kind, r.converted): r for r in hourly()}
    so2 = readings[("a21026", "avg", False)]
    assert (so2.meter_code, so2.value, so2.unit, so2.flag) == ("SO2", 35.5, "mg/m3", "N")
    assert so2.ts == datetime(2025, 3, 1, 8, tzinfo=CST) and so2.ts.utcoffset() == timedelta(
        hours=8
    )
    assert so2.ts_end == datetime(2025, 3, 1, 9, tzinfo=CST)
    zs = readings[("a21026", "avg", True)]
    assert (zs.meter_code, zs.value) == ("SO2-ZS", 52.1)
    assert readings[("a21026", "cou", False)].unit == "kg"
    assert readings[("a21026", "max", False)].meter_code == "SO2"
    assert readings[("a00000", "cou", False)].meter_code == "FLOW-TOT"
    assert readings[("a00000", "cou", False)].unit == "m3"
    assert readings[("a00000", "avg", False)].meter_code == "FLOW"


def test_unknown_codes_are_reported_not_dropped() -> None:
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2061"}, HOURLY_CP))
    report = packet_readings(DEVICE, packet)
    unknown = [r for r in report.readings if r.code == "a99999"]
    assert len(unknown) == 1 and unknown[0].meter_code is None and unknown[0].flag == "D"
    assert unknown[0].unit is None
    assert [p.code for p in report.problems] == ["hj212.readings.unmapped_code"]


def test_realtime_uses_sample_time_and_device_zone() -> None:
    cp = "DataTime=20250301081500;w01018-SampleTime=20250301070000,w01018-Rtd=22.5,w01018-Flag=N"
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2011", "ST": "32"}, cp))
    device = Device(mn="MN1", password="x", meters={"w01018": "COD"}, utc_offset=timedelta(0))
    (reading,) = packet_to_readings(device, packet)
    assert reading.ts == reading.ts_end == datetime(2025, 3, 1, 7, tzinfo=UTC)
    assert (reading.kind, reading.unit) == ("rtd", "mg/L")


def test_2005_codes_map_through_the_2017_code() -> None:
    cp = "DataTime=20110806122650;02-Rtd=111.0,02-ZsRtd=226.8,02-Flag=N"
    packet = parse_frame(encode_frame({"ST": "31", "CN": "2011", "PW": "1", "MN": "MN1"}, cp))
    readings = packet_to_readings(DEVICE, packet)
    assert [(r.meter_code, r.unit, r.converted) for r in readings] == [
        ("SO2", "mg/m3", False),
        ("SO2-ZS", "mg/m3", True),
    ]


def test_minute_data_end_needs_the_device_interval() -> None:
    cp = "DataTime=20250301081000;a21026-Avg=1"
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2051"}, cp))
    assert packet_to_readings(DEVICE, packet)[0].ts_end is None
    device = Device(mn="MN1", password="x", meters={"a21026": "SO2"}, minute_interval_min=10)
    assert packet_to_readings(device, packet)[0].ts_end == datetime(2025, 3, 1, 8, 20, tzinfo=CST)


def test_bad_values_and_missing_time_are_problems() -> None:
    cp = "a21026-Rtd=1;DataTime=2025;a21002-SampleTime=20250301080000,a21002-Rtd=abc"
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2011"}, cp))
    report = packet_readings(DEVICE, packet)
    assert report.readings == []
    assert sorted(p.code for p in report.problems) == [
        "hj212.readings.bad_time",
        "hj212.readings.bad_value",
        "hj212.readings.no_time",
    ]


def test_devices_files(tmp_path: Path) -> None:
    csv_file = tmp_path / "devices.csv"
    csv_file.write_text(
        "mn,password,compat,meters,minute_interval_min\n"
        "MN1,123456,crc_modbus;lf_only,a21026=SO2;a21026-Zs=SO2-ZS,10\n",
        encoding="utf-8",
    )
    device = read_devices(csv_file).lookup("MN1")
    assert device is not None and device.compat == {Compat.CRC_MODBUS, Compat.LF_ONLY}
    assert dict(device.meters) == {"a21026": "SO2", "a21026-Zs": "SO2-ZS"}
    assert device.minute_interval_min == 10
    json_file = tmp_path / "devices.json"
    json_file.write_text(
        '[{"mn": "MN2", "password": "p", "compat": ["all"], "meters": {"w01018": "COD"}}]',
        encoding="utf-8",
    )
    directory = read_devices(json_file)
    assert directory.lookup("MN2").compat == frozenset(Compat)  # type: ignore[union-attr]
    assert directory.lookup("MN1") is None
    csv_file.write_text("mn,password,compat\nMN1,1,crc_ccitt\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown compat"):
        read_devices(csv_file)


def test_csv_sink_writes_readings_format(tmp_path: Path) -> None:
    out = tmp_path / "readings.csv"
    sink = CsvReadingSink(out)
    packet = parse_frame(encode_frame(FIELDS | {"CN": "2061"}, HOURLY_CP))
    received = datetime(2025, 3, 1, 1, tzinfo=UTC)
    asyncio.run(sink.commit(DEVICE, packet, received))
    asyncio.run(sink.commit(DEVICE, packet, received))
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["meter_code", "ts", "value", "unit", "flag"]
    assert len(rows) == 2 * 7 and sink.rows_written == 14
    assert rows[0] == {
        "meter_code": "SO2",
        "ts": "2025-03-01T09:00:00+08:00",
        "value": "35.5",
        "unit": "mg/m3",
        "flag": "N",
    }
    assert sink.unmapped == {"MN1:a99999": 2}
