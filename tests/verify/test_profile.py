"""Profile checks: an entry meter replaced by its daily moving average (issue 12, class 6)."""

from __future__ import annotations

import numpy as np
from _verify_factory import MARCH, Plant, store
from sqlalchemy.orm import Session

from kilnwatch.verify.detectors.profile import HOURS_PER_DAY, daily_roughness
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.run import verify_period

SMOOTHED = "verify.meter.smoothed"


def _moving_average(x: np.ndarray, hours: int = 24) -> np.ndarray:
    sums = np.concatenate(([0.0], np.cumsum(x)))
    end = np.arange(1, x.size + 1)
    first = np.maximum(end - hours, 0)
    return (sums[end] - sums[first]) / (end - first)


def _accusing(session: Session, plant: Plant) -> dict[str, Finding]:
    """Store the plant, verify March and return its non-info findings by rule code."""
    plant.refresh_sources()
    store(session, plant)
    findings = verify_period(session, MARCH).findings
    return {f.rule_code: f for f in findings if f.severity != "info"}


def test_roughness_of_a_moving_average_is_a_small_share_of_the_series() -> None:
    rng = np.random.default_rng(3)
    x = 100 * (1 + 0.05 * np.sin(np.arange(240) * 2 * np.pi / 24)) + rng.normal(0, 2, 240)
    raw = daily_roughness(x, np.ones(240, dtype=bool))
    smooth = daily_roughness(_moving_average(x), np.ones(240, dtype=bool))
    assert (smooth[1:] < 0.25 * raw[1:]).all()
    incomplete = np.ones(240, dtype=bool)
    incomplete[30] = False
    assert np.isnan(daily_roughness(x, incomplete)[1])


def test_roughness_leaves_out_the_hours_of_flat_runs() -> None:
    """A value repeated for ten hours is a stuck sensor: its zero changes would bring the
    day's median change near zero; left out, the day keeps its variability, and a day left
    with fewer than half its changes has no figure."""
    rng = np.random.default_rng(5)
    x = 100 + rng.normal(0, 2, 240)
    complete = np.ones(240, dtype=bool)
    flat = np.zeros(240, dtype=bool)
    x[30:41] = x[30]  # day 1: eleven equal readings, ten flat hours
    flat[31:41] = True
    x[48 + 2 : 48 + 16] = x[48 + 2]  # day 2: thirteen flat hours
    flat[48 + 3 : 48 + 16] = True
    raw = daily_roughness(x, complete)
    judged = daily_roughness(x, complete, flat)
    normal = np.median(raw[3:])
    assert raw[1] < 0.5 * normal  # what the stuck run did to the day
    assert 0.6 * normal < judged[1] < 1.6 * normal
    assert np.isnan(judged[2])
    assert np.allclose(judged[3:], raw[3:])
    assert judged.size == 240 // HOURS_PER_DAY


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
    and then: its other hours are still smoothed (the flat runs' hours are left out of the
    variability, they do not explain three weeks of smoothing)."""
    plant = Plant()
    coal = plant.values["E-IN-COAL"]
    coal[240:] = _moving_average(coal)[240:]
    for start in range(252, 252 + 25 * 12, 12):  # 25 flat runs of three hours, two a day
        coal[start : start + 4] = coal[start]
    accusing = _accusing(session, plant)
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
    accusing = _accusing(session, plant)
    assert "verify.timeseries.stuck" in accusing
    assert SMOOTHED not in accusing


def test_a_stuck_sensor_for_part_of_three_days_is_not_a_smoothed_meter(
    session: Session,
) -> None:
    """Ten flat hours on each of three days (under half of each day) are the stuck finding:
    the rest of those days moves as usual, so the meter is not smoothed against its own
    other days (a sub-unit meter without sub-meters)."""
    plant = Plant()
    coal = plant.values["E-K1-COAL"]
    for day in (12, 13, 14):
        start = day * 24 + 6
        coal[start : start + 11] = coal[start]
    accusing = _accusing(session, plant)
    assert "verify.timeseries.stuck" in accusing
    assert SMOOTHED not in accusing


def test_a_unit_stopped_for_most_of_the_month_is_not_a_smoothed_meter(session: Session) -> None:
    """Seventeen days stopped (no output, no coal, the equipment at a steady standby load):
    the meters' own median day is then a standby day, so every day counts "at load" by the
    meter alone; the product meter says the process was not running, and standby days are not
    judged (tuning sim plain 26, E0026-U01-ELE-EQ1/EQ2)."""
    plant = Plant()
    stop = slice(0, 17 * HOURS_PER_DAY)
    rng = np.random.default_rng(2)
    for code in ("E-K1-OUT", "E-IN-COAL", "E-K1-COAL"):
        plant.values[code][stop] = 0.0
    for code in ("E-IN-ELE", "E-K1-ELE", "E-K1-ELE-EQ1", "E-K1-ELE-EQ2"):
        standby = 0.08 * float(np.median(plant.values[code]))
        plant.values[code][stop] = standby * (1 + 0.0005 * rng.standard_normal(17 * 24))
    assert SMOOTHED not in _accusing(session, plant)


def test_a_smoothing_begun_just_before_an_outage_explains_the_ratio_over_it(
    session: Session,
) -> None:
    """The average starts on the 14th at 13:00 and runs on through a stop from the 14th at
    16:00 to the 17th: the stop's days are not judged (not at load), nor the 18th (the average
    still climbing back), so the smoothed days found begin on the 19th; but the smoothing may
    have begun on any of the days not judged (earliest_onset): the entry meter's "rise" over
    its sub-meters during the stop is the average smearing the stop (tuning alt base 103,
    A020-GRID "+125 %")."""
    plant = Plant()
    stop = slice(13 * HOURS_PER_DAY + 16, 17 * HOURS_PER_DAY)
    for code in plant.values:
        if code != "E-K1-S1-SO2":
            plant.values[code][stop] *= 0.02
    entry = plant.values["E-IN-ELE"]
    begin = 13 * HOURS_PER_DAY + 13
    entry[begin:] = _moving_average(entry)[begin:]
    accusing = _accusing(session, plant)
    assert list(accusing) == [SMOOTHED]
    assert accusing[SMOOTHED].evidence["from"].startswith("2025-03-19")
    assert accusing[SMOOTHED].evidence["earliest_onset"].startswith("2025-03-14")
