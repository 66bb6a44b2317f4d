"""The shift search reports a short anomaly at a month's end, not its 29-day complement
(issue 12, class 6)."""

from __future__ import annotations

import numpy as np
import pytest

from kilnwatch.verify.detectors.balance import oriented_by_losses
from kilnwatch.verify.detectors.shift import is_level, level_shift

TOLERANCE = 0.021  # meters' accuracy of a parent and its sub-meters (0.5 class, x3)


def _ratio(seed: int) -> np.ndarray:
    return 1.03 * (1 + 0.002 * np.random.default_rng(seed).standard_normal(31))


@pytest.mark.parametrize("drop", [0.95, 0.88])
def test_a_one_day_drop_on_the_last_day_stays_short(drop: float) -> None:
    x = _ratio(1)
    x[30] *= drop
    shift = level_shift(x, 2, 6, 0.02, "short")
    assert shift is not None
    shift = oriented_by_losses(x, shift, TOLERANCE)
    assert (shift.start_day, shift.end_day) == (29, 31) and shift.change_fraction < 0


def test_a_lasting_change_from_day_two_is_still_the_long_side() -> None:
    x = _ratio(2)
    x[2:] *= 1.05  # a sub-meter reading 5 % low from day 3 on
    shift = level_shift(x, 2, 6, 0.02, "short")
    assert shift is not None
    shift = oriented_by_losses(x, shift, TOLERANCE)
    assert (shift.start_day, shift.end_day) == (2, 31) and shift.change_fraction > 0.04


def test_is_level() -> None:
    x = _ratio(3)
    assert not is_level(np.r_[x[:29], x[29], x[30] * 0.9], (29, 31), (0, 29))
    assert is_level(np.r_[x[:2] * 0.95, x[2:]], (0, 2), (2, 31))


def test_a_change_from_early_on_day_two_keeps_the_long_side() -> None:
    """Day 1 normal, day 2 mostly changed (the fault began at 03:00): the start side is no
    level of its own, yet it is the reference of a lasting change, not a month-start blip."""
    x = _ratio(4)
    x[1:] *= 1.058
    x[1] = x[0] * (1 + 0.058 * 21 / 24)
    shift = level_shift(x, 2, 6, 0.02, "short")
    assert shift is not None
    shift = oriented_by_losses(x, shift, TOLERANCE)
    assert (shift.start_day, shift.end_day) == (2, 31) and shift.change_fraction > 0.03


def test_a_gap_on_the_first_day_does_not_make_the_start_an_inside_window() -> None:
    """The parent reads 27 % low from day 7 and day 1 has no comparable data (a gap): days
    2-6 are the start of the month, and the side below its sub-meters is the abnormal one."""
    x = _ratio(5)
    x[6:] *= 0.73
    x[0] = np.nan
    shift = level_shift(x, 2, 6, 0.02, "short")
    assert shift is not None
    shift = oriented_by_losses(x, shift, TOLERANCE)
    assert (shift.start_day, shift.end_day) == (6, 31) and shift.change_fraction < -0.2


def test_a_parent_slightly_below_its_sub_meters_over_most_of_the_month_is_abnormal() -> None:
    """Losses of 1.9 %, the parent reading 3.2 % low from day 10 (ratio 0.986): within three
    times the pair's maximum permissible error of 1 but beyond the error itself (0.71 % for
    two class 0.5 meters), so the long side below its sub-meters is the abnormal one, not a
    load behind the parent over the first nine days (tuning sim base 113, E0024-IN-ELE)."""
    x = 1.019 * (1 + 0.001 * np.random.default_rng(6).standard_normal(31))
    x[9:] *= 1 - 0.032
    shift = level_shift(x, 2, 6, 0.02, "short")
    assert shift is not None and (shift.start_day, shift.end_day) == (0, 9)
    shift = oriented_by_losses(x, shift, 0.0071)
    assert (shift.start_day, shift.end_day) == (9, 31) and shift.change_fraction < -0.02
