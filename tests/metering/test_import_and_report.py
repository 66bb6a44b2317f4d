"""Census import (CSV and XLSX, located errors, all-or-nothing) and the census report file."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import ImportRejected
from kilnwatch.metering.imports import import_metering
from kilnwatch.store.models import Meter, MeterCalibration, MeteringPoint
from metering._factory import JINAN, load_registry

runner = CliRunner()
POINTS = (
    "enterprise_uscc,point_code,name,level,carrier,unit_code,meter_code,accuracy_variant,planned_on\n"
    f"{JINAN},P-E0,总进线,entry,electricity,,M-JN-E0,,\n"
    f"{JINAN},P-E1,1号线,sub_unit,electricity,CL1,M-JN-E1,,\n"
    f"{JINAN},P-EQ1,1号线磨机,equipment,electricity,CL1,,,2025-12-31\n"
    f"{JINAN},P-C0,进厂煤,entry,raw_coal,,M-JN-C0,static,\n"
)
CALIBRATIONS = (
    "meter_code,certificate_no,calibrated_on,due_on,issuer,result,certificate_file\n"
    "M-JN-E0,JD-2025-001,2025-06-01,2026-06-01,济南市计量院,pass,certs/JD-2025-001.pdf\n"
    "M-JN-E1,JD-2024-007,2024-06-01,2025-06-01,济南市计量院,pass,\n"
)


def _write(tmp_path: Path, points: str = POINTS, calibrations: str = CALIBRATIONS) -> Path:
    (tmp_path / "metering_points.csv").write_text(points, encoding="utf-8")
    (tmp_path / "meter_calibrations.csv").write_text(calibrations, encoding="utf-8")
    return tmp_path


def test_import_stores_points_and_moves_the_current_calibration(
    session: Session, tmp_path: Path
) -> None:
    load_registry(session)
    report = import_metering(session, _write(tmp_path))
    assert report.created == {"metering_points": 4, "meter_calibrations": 2}
    e0 = session.scalars(select(Meter).where(Meter.code == "M-JN-E0")).one()
    assert (e0.calibrated_on, e0.calibration_due_on) == (date(2025, 6, 1), date(2026, 6, 1))
    e1 = session.scalars(select(Meter).where(Meter.code == "M-JN-E1")).one()
    assert e1.calibrated_on == date(2025, 1, 10)  # the registry's date is later: kept
    again = import_metering(session, tmp_path)
    assert again.updated == {"metering_points": 4, "meter_calibrations": 2}
    assert session.scalar(select(func.count()).select_from(MeteringPoint)) == 4


def test_faults_are_located_and_nothing_is_stored(session: Session, tmp_path: Path) -> None:
    load_registry(session)
    bad = POINTS + (
        f"{JINAN},P-X1,错级别,plant,electricity,,,,\n"
        f"{JINAN},P-X2,煤表当电表,entry,electricity,,M-JN-C0,,\n"
        f"{JINAN},P-X3,重复,entry,electricity,,M-JN-E0,,\n"
        f"{JINAN},P-X4,错变体,entry,raw_coal,,,user_class_ii,\n"
    )
    cal = CALIBRATIONS + "M-JN-E0,JD-X,2025-06-01,2025-05-01,院,maybe,\n"
    with pytest.raises(ImportRejected) as exc:
        import_metering(session, _write(tmp_path, bad, cal))
    where = {(e.location.row, e.location.field) for e in exc.value.errors}
    assert where == {(5, "level"), (6, "meter_code"), (7, "meter_code"), (8, "accuracy_variant"),
                     (3, "due_on"), (3, "result")}  # fmt: skip
    assert all(e.location.file.endswith(".csv") for e in exc.value.errors)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(MeteringPoint)) == 0
    assert session.scalar(select(func.count()).select_from(MeterCalibration)) == 0


def test_xlsx_import_and_the_census_report(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    load_registry(session)
    session.commit()
    wb = Workbook()
    ws = wb.active
    for line in POINTS.strip().splitlines():
        ws.append(line.split(","))
    wb.save(tmp_path / "metering_points.xlsx")
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(app, ["import", "metering", str(tmp_path / "metering_points.xlsx")], env=env)
    assert r.exit_code == 0, r.output
    out = tmp_path / "census.xlsx"
    r = runner.invoke(
        app,
        ["report", "metering", "--format", "xlsx", "--out", str(out), "--period", "2025-03"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    sheet = load_workbook(io.BytesIO(out.read_bytes()))["计量器具配备"]
    rows = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] == JINAN]
    by_level = {(row[2], row[3]): row[4:7] for row in rows}
    assert by_level[("电力", "主要用能设备")] == (1, 0, 0)
    assert by_level[("电力", "进出用能单位")] == (1, 1, 1)
    assert by_level[("原煤", "进出用能单位")] == (1, 1, 1)
    assert len(rows) == 4
