"""Detectors on in-memory contexts (no database): peers, late data, impossible steps, shifts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from peer_plants import hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.verify.context import PeriodWindow, Sources, build_context
from kilnwatch.verify.detectors.balance import oriented_by_losses
from kilnwatch.verify.detectors.peers import check_peers
from kilnwatch.verify.detectors.shift import Shift, level_shift
from kilnwatch.verify.detectors.timeseries import check_impossible, check_late
from kilnwatch.verify.settings import verify_settings
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
HOURS = 31 * 24
SETTINGS = verify_settings()


def _series(values: np.ndarray, *, counter: bool, lag_s: int = 600, source: str = "http") -> Series:
    return hourly_series(values, counter=counter, lag_s=lag_s, source=source)


def _enterprise(idx: int, extra_load: float, rng: np.random.Generator):
    parent = MeterInfo(
        idx * 10 + 1,
        f"P{idx}",
        idx,
        None,
        "electricity",
        "entry",
        None,
        "interval",
        "kWh",
        0.5,
        None,
    )
    child = MeterInfo(
        idx * 10 + 2,
        f"C{idx}",
        idx,
        None,
        "electricity",
        "sub_unit",
        parent.id,
        "interval",
        "kWh",
        0.5,
        None,
    )
    use = 100 * (1 + 0.01 * rng.standard_normal(HOURS))
    loss = 1 + rng.uniform(0.015, 0.03)
    series = {
        child.id: _series(use, counter=False),
        parent.id: _series(use * loss + extra_load * 100, counter=False),
    }
    info = EnterpriseInfo(idx, f"U{idx}", "cement", (parent, child), ())
    return build_context(info, WINDOW, series, Sources(), SETTINGS)


@pytest.mark.parametrize("extra", [0.0, 0.025, 0.15])
def test_parent_far_above_its_peers(extra: float) -> None:
    """0.025: a whole-month load of 2.5 % behind the parent, 4.7 robust spreads of the other
    parents' ratios above their median (losses of 1.5-3 %): an outlier."""
    rng = np.random.default_rng(4)
    contexts = [_enterprise(i, extra if i == 0 else 0.0, rng) for i in range(12)]
    found = check_peers(contexts, [])
    expected = ["verify.submeter.parent_exceeds_children"] if extra else []
    assert [f.rule_code for f in found] == expected
    if extra:
        assert found[0].meter_id == 1 and found[0].evidence["peers"] == 11  # not itself


def _single(values: np.ndarray, measurement: str, **kw: object):
    m = MeterInfo(1, "M", 1, None, "electricity", "entry", None, measurement, "kWh", 0.5, None)
    series = {1: _series(values, counter=measurement == "counter", **kw)}  # type: ignore[arg-type]
    return build_context(
        EnterpriseInfo(1, "U", "cement", (m,), ()), WINDOW, series, Sources(), SETTINGS
    )


def test_late_real_time_data() -> None:
    values = np.arange(HOURS + 1, dtype=np.float64) * 10
    assert check_late(_single(values, "counter")) == []
    assert check_late(_single(values, "counter", lag_s=10 * 86400, source="file")) == []
    late = check_late(_single(values, "counter", lag_s=3 * 86400))
    assert [f.rule_code for f in late] == ["verify.timeseries.late_data"]


def test_counter_going_backwards() -> None:
    values = np.arange(HOURS + 1, dtype=np.float64) * 10
    assert check_impossible(_single(values, "counter")) == []
    values[100:] -= 5000
    found = check_impossible(_single(values, "counter"))
    assert [f.rule_code for f in found] == ["verify.timeseries.impossible"]
    assert found[0].evidence["count"] == 1


def test_a_meter_replacement_is_a_monitoring_event() -> None:
    """A register restarting near zero is a new meter (info), not a register going back."""
    values = 1e6 + np.arange(HOURS + 1, dtype=np.float64) * 10
    values[100:] = values[100:] - values[100] + 3.0
    found = check_impossible(_single(values, "counter"))
    assert [(f.rule_code, f.severity) for f in found] == [("verify.timeseries.impossible", "info")]
    assert "meter replaced" in found[0].message
    assert found[0].evidence["replacements"][0]["after"] == 3.0
    assert found[0].evidence["replacements"][0]["at"].endswith("+08:00")  # local time


def test_a_day_with_a_replaced_register_is_not_compared() -> None:
    """The step of a replacement cannot be counted: that day is not a full day (the ratio and
    intensity checks skip it instead of seeing a one-hour drop)."""
    values = 1e6 + np.arange(HOURS + 1, dtype=np.float64) * 10
    values[100:] = values[100:] - values[100] + 3.0  # hour 100: day 4
    full = _single(values, "counter").meters[1].full_days()
    assert not full[(100 - 1) // 24] and full.sum() == full.size - 1


def test_level_shift_orientation() -> None:
    x = 1 + 0.01 * np.random.default_rng(1).standard_normal(31)
    assert level_shift(x, 2, 6, 0.02) is None
    low = x.copy()
    low[:25] *= 0.95
    shift = level_shift(low, 2, 6, 0.02, prefer="low")
    assert shift is not None and (shift.start_day, shift.end_day) == (0, 25)
    assert shift.change_fraction == pytest.approx(-0.05, abs=0.01)
    assert datetime.fromtimestamp(WINDOW.start_s, UTC).hour == 16


def test_a_parent_below_its_sub_meters_on_both_sides_is_abnormal_on_the_lower_side() -> None:
    """A parent reading 14 % low from the first day: the two days around the start are
    nearer to possible (ratio ≥ 1) than the rest; the rest is the parent reading low."""
    rng = np.random.default_rng(3)
    x = np.r_[0.997, 0.93, np.full(29, 0.86)] * (1 + 0.001 * rng.standard_normal(31))
    shift = oriented_by_losses(x, Shift(0, 2, 0.077, 250.0), 0.034)
    assert (shift.start_day, shift.end_day) == (2, 31)
    assert shift.change_fraction < -0.05
