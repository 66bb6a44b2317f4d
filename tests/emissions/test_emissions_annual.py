"""Issue 21: the cumulative amount of the year against the permitted annual amount, days whose
mean is above the limit, and the device total (``-Cou``) gap, each with its arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from _emissions_factory import DAY, USCC
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.domain.periods import parse_period
from kilnwatch.emissions.annual import EXCEEDED, PROJECTED, WITHIN, annual_permit_status
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.permits import import_permits
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import FindingRecord
from kilnwatch.verify.detectors.emissions import DEVICE_GAP, EXCEEDANCE_DAY
from kilnwatch.verify.run import verify_period
from zone import POLICY, SHANGHAI

ADMIN = Principal("t", Role.ADMIN)
MARCH = parse_period("2025-03", SHANGHAI)
HEADER = "enterprise_uscc,unit_code,permit_no,pollutant,concentration_mg_m3,o2_ref_pct,annual_t,"


def _permits(session: Session, tmp_path: Path, *rows: str) -> None:
    f = tmp_path / "permits.csv"
    f.write_text(HEADER + "valid_from,valid_to\n" + "".join(rows), encoding="utf-8")
    import_permits(session, f)
    session.commit()


@pytest.mark.parametrize(
    ("annual_t", "code"),
    # SO2 on 2 March: 23 valid h x 5 kg = 0.115 t (over 1 Jan - 31 Mar the capture rate is far
    # below 75 %, so the calibration hour is not substituted, HJ 75-2017); 90 days elapsed, at
    # that pace the year is 0.115 x 365 / 90 = 0.4664 t
    [(0.5, WITHIN), (0.4, PROJECTED), (0.1, EXCEEDED)],
)
def test_cumulative_amount_against_the_permitted_one(
    stack_day: Session, tmp_path: Path, annual_t: float, code: str
) -> None:
    _permits(stack_day, tmp_path, f"{USCC},CL1,P1,so2,,,{annual_t},2024-01-01,2028-12-31\n")
    [row] = annual_permit_status(stack_day, ADMIN, MARCH)
    assert (row.pollutant, row.first_day.isoformat(), row.last_day.isoformat()) == (
        "so2", "2025-01-01", "2025-03-31")  # fmt: skip
    assert row.cumulative_t == pytest.approx(0.115)
    assert row.projected_t == pytest.approx(0.115 * 365 / 90)
    assert row.share == pytest.approx(0.115 / annual_t) and row.code == code


def test_a_whole_enterprise_permit_is_not_added_to_its_stack_rows(
    stack_day: Session, tmp_path: Path
) -> None:
    _permits(stack_day, tmp_path,
             f"{USCC},CL1,P1,nox,,,0.5,2024-01-01,2028-12-31\n",
             f"{USCC},,P1,nox,,,2.0,2024-01-01,2028-12-31\n")  # fmt: skip
    [row] = annual_permit_status(stack_day, ADMIN, MARCH)
    # NOx 0.765 t (test_emissions_service): the enterprise's 2.0 t binds, not 2.5 t
    assert row.permitted_t == 2.0 and row.cumulative_t == pytest.approx(0.765)
    assert row.code == PROJECTED  # 0.765 x 365 / 90 = 3.10 t > 2.0 t


def test_api_and_cli_give_the_same_rows(
    stack_day: Session, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _permits(stack_day, tmp_path, f"{USCC},CL1,P1,so2,,,0.1,2024-01-01,2028-12-31\n")
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(app, ["emissions", "permits", "--period", "2025-03", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)["rows"]
    assert row["code"] == EXCEEDED and row["cumulative_t"] == pytest.approx(0.115)
    assert row == annual_permit_status(stack_day, ADMIN, MARCH)[0].as_json()


def _findings(session: Session, code: str) -> list[FindingRecord]:
    return list(session.scalars(select(FindingRecord).where(FindingRecord.rule_code == code)))


def test_exceedance_day_and_device_gap_findings(stack_day: Session, tmp_path: Path) -> None:
    # a permit of 40 mg/m3 for SO2: every valid hour (50) and the day's mean (50) are above it
    _permits(stack_day, tmp_path, f"{USCC},CL1,P1,so2,40,,,2024-01-01,2028-12-31\n")
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure,"
        f"hj212_code\nCEMS-NOX-COU,{USCC},CL1,nox_mass,equipment,interval,kg,a21002-Cou\n",
        encoding="utf-8",
    )
    import_registry(stack_day, meters)
    # the device says 24 kg NOx per hour: 576 kg against 765 kg computed (+32.8 % > 10 %)
    start = DAY.start.astimezone(UTC)
    rows = [RawReading("CEMS-NOX-COU", start + timedelta(hours=h + 1), 24.0, "kg")
            for h in range(24)]  # fmt: skip
    assert ingest_readings(stack_day, rows, "hj212", "MN1", policy=POLICY).rejected == []
    stack_day.commit()
    verify_period(stack_day, MARCH)
    stack_day.commit()
    [day] = _findings(stack_day, EXCEEDANCE_DAY)
    assert day.severity == "info" and day.evidence["pollutant"] == "so2"
    [one] = day.evidence["days"]
    # the calibration hour is invalid: the mean is over the 23 valid hours, 50 mg/m3
    assert (one["mean_mg_m3"], one["valid_hours"]) == (50.0, 23)
    assert one["start_s"] == int(DAY.start.timestamp())
    assert day.magnitude_fraction == pytest.approx(50 / 40 - 1)
    [gap] = _findings(stack_day, DEVICE_GAP)
    assert gap.evidence["pollutant"] == "nox" and gap.evidence["device_kg"] == 576.0
    assert gap.evidence["gap_fraction"] == pytest.approx((765 - 576) / 576, abs=1e-4)
    # NOx's day mean 318.75 < 400 and SO2's device total is absent: nothing else
    assert len(_findings(stack_day, EXCEEDANCE_DAY)) == 1


def test_the_inspection_checklist_gets_the_platforms_pollutant_figure(stack_day: Session) -> None:
    """Issue 15's checklist item 污染物排放 is checked against the emissions accounts: SO2 120 +
    NOx 765 + PM 24 kg on 2 March (test_emissions_service's arithmetic) = 909 kg."""
    from kilnwatch.store.models import Enterprise
    from kilnwatch.supervise.rounds import platform_figures

    ent = stack_day.scalar(select(Enterprise.id).where(Enterprise.uscc == USCC))
    assert ent is not None
    assert platform_figures(stack_day, ent, DAY)["pollutants_kg"] == pytest.approx(909.0)
