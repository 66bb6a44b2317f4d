"""A line without a product meter judges its coal by its electricity (issue 12): over a slow
week the electricity's fixed part (a third of it at full load) weighs more, so the coal per
kWh falls while every meter reads right. Against electricity the coal's fixed + variable
relation has a negative intercept (coal ∝ output, electricity = fixed + variable): no
verify.meter.intensity_drop; a coal meter reading 8 % low over the same week is still found."""

from __future__ import annotations

import numpy as np
from kiln_line import accusing, carriers_context
from peer_plants import HOURS

from kilnwatch.verify.context import EnterpriseContext

DAY = 24


def _line(*, coal_low: float = 0.0, seed: int = 7) -> EnterpriseContext:
    """Output with a daily cycle of ±15 % and 1 % noise, at 0.75 of its load on days 6-12
    and 27-28; electricity 0.33 fixed + 0.67 proportional at full load, coal proportional.
    ``coal_low``: the coal meter reads that fraction low on days 6-12."""
    rng = np.random.default_rng(seed)
    hour = np.arange(HOURS)
    load = (
        0.85 * (1 + 0.15 * np.sin(2 * np.pi * hour / DAY)) * (1 + 0.01 * rng.standard_normal(HOURS))
    )
    slow = np.zeros(HOURS, dtype=bool)
    slow[5 * DAY : 12 * DAY] = slow[26 * DAY : 28 * DAY] = True
    load[slow] *= 0.75
    output = 150.0 * load
    electricity = (
        60.0 * (0.67 * output + 0.33 * 150.0 * 0.85) * (1 + 0.003 * rng.standard_normal(HOURS))
    )
    fuel = 0.14 * output * (1 + 0.003 * rng.standard_normal(HOURS))
    fuel[5 * DAY : 12 * DAY] *= 1.0 - coal_low
    return carriers_context(electricity, fuel)


def test_a_slow_week_is_no_drop_of_the_coal_per_kwh() -> None:
    assert accusing(_line()) == []


def test_a_coal_meter_reading_low_over_the_slow_week_is_found() -> None:
    found = accusing(_line(coal_low=0.08))
    assert ("verify.meter.intensity_drop", "L1-COAL") in found
