"""Meters judged against the process's other carriers when no product meter exists (issue 12):
a sub-meter reading low is told from a load behind its parent, part-load days are not
compared, and a counter's gap does not move a day's quantity into the next day."""

from __future__ import annotations

import numpy as np
from peer_plants import hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext, PeriodWindow, Sources, build_context
from kilnwatch.verify.settings import verify_settings
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
HOURS = 31 * 24
DAY = 24


def _series(values: np.ndarray, counter: bool, keep: np.ndarray | None = None) -> Series:
    return hourly_series(values, counter=counter, lag_s=600, keep=keep)


def _meter(i: int, code: str, carrier: str, level: str, **kw: object) -> MeterInfo:
    parent = kw.get("parent")
    unit = kw.get("unit")
    measurement = str(kw.get("measurement", "interval"))
    uom = "t" if carrier == "raw_coal" else "kWh"
    return MeterInfo(i, code, 1, unit, carrier, level, parent, measurement, uom, 0.5, None)  # type: ignore[arg-type]


def _plant(
    *,
    child_scale: float = 1.0,
    coal_scale: float = 1.0,
    extra_load: float = 0.0,
    part_load: bool = False,
    grid_gap: bool = False,
    coal_flat: str = "",
    coal_step_t: float = 0.0,
    grid_scale: float = 1.0,
    seed: int = 3,
) -> EnterpriseContext:
    """One clinker line without a product meter: grid entry meter (a counter) > line
    sub-meter, and an entry coal meter. From day 12 the sub-meter reads ``child_scale`` of
    the truth, or a load of ``extra_load`` x the line's use runs behind the grid meter."""
    rng = np.random.default_rng(seed)
    load = 0.85 * (1 + 0.02 * rng.standard_normal(HOURS))
    if part_load:
        load[9 * DAY + 7 : 18 * DAY + 5] *= 0.6  # production control, starting mid-day
    output = 200.0 * load
    idle = 0.08 * 58 * 200.0  # fixed electricity: pumps, lighting
    line = output * 58 * (1 + 0.005 * rng.standard_normal(HOURS)) + idle
    coal = output * 0.15 * (1 + 0.005 * rng.standard_normal(HOURS))
    grid = line * 1.02
    grid[11 * DAY :] += extra_load * line[11 * DAY :]
    grid[9 * DAY :] *= grid_scale
    measured = line.copy()
    measured[11 * DAY :] *= child_scale
    coal[11 * DAY :] *= coal_scale
    if coal_flat == "capped":  # limited to 0.8 x its usual at-load reading from day 12
        coal[11 * DAY :] = np.minimum(coal[11 * DAY :], 0.8 * np.median(coal))
    elif coal_flat == "capped_days":  # limited to 0.97 x its median from day 12 to day 20
        part = slice(11 * DAY, 20 * DAY)
        coal[part] = np.minimum(coal[part], 0.97 * np.median(coal))
    elif coal_flat == "stuck":  # repeats its reading of hour 11 x 24 from then on
        coal[11 * DAY :] = coal[11 * DAY]
    elif coal_flat == "stuck_after_a_near_reading":  # the same value read once, 5 h before
        coal[11 * DAY :] = coal[11 * DAY]
        coal[11 * DAY - 5] = coal[11 * DAY]
        coal[11 * DAY - 4 : 11 * DAY] = 0.995 * coal[11 * DAY]
    if coal_step_t:  # read to that step (the cap itself too, as the meter reads it)
        coal = np.round(coal / coal_step_t) * coal_step_t
    keep = np.ones(HOURS + 1, dtype=bool)
    if grid_gap:
        keep[15 * DAY - 5 : 15 * DAY + 3] = False  # a counter gap across midnight
    unit = UnitInfo(1, "L1", 1, "cement_clinker_line", "clinker", "t")
    meters = (
        _meter(1, "GRID", "electricity", "entry", measurement="counter"),
        _meter(2, "L1-KWH", "electricity", "sub_unit", parent=1, unit=1),
        _meter(3, "COAL", "raw_coal", "entry"),
    )
    series = {
        1: _series(np.concatenate(([1e6], 1e6 + np.cumsum(grid))), True, keep),
        2: _series(measured, False),
        3: _series(coal, False),
    }
    info = EnterpriseInfo(1, "U1", "cement", meters, (unit,))
    return build_context(info, WINDOW, series, Sources(), verify_settings())


def _accusing(ctx: EnterpriseContext) -> list[tuple[str, str | None]]:
    codes = {m.info.id: m.info.code for m in ctx.meters.values()}
    return [
        (f.rule_code, codes.get(f.meter_id) if f.meter_id else None)
        for f in run_checks(ctx)
        if f.severity != "info"
    ]


def test_clean_plant_without_product_meter() -> None:
    assert _accusing(_plant()) == []


def test_sub_meter_reading_low_is_named_not_its_parent() -> None:
    """Against the coal meter the line's electricity drops while the grid meter's does not:
    the sub-meter reads low (a load behind the parent would leave the sub-meter unchanged)."""
    found = _accusing(_plant(child_scale=0.9))
    assert found and all(meter == "L1-KWH" for _, meter in found)


def test_entry_coal_meter_reading_low_against_electricity() -> None:
    found = _accusing(_plant(coal_scale=0.85))
    assert ("verify.meter.intensity_drop", "COAL") in found
    assert all(meter == "COAL" for _, meter in found if meter)


def test_load_behind_the_parent_stays_on_the_parent() -> None:
    found = _accusing(_plant(extra_load=0.1))
    assert found == [("verify.submeter.parent_exceeds_children", "GRID")]


def test_a_parent_slightly_below_its_sub_meters_from_day_ten_reads_low() -> None:
    """The grid meter reading 3.2 % low from day 10 (ratio 0.987, against 1.02 before): below
    its sub-meter by more than the two class 0.5 meters' combined error (0.71 %), though
    within three times it; the long side is the parent reading low, not the first nine days a
    load behind it."""
    found = _accusing(_plant(grid_scale=1 - 0.032))
    assert found == [("verify.submeter.parent_below_children", "GRID")]


def test_part_load_days_are_not_compared() -> None:
    """Production control: fixed electricity does not follow output, so coal per kWh falls
    on those days while every meter reads right."""
    assert _accusing(_plant(part_load=True)) == []


def test_a_counter_gap_across_midnight_is_not_a_shift() -> None:
    ctx = _plant(grid_gap=True)
    full = ctx.meters[1].full_days()
    assert not full[14] and not full[15]
    assert _accusing(ctx) == []


def test_a_flat_run_below_the_meters_at_load_level_hides_consumption() -> None:
    """A coal meter capped from day 12 sits at one value (one long run, flagged stuck); the
    electricity ran on, so its 20 % drop stays an integrity finding on it, not info."""
    ctx = _plant(coal_flat="capped")
    assert ("verify.meter.intensity_drop", "COAL") in _accusing(ctx)
    drop = next(f for f in run_checks(ctx) if f.rule_code == "verify.meter.intensity_drop")
    assert drop.evidence["share_of_load_readings_below"] == 0.0
    assert "flat run" in drop.message


def test_a_sensor_stuck_on_an_at_load_reading_is_monitoring_quality() -> None:
    """Stuck on one of its own at-load readings: the run is a monitoring-quality finding,
    a drop against the electricity (if any) is explained by it."""
    found = _accusing(_plant(coal_flat="stuck"))
    assert found == [("verify.timeseries.stuck", "COAL")]


def test_a_stuck_sensor_is_no_cap_for_one_earlier_reading_at_its_value() -> None:
    """One reading at the stuck value before the run, lower ones between: still one run."""
    found = _accusing(_plant(coal_flat="stuck_after_a_near_reading"))
    assert found == [("verify.timeseries.stuck", "COAL")]


def test_a_meter_capped_from_mid_month_is_capped() -> None:
    """Its month's maximum is from before the cap: the readings pile up at a lower ceiling,
    which the meter leaves for lower readings and returns to exactly (a stuck sensor would
    repeat one value in one run)."""
    ctx = _plant(coal_flat="capped_days")
    found = [f for f in run_checks(ctx) if f.rule_code == "verify.meter.capped"]
    assert [f.severity for f in found] == ["high"]
    assert found[0].start_at >= WINDOW.day_start(11) and found[0].end_at <= WINDOW.day_start(20)
    assert ("verify.timeseries.stuck", "COAL") not in _accusing(ctx)


def test_a_meter_read_to_coarse_steps_capped_from_mid_month_is_capped() -> None:
    """Read to 0.01 t at about 25 t an hour (steps of 4e-4 of the reading, coarser than
    ``relative_resolution_fraction``): the cap's step holds far more than the 25 steps of
    the percent below it, which rounding alone cannot pile up."""
    ctx = _plant(coal_flat="capped_days", coal_step_t=0.01)
    found = [f for f in run_checks(ctx) if f.rule_code == "verify.meter.capped"]
    assert [f.severity for f in found] == ["high"]
    assert found[0].start_at >= WINDOW.day_start(11) and found[0].end_at <= WINDOW.day_start(20)


def test_a_clean_meter_read_to_coarse_steps_is_no_capped_meter() -> None:
    """Steps of 4e-4 and 2e-3 of the reading (25 and 5 steps in the percent below a value)."""
    for step in (0.01, 0.05):
        found = run_checks(_plant(coal_step_t=step))
        assert [f for f in found if f.rule_code == "verify.meter.capped"] == []


def test_a_value_crossed_often_is_no_ceiling() -> None:
    """A stretch below the month's usual load, rounded to 0.1 t, repeats 639.0 more than any
    other value and never exceeds it; but the percent just below holds more readings than
    the value itself: no pile-up, no cap."""
    rng = np.random.default_rng(5)
    coal = np.round(700.0 * (1 + 0.03 * rng.standard_normal(HOURS)), 1)
    stretch = slice(10 * DAY, 14 * DAY)
    coal[stretch] = np.round(rng.uniform(632.7, 638.9, 4 * DAY), 1)
    coal[10 * DAY + 2 : 14 * DAY - 2 : 8] = 639.0  # 12 times, lower readings between
    m = _meter(3, "COAL", "raw_coal", "entry")
    unit = UnitInfo(1, "L1", 1, "cement_clinker_line", "clinker", "t")
    info = EnterpriseInfo(1, "U1", "cement", (m,), (unit,))
    ctx = build_context(info, WINDOW, {3: _series(coal, False)}, Sources(), verify_settings())
    assert [f for f in run_checks(ctx) if f.rule_code == "verify.meter.capped"] == []


def test_a_coarse_water_counter_is_no_capped_meter() -> None:
    """A water counter read to 0.1 m3 at about 0.8 m3/h repeats 0.8 most, under its early
    filling: its steps are coarser than the band below the value, and water is no energy."""
    rng = np.random.default_rng(7)
    flow = rng.choice([0.7, 0.8], HOURS, p=[0.2, 0.8])
    flow[: 5 * DAY] = np.round(rng.uniform(6.7, 8.4, 5 * DAY), 1)  # filling, early in the month
    register = np.round(1391498.4 + np.concatenate(([0.0], np.cumsum(flow))), 1)
    m = MeterInfo(4, "WTR", 1, None, "water", "entry", None, "counter", "m3", 2.5, None)
    unit = UnitInfo(1, "L1", 1, "cement_clinker_line", "clinker", "t")
    info = EnterpriseInfo(1, "U1", "cement", (m,), (unit,))
    ctx = build_context(info, WINDOW, {4: _series(register, True)}, Sources(), verify_settings())
    assert [f for f in run_checks(ctx) if f.rule_code == "verify.meter.capped"] == []
