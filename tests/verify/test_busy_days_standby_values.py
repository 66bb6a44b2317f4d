"""Two clean behaviours of a process that read as meter faults (issue 12): busy days spread a
process's fixed consumption over more output (its energy per product falls while every meter
reads right: no verify.meter.intensity_drop), and a standby value repeated through an outage
is no ceiling (no verify.meter.capped); a meter reading low over the same busy days, or
clipped from mid-month while its line ran at load, is still found."""

from __future__ import annotations

import numpy as np
from kiln_line import accusing, line_context
from peer_plants import HOURS

from kilnwatch.verify.checks import run_checks
from kilnwatch.verify.context import EnterpriseContext

DAY = 24


def _line(
    *,
    busy: tuple[int, int] | None = None,
    low: tuple[int, int] | None = None,
    outage: tuple[int, int] | None = None,
    coal_cap_from: int | None = None,
    cap_fraction: float = 1.0,
    quiet: tuple[int, int] | None = None,
    product_stuck: tuple[int, int] | None = None,
    dips: int = 0,
    seed: int = 5,
) -> EnterpriseContext:
    """One kiln line: product meter, electricity (a third of it fixed at the usual load) and
    coal. ``busy``: days [a, b) at a fifth more output; ``low``: days [a, b) on which the
    electricity meter reads 10 % low. ``outage``: hours [a, b) stopped, the electricity
    meter reading a standby flow of 64 kWh, now and then a little less (a pump cycling: 63.8
    and 58 kWh once in nine hours each).
    ``coal_cap_from``: the coal meter limited to ``cap_fraction`` of its median reading from
    that day on.
    ``quiet``: days [a, b) with a fifth of the fixed electricity (auxiliaries) off.
    ``product_stuck``: hours [a, b) on which the product meter repeats a busy hour's reading
    (1.15 x the usual output). ``dips``: on that many days from day 2 on, every other day,
    the line slows to 0.6 of its load for four hours (every meter follows)."""
    rng = np.random.default_rng(seed)
    load = 0.85 * (1 + 0.03 * rng.standard_normal(HOURS))
    if busy is not None:
        load[busy[0] * DAY : busy[1] * DAY] *= 1.2
    for d in range(dips):
        load[(2 + 2 * d) * DAY + 10 : (2 + 2 * d) * DAY + 14] *= 0.6
    output = 150.0 * load
    fixed = np.full(HOURS, 0.33 * 150.0 * 0.85)
    if quiet is not None:
        fixed[quiet[0] * DAY : quiet[1] * DAY] *= 0.8
    electricity = 60.0 * (0.67 * output + fixed) * (1 + 0.003 * rng.standard_normal(HOURS))
    fuel = 0.14 * output * (1 + 0.003 * rng.standard_normal(HOURS))
    if low is not None:
        electricity[low[0] * DAY : low[1] * DAY] *= 0.9
    if outage is not None:
        stop = slice(*outage)
        output[stop] = 0.0
        fuel[stop] = 0.0
        cycle = np.array([64.0] * 7 + [63.8, 58.0])[np.arange(outage[1] - outage[0]) % 9]
        electricity[stop] = cycle
    if product_stuck is not None:
        output[slice(*product_stuck)] = 1.15 * 150.0 * 0.85
    if coal_cap_from is not None:
        fuel[coal_cap_from * DAY :] = np.minimum(
            fuel[coal_cap_from * DAY :], cap_fraction * np.median(fuel)
        )
    return line_context(output, electricity, fuel)


def test_busy_days_are_no_intensity_drop() -> None:
    """A fifth more output over ten days lowers the electricity per product by about 5 %
    (its fixed third spread over more product); the fixed + variable model of the meter
    predicts it: no finding, wherever the busy days lie."""
    for busy in ((10, 20), (20, 31), (2, 9)):
        assert accusing(_line(busy=busy)) == [], busy


def test_a_meter_reading_low_in_a_month_with_busy_days_is_still_found() -> None:
    """Busy days at the month's end, the electricity meter reading 10 % low over a week at the
    usual output: the model predicts that week's consumption from its output as on any other
    day, and the drop stays that meter's finding. (A meter reading low over the busy days
    themselves by about what the fixed part explains cannot be told from them on daily data.)"""
    found = accusing(_line(busy=(22, 31), low=(5, 12)))
    assert ("verify.meter.intensity_drop", "L1-KWH") in found


def test_a_standby_value_repeated_through_an_outage_is_no_ceiling() -> None:
    """Stopped for a day and a half, the electricity meter repeats its standby flow (64 kWh,
    a little less now and then): its most repeated value, lying on days the product meter was
    not at load, hides nothing."""
    found = accusing(_line(outage=(14 * DAY + 12, 16 * DAY)))
    assert ("verify.meter.capped", "L1-KWH") not in found


def test_a_meter_clipped_from_mid_month_beside_an_outage_is_capped() -> None:
    """The coal meter limited to its median reading from day 18 on, the line having stopped
    for a day and a half before: the ceiling lies on days at load and is found."""
    found = accusing(_line(outage=(4 * DAY + 12, 6 * DAY), coal_cap_from=18))
    assert ("verify.meter.capped", "L1-COAL") in found
    assert ("verify.meter.capped", "L1-KWH") not in found


def test_a_drop_beside_a_clipped_carrier_of_the_unit_is_info() -> None:
    """The coal meter clipped at its median from day 16 while a fifth of the line's fixed
    electricity is off from day 20 to 26 (its energy per product about 6.6 % lower, every
    electricity reading right): the clip is the unit's finding, the electricity's drop is
    kept as info beside it, not charged to the electricity meter."""
    ctx = _line(coal_cap_from=16, quiet=(20, 26))
    found = accusing(ctx)
    assert ("verify.meter.capped", "L1-COAL") in found
    assert ("verify.meter.intensity_drop", "L1-KWH") not in found
    kept = [f for f in run_checks(ctx) if f.rule_code == "verify.meter.intensity_drop"]
    assert [f.severity for f in kept if "L1-KWH" in f.message] == ["info"]


def test_a_meter_clipped_at_its_usual_level_from_mid_month_is_capped() -> None:
    """Limited to its median reading from day 16: as many readings lie just below the value
    as at it (no pile-up), but the line's output ran higher in the hours at the value than in
    the hours below it: a ceiling (not a sensor stuck now and then)."""
    found = accusing(_line(coal_cap_from=16))
    assert ("verify.meter.capped", "L1-COAL") in found
    assert ("verify.timeseries.stuck", "L1-COAL") not in found


def test_a_drop_while_the_product_meter_repeats_a_busy_reading_is_info() -> None:
    """The product meter repeats a busy hour's reading for two days: the coal and electricity
    per product drop over them while both meters read right; the stuck product meter is the
    finding, the drops are kept as info (explained by it)."""
    ctx = _line(product_stuck=(12 * DAY, 14 * DAY))
    found = accusing(ctx)
    assert ("verify.meter.intensity_drop", "L1-COAL") not in found
    assert ("verify.meter.intensity_drop", "L1-KWH") not in found
    assert ("verify.timeseries.stuck", "L1-OUT") in found


def test_a_meter_held_below_its_load_from_mid_month_beside_slow_hours_is_capped() -> None:
    """Limited to 0.87 x its median from day 16 (one flat run: the load never fell that low
    afterwards), the line having slowed for four hours on seven earlier days: those hours
    read below the cap without any fault (more than 1 % of its at-load readings), but at
    every hour the product meter ran as high as during the run the coal meter read above it:
    a clip, not a stuck sensor."""
    found = accusing(_line(coal_cap_from=16, cap_fraction=0.87, dips=7))
    assert ("verify.meter.capped", "L1-COAL") in found
    assert accusing(_line(dips=7)) == []
