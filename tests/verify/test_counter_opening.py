"""A counter whose period has no register at its start: the first interval is missing, not
zero (issue 12, class 9)."""

from __future__ import annotations

import numpy as np

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.verify.context import PeriodWindow, Sources, build_context
from kilnwatch.verify.settings import verify_settings
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
HOURS = 31 * 24
KWH_PER_H = 10.0


def _counter(first_hour: int):
    """An hourly counter read at every hour from ``first_hour`` (0 = the start instant)."""
    hours = np.arange(first_hour, HOURS + 1, dtype=np.int64)
    ts = WINDOW.start_s + 3600 * hours
    values = 5000.0 + KWH_PER_H * hours.astype(np.float64)
    n = ts.size
    series = Series(ts, values, np.full(n, "", dtype=object), np.ones(n, dtype=np.int64),
                    values, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))  # fmt: skip
    meter = MeterInfo(1, "M", 1, None, "electricity", "entry", None, "counter", "kWh", 0.5, None)
    info = EnterpriseInfo(1, "U", "cement", (meter,), ())
    return build_context(info, WINDOW, {1: series}, Sources(), verify_settings()).meters[1]


def test_with_the_opening_register_every_day_is_full() -> None:
    m = _counter(0)
    assert m.full_days().all() and m.unopened_s == 0 and m.possibly_missing() == 0.0
    assert m.total == KWH_PER_H * HOURS


def test_without_it_the_first_interval_is_missing_not_zero() -> None:
    m = _counter(1)
    full = m.full_days()
    assert not full[0] and full[1:].all()  # day 1 holds 23 of its 24 hours: not compared
    assert m.unopened_s == 3600
    assert m.total == KWH_PER_H * (HOURS - 1)
    assert np.isclose(m.possibly_missing(), KWH_PER_H)  # one hour at the mean rate
