"""Drift of a meter against its parent and siblings (issue 18), on hand-made cases: a clean
group, a child drifting, the parent drifting, a step (verification's, not a drift), one child
only (parent or child), and the meters' accuracy classes widening the tolerance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.metering import enterprise_operation
from kilnwatch.metering.drift import DRIFT, DriftSettings, accuracy_percent, group_drift
from metering._factory import JINAN, load_registry
from zone import POLICY

DAYS = 20
SETTINGS = DriftSettings()
P, C1, C2 = 1, 2, 3


def _group(seed: int, *, c1: np.ndarray | None = None, parent: np.ndarray | None = None
           ) -> dict[int, list[float]]:  # fmt: skip
    """Daily kWh: C1 ~ 60 000 and C2 ~ 40 000 with their own load swings and 0.3 % noise;
    the parent reads their sum plus 2 % losses. ``c1`` / ``parent`` multiply a reading."""
    rng = np.random.default_rng(seed)
    d = np.arange(DAYS)
    true1 = 60_000 * (1 + 0.05 * np.sin(d / 3)) * (1 + 0.003 * rng.standard_normal(DAYS))
    true2 = 40_000 * (1 + 0.05 * np.cos(d / 4)) * (1 + 0.003 * rng.standard_normal(DAYS))
    true_p = (true1 + true2) * 1.02 * (1 + 0.002 * rng.standard_normal(DAYS))
    one = true1 * (c1 if c1 is not None else 1.0)
    par = true_p * (parent if parent is not None else 1.0)
    return {P: list(par), C1: list(one), C2: list(true2)}


RAMP = 1 + 0.08 * np.arange(DAYS) / (DAYS - 1)  # reads 8 % higher by the last day, gradually
STEP = np.where(np.arange(DAYS) >= 10, 1.08, 1.0)  # 8 % higher from day 10 on, at once


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_clean_group_shows_no_drift(seed: int) -> None:
    assert group_drift(P, _group(seed), {P: 0.5, C1: 1.0, C2: 1.0}, SETTINGS) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_drifting_child_is_named_against_its_parent_and_sibling(seed: int) -> None:
    found = group_drift(P, _group(seed, c1=RAMP), {P: 0.5, C1: 1.0, C2: 1.0}, SETTINGS)
    assert found is not None and found.meter_id == C1 and found.attributed
    # C1 is 60 % of the children: Σ children / parent rises by about 0.6 × 8 % = 4.8 %
    assert found.drift_fraction == pytest.approx(0.6 * 0.08, abs=0.01)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_drifting_parent_is_named_when_the_shares_stay(seed: int) -> None:
    found = group_drift(P, _group(seed, parent=RAMP), {P: 0.5, C1: 1.0, C2: 1.0}, SETTINGS)
    assert found is not None and found.meter_id == P and found.attributed
    assert found.drift_fraction == pytest.approx(1 / 1.08 - 1, abs=0.01)  # ratio falls 7.4 %


def test_a_step_is_not_a_drift() -> None:
    """A sudden 8 % scaling is verification's ratio shift, not a metering drift."""
    assert group_drift(P, _group(5, c1=STEP), {P: 0.5, C1: 1.0, C2: 1.0}, SETTINGS) is None


def test_with_one_child_the_event_names_the_parent_unattributed() -> None:
    group = _group(6, c1=RAMP)
    del group[C2]
    found = group_drift(P, group, {P: 0.5, C1: 1.0}, SETTINGS)
    assert found is not None and found.meter_id == P and not found.attributed


def test_coarse_accuracy_classes_widen_the_tolerance() -> None:
    small = 1 + 0.03 * np.arange(DAYS) / (DAYS - 1)  # 3 % on C1: ρ moves 1.8 %
    group = _group(7, c1=small)
    assert group_drift(P, group, {P: 0.5, C1: 0.5, C2: 0.5}, DriftSettings(min_fraction=0.01))
    # classes 2 and 2: sqrt(2² + 2²) = 2.8 % > the 1.8 % change: within what the meters allow
    assert (
        group_drift(P, group, {P: 2.0, C1: 2.0, C2: 2.0}, DriftSettings(min_fraction=0.01)) is None
    )
    assert (accuracy_percent("0.5S"), accuracy_percent("2"), accuracy_percent(None)) == (
        0.5,
        2.0,
        None,
    )


def test_too_few_complete_days_say_nothing() -> None:
    group = {k: v[: SETTINGS.min_days - 1] for k, v in _group(8, c1=RAMP).items()}
    assert group_drift(P, group, {}, SETTINGS) is None


def test_drift_through_enterprise_operation(session: Session, tmp_path: Path) -> None:
    """Hourly readings of a parent and two sub-meters through the importer and rollups: the
    drifting sub-meter is one ``metering.operation.drift`` event with its evidence."""
    ent = load_registry(session)
    meters = tmp_path / "meters.csv"
    meters.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,parent_meter_code,measurement,"
        "unit_of_measure,accuracy_class\n"
        f"D-P,{JINAN},,steam,entry,,interval,t,1.0\n"
        f"D-C1,{JINAN},CL1,steam,sub_unit,D-P,interval,t,2\n"
        f"D-C2,{JINAN},CL1,steam,sub_unit,D-P,interval,t,2\n",
        encoding="utf-8",
    )
    import_registry(session, meters)
    group = _group(9, c1=RAMP)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    rows = []
    for h in range(DAYS * 24):
        ts = start + timedelta(hours=h + 1)  # an interval reading closes its hour
        for code, key in (("D-P", P), ("D-C1", C1), ("D-C2", C2)):
            rows.append(RawReading(code, ts, round(group[key][h // 24] / 24 / 1000, 4), "t"))
    result = ingest_readings(
        session, rows, "file", "test", now=datetime(2025, 4, 1, tzinfo=UTC), policy=POLICY
    )
    assert not result.rejected
    end = start + timedelta(days=DAYS)
    op = enterprise_operation(session, [ent.id], start, end)[ent.id]
    drifts = [e for e in op.events if e.code == DRIFT]
    assert [e.meter_code for e in drifts] == ["D-C1"]
    ev = drifts[0].evidence
    assert ev["attributed"] == 1.0 and ev["ratio_end"] > ev["ratio_start"]
    assert ev["tolerance_fraction"] == pytest.approx(np.hypot(1.0, 2.0) / 100)
    assert ev["days"] >= SETTINGS.min_days
