"""Stack accounts from stored readings, permits, and the CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _emissions_factory import CALIBRATION_HOUR, DAY, NOX_EXCEEDANCE_HOURS, USCC
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.emissions.hours import INVALID
from kilnwatch.emissions.service import emissions_scope
from kilnwatch.errors import ImportRejected
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.permits import import_permits
from kilnwatch.store.models import EmissionPermit

ADMIN = Principal("t", Role.ADMIN)
runner = CliRunner()


def test_quantities_validity_and_exceedances(stack_day: Session) -> None:
    scope = emissions_scope(stack_day, ADMIN, DAY)
    [stack] = scope.accounts
    so2, nox, pm = (stack.pollutants[p] for p in ("so2", "nox", "dust"))
    # SO2: 23 valid hours x 50 mg/m3 x 100 000 m3/h x 1 h = 23 x 5 kg; the calibration hour
    # (2 of 4 readings N < 3) is invalid; capture 23/24 = 95.8 % >= 90 %, run 1 h: substituted
    # by the largest of the valid hours before it (5 kg) -> 24 x 5 = 120 kg
    assert stack.hours["so2"].status[CALIBRATION_HOUR] == INVALID
    assert (so2.valid_hours, so2.invalid_hours, so2.substituted_hours) == (23, 1, 1)
    assert so2.capture_pct == pytest.approx(100 * 23 / 24)
    assert so2.measured_kg == pytest.approx(115.0)
    assert so2.amount_kg == pytest.approx(120.0)
    # NOx: 21 h x 30 kg + 3 h x 45 kg = 765 kg; GB 4915-2013 kiln limit 400 mg/m3 (as
    # measured: no reference O2 read) -> 3 exceedance hours in one episode; day mean
    # (21 x 300 + 3 x 450) / 24 = 318.75 < 400: no exceedance day
    assert nox.amount_kg == pytest.approx(765.0)
    assert nox.limit is not None and nox.limit.ref == "cement_general.nox"
    assert nox.exceedance_hours == 3 and nox.exceedance_days == 0
    [episode] = nox.episodes
    assert episode.n_hours == len(NOX_EXCEEDANCE_HOURS)
    assert episode.start_s == int(DAY.start.timestamp()) + 10 * 3600
    assert pm.amount_kg == pytest.approx(24.0) and pm.exceedance_hours == 0
    [total] = scope.totals(stack_day, "enterprise")
    assert total.amount_t == pytest.approx({"so2": 0.12, "nox": 0.765, "dust": 0.024})


def test_permit_binds_when_lower(stack_day: Session, tmp_path: Path) -> None:
    f = tmp_path / "permits.csv"
    f.write_text(
        "enterprise_uscc,unit_code,permit_no,pollutant,concentration_mg_m3,o2_ref_pct,annual_t,"
        "valid_from,valid_to\n"
        f"{USCC},CL1,91370100MA3C4XY21E001P,so2,40,,50,2024-01-01,2028-12-31\n",
        encoding="utf-8",
    )
    report = import_permits(stack_day, f)
    assert report.created == {"permits": 1}
    scope = emissions_scope(stack_day, ADMIN, DAY)
    so2 = scope.accounts[0].pollutants["so2"]
    assert so2.limit is not None and so2.limit.basis == "permit" and so2.limit.limit_mg_m3 == 40
    assert so2.exceedance_hours == 23  # every valid hour at 50 > 40
    [total] = scope.totals(stack_day, "enterprise")
    assert total.permitted_t == {"so2": 50.0}


def test_bad_permit_rows_name_row_and_field(stack_day: Session, tmp_path: Path) -> None:
    f = tmp_path / "permits.csv"
    f.write_text(
        "enterprise_uscc,unit_code,permit_no,pollutant,concentration_mg_m3,o2_ref_pct,annual_t,"
        "valid_from,valid_to\n"
        f"{USCC},XX9,P1,so2,40,,50,2024-01-01,2028-12-31\n"
        f"{USCC},CL1,P1,co2,40,,50,2024-01-01,2028-12-31\n"
        f"{USCC},CL1,P1,nox,40,25,50,2024-01-01,2023-12-31\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as err:
        import_permits(stack_day, f)
    faults = {(e.location.row, e.location.field) for e in err.value.errors}
    assert {(1, "unit_code"), (2, "pollutant"), (3, "o2_ref_pct"), (3, "valid_to")} <= faults
    assert stack_day.query(EmissionPermit).count() == 0


def test_cli_quantities_json(stack_day: Session, settings: Settings) -> None:
    result = runner.invoke(
        app, ["emissions", "quantities", "--period", "2025-03-02", "--by", "city", "--json"],
        env={"KILNWATCH_DATABASE_URL": settings.database_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["rows"]
    assert row["key"] == "3701" and row["nox_t"] == pytest.approx(0.765)
    assert row["exceedance_hours"] == 3
