"""A meter held flat below its own at-load level while its process ran at load (issue 12):
the clip is the finding (verify.meter.capped), not a stuck sensor, and another meter of the
same unit is not blamed for a drop over the days the clipped meter cannot show; a sensor stuck
on one of its own at-load readings stays a stuck sensor."""

from __future__ import annotations

import numpy as np
from kiln_line import accusing, line_context
from peer_plants import HOURS, WINDOW

from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext

DAY = 24


def _line(
    *,
    coal: str = "",
    days: tuple[int, int] = (8, 25),
    busy: tuple[int, int] | None = None,
    quiet: tuple[int, int] | None = None,
    seed: int = 11,
) -> EnterpriseContext:
    """One kiln line with a product meter, its electricity and its coal meter. ``busy``: days
    [a, b) at a fifth more output (the fixed part of the electricity, a third of it, is
    spread over more product: its energy per product falls while every meter reads right).
    ``quiet``: days [a, b) with a fifth of the fixed electricity (auxiliaries) off: the
    electricity per product falls by about 6.6 %, the coal's does not.
    ``coal``: ``capped`` limits the coal meter to 0.9 x its usual at-load reading from day 8
    to day 25 (held flat: the load never falls below the cap), ``stuck`` repeats its reading
    at the start of day 8 to day 25, ``frozen_in_a_dip`` repeats there the reading of the
    last of three hours in which the line slowed down (to 0.75, 0.65, 0.55 of its load) before
    day 8, ``standby``: the line stopped over those days, its coal meter holding a standby
    flow. ``days`` moves the coal meter's days."""
    rng = np.random.default_rng(seed)
    load = 0.85 * (1 + 0.01 * rng.standard_normal(HOURS))
    if coal == "frozen_in_a_dip":
        load[days[0] * DAY - 2 : days[0] * DAY + 1] *= np.array([0.75, 0.65, 0.55]) / 0.85
    if busy is not None:
        load[busy[0] * DAY : busy[1] * DAY] *= 1.2
    output = 150.0 * load
    usual = 150.0 * 0.85
    fixed = np.full(HOURS, 0.33 * usual)
    if quiet is not None:
        fixed[quiet[0] * DAY : quiet[1] * DAY] *= 0.8
    electricity = 60.0 * (0.67 * output + fixed) * (1 + 0.003 * rng.standard_normal(HOURS))
    fuel = 0.14 * output * (1 + 0.003 * rng.standard_normal(HOURS))
    run = slice(days[0] * DAY, days[1] * DAY)
    if coal == "capped":
        fuel[run] = np.minimum(fuel[run], 0.9 * float(np.median(fuel)))
    elif coal == "stuck":
        fuel[run] = fuel[days[0] * DAY]
    elif coal == "frozen_in_a_dip":
        fuel[run] = fuel[days[0] * DAY]
    elif coal == "standby":  # the line stopped: the coal feeder's standby flow, held flat
        output[run] *= 0.02
        electricity[run] *= 0.3
        fuel[run] = 0.5
    return line_context(output, electricity, fuel)


def test_a_meter_held_flat_below_its_at_load_level_is_capped_not_stuck() -> None:
    """Limited to 0.9 x its usual reading from day 4 to day 27 while the line ran at load:
    one flat run (the load never fell below the cap), which the ceiling search leaves alone.
    Its value lies below every at-load reading of its other days: a clip (integrity), not a
    stuck sensor (its own drop in energy per product stays beside it)."""
    ctx = _line(coal="capped", days=(3, 27))
    found = accusing(ctx)
    assert ("verify.meter.capped", "L1-COAL") in found
    assert ("verify.timeseries.stuck", "L1-COAL") not in found
    assert {meter for _, meter in found} == {"L1-COAL"}
    capped = next(f for f in run_checks(ctx) if f.rule_code == "verify.meter.capped")
    assert capped.evidence["share_of_load_readings_below"] == 0.0
    assert capped.magnitude_fraction is not None
    assert 0.08 < capped.magnitude_fraction < 0.12  # about a tenth of its usual reading not metered
    assert capped.start_at <= WINDOW.day_start(3) and capped.end_at >= WINDOW.day_start(27)
    assert "held at" in capped.message


def test_a_flat_run_is_a_cap_only_below_the_meters_at_load_level_at_load() -> None:
    """The same run is a stuck sensor when it repeats one of the meter's own at-load readings
    (its first of day 4) and no finding when the line stopped (the references were not at
    load: a standby flow held flat hides nothing, here days 11-14); the cap is found when an
    electricity drop of the line (auxiliaries off on days 13-18) hides the coal's own drop
    (both drop over the same days: a common cause, neither put on its meter)."""
    assert accusing(_line(coal="stuck", days=(3, 27))) == [("verify.timeseries.stuck", "L1-COAL")]
    standby = accusing(_line(coal="standby", days=(10, 14)))
    assert ("verify.meter.capped", "L1-COAL") not in standby
    both = accusing(_line(coal="capped", days=(3, 27), quiet=(12, 18)))
    assert ("verify.meter.capped", "L1-COAL") in both
    assert ("verify.timeseries.stuck", "L1-COAL") not in both


def test_a_sensor_frozen_on_a_reading_of_a_slow_hour_is_stuck_not_capped() -> None:
    """The coal meter repeats the reading of the slowest of three hours in which the line
    slowed down, then over two days at full load: its value lies below every at-load reading
    of its other days, as a clip's would, but it stepped down to it in step with the output
    from a higher reading (a clip in force before would have held that reading at the value,
    one switched on then would have stepped down further). A frozen sensor: a stuck meter
    (monitoring), its drop in energy per product informational; the same days clipped at
    the value from a reading the output does not explain stay capped."""
    frozen = _line(coal="frozen_in_a_dip", days=(8, 10))
    assert accusing(frozen) == [("verify.timeseries.stuck", "L1-COAL")]
    drop = [f for f in run_checks(frozen) if f.rule_code == "verify.meter.intensity_drop"]
    assert drop and all(f.severity == "info" for f in drop)
    fuel = frozen.meters[3].qty.copy()
    run = slice(8 * DAY, 10 * DAY)
    fuel[run] = 0.9 * fuel[run.start]  # switched on at the run's start, a tenth below
    clipped = line_context(frozen.meters[1].qty, frozen.meters[2].qty, fuel)
    assert ("verify.meter.capped", "L1-COAL") in accusing(clipped)


def test_clean_line() -> None:
    assert accusing(_line()) == []
