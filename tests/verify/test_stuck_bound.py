"""A stuck meter explains a month comparison of its carrier only as far as its flat runs can
misstate the month (tuning sim base 71: a smoothed coal entry meter repeating a value for 2.5 h
turned coal reported 13.3 % below the meters into info)."""

from __future__ import annotations

from _verify_factory import MARCH, Plant, store
from sqlalchemy.orm import Session

from kilnwatch.verify.run import verify_period

UNDER = "verify.metered_vs_reported.energy_underreported"
STUCK = "verify.timeseries.stuck"


def _findings(session: Session, stuck_hours: int, reported: float) -> dict[str, str]:
    """Coal entry meter repeating one value for ``stuck_hours`` from the 10th; the statistics
    report ``reported`` times the metered coal."""
    plant = Plant()
    coal = plant.values["E-IN-COAL"]
    start = 9 * 24 + 6
    coal[start : start + stuck_hours + 1] = coal[start]
    plant.refresh_sources()
    plant.stats["energy:raw_coal"] *= reported
    store(session, plant)
    return {f.rule_code: f.severity for f in verify_period(session, MARCH).findings}


def test_a_short_flat_run_does_not_explain_a_large_underreport(session: Session) -> None:
    found = _findings(session, stuck_hours=3, reported=0.87)
    assert found[STUCK] != "info"
    assert found[UNDER] != "info"


def test_a_long_flat_run_explains_what_it_can_misstate(session: Session) -> None:
    """Five days repeating one value can misstate a sixth of the month: a 4 % gap is its."""
    found = _findings(session, stuck_hours=5 * 24, reported=0.96)
    assert found[STUCK] != "info"
    assert found[UNDER] == "info"
