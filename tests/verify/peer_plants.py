"""Shared by the peer-check tests (output, sub-meter, smoothed): the month they judge and an
hourly interval series in it."""

from __future__ import annotations

import numpy as np

from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.store.models import SOURCE_CODES
from kilnwatch.verify.context import PeriodWindow
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
HOURS = 31 * 24


def hourly_series(
    values: np.ndarray,
    *,
    counter: bool = False,
    lag_s: int = 0,
    source: str = "http",
    keep: np.ndarray | None = None,
) -> Series:
    """Readings at every hour's end of :data:`WINDOW` (a counter's first one at its start),
    received ``lag_s`` after their time, over ``source``; ``keep``: the hours kept."""
    start = WINDOW.start_s - (3600 if counter else 0)
    ts = start + 3600 * np.arange(1, values.size + 1, dtype=np.int64)
    if keep is not None:
        ts, values = ts[keep], values[keep]
    n = values.size
    return Series(
        ts,
        values.astype(np.float64),
        np.full(n, "", dtype=object),
        np.ones(n, dtype=np.int64),
        values.astype(np.float64),
        np.full(n, lag_s, dtype=np.int64),
        np.full(n, SOURCE_CODES[source]),
    )
