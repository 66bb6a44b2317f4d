"""Profile checks: an entry meter replaced by its daily moving average (issue 12, class 6)."""

from __future__ import annotations

import numpy as np
from _verify_factory import MARCH, Plant, store
from sqlalchemy.orm import Session

from kilnwatch.verify.detectors.profile import daily_roughness
from kilnwatch.verify.run import verify_period

SMOOTHED = "verify.meter.smoothed"


def _moving_average(x: np.ndarray, hours: int = 24) -> np.ndarray:
    sums = np.concatenate(([0.0], np.cumsum(x)))
    end = np.arange(1, x.size + 1)
    first = np.maximum(end - hours, 0)
    return (sums[end] - sums[first]) / (end - first)


def test_roughness_of_a_moving_average_is_a_small_share_of_the_series() -> None:
    rng = np.random.default_rng(3)
    x = 100 * (1 + 0.05 * np.sin(np.arange(240) * 2 * np.pi / 24)) + rng.normal(0, 2, 240)
    raw = daily_roughness(x, np.ones(240, dtype=bool))
    smooth = daily_roughness(_moving_average(x), np.ones(240, dtype=bool))
    assert (smooth[1:] < 0.25 * raw[1:]).all()
    incomplete = np.ones(240, dtype=bool)
    incomplete[30] = False
    assert np.isnan(daily_roughness(x, incomplete)[1])


def test_a_smoothed_entry_meter_is_reported_as_such(session: Session) -> None:
    plant = Plant()
    entry = plant.values["E-IN-ELE"]
    entry[240:] = _moving_average(entry)[240:]  # from day 11 on: totals kept, noise gone
    plant.refresh_sources()
    store(session, plant)
    found = [f for f in verify_period(session, MARCH).findings if f.severity != "info"]
    assert [f.rule_code for f in found] == [SMOOTHED]
    assert found[0].evidence["basis"] == "sub_meters"
    assert found[0].evidence["from"].startswith("2025-03-11")
    assert found[0].evidence["smoothed_days"] >= 19


def test_a_smoothed_meter_across_an_outage_is_not_an_undeclared_load(session: Session) -> None:
    """The average keeps the meter "running" into an outage its sub-meters see: the ratio
    rise is the smoothing, kept as info."""
    plant = Plant()
    for code in plant.values:
        if code != "E-K1-S1-SO2":
            plant.values[code][400:448] *= 0.02  # a two-day stop
    entry = plant.values["E-IN-ELE"]
    entry[:] = _moving_average(entry)
    plant.refresh_sources()
    store(session, plant)
    findings = verify_period(session, MARCH).findings
    accusing = [f.rule_code for f in findings if f.severity != "info"]
    assert accusing == [SMOOTHED]
    ratio = [f for f in findings if f.rule_code.startswith("verify.submeter.")]
    assert ratio and all("explained by a smoothed meter" in f.message for f in ratio)


def test_a_smoothed_meter_with_a_few_flat_hours_is_still_smoothed(session: Session) -> None:
    """A moving average drawn at the meter's resolution repeats a value for a few hours now
    and then: flat runs explain a day only when they cover half of it (the day's variability
    is the median of its hourly changes), not three weeks of smoothing; every run counts,
    more than the stuck evidence lists."""
    plant = Plant()
    coal = plant.values["E-IN-COAL"]
    coal[240:] = _moving_average(coal)[240:]
    for start in range(252, 252 + 25 * 12, 12):  # 25 flat runs of three hours, two a day
        coal[start : start + 4] = coal[start]
    plant.refresh_sources()
    store(session, plant)
    findings = verify_period(session, MARCH).findings
    accusing = {f.rule_code: f for f in findings if f.severity != "info"}
    assert "verify.timeseries.stuck" in accusing
    assert SMOOTHED in accusing
    assert accusing[SMOOTHED].evidence["smoothed_days"] >= 19


def test_a_meter_flat_on_its_smoothed_days_is_explained_by_the_flat_runs(
    session: Session,
) -> None:
    """Days a stuck sensor flattens are the stuck finding's, not a smoothing of their own."""
    plant = Plant()
    coal = plant.values["E-IN-COAL"]
    for day in (12, 13, 14):
        coal[day * 24 : day * 24 + 24] = coal[day * 24]  # stuck on one value all day
    plant.refresh_sources()
    store(session, plant)
    findings = verify_period(session, MARCH).findings
    accusing = [f.rule_code for f in findings if f.severity != "info"]
    assert "verify.timeseries.stuck" in accusing
    assert SMOOTHED not in accusing
