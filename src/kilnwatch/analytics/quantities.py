"""Quantities from readings: per-interval quantities, period totals and daily totals.

A counter meter's quantity in the interval ending at ``ts[k]`` is ``value[k] - value[k-1]``;
an interval meter's reading already is that quantity (its timestamp is the interval's end);
instant meters have no quantity. A register that goes backwards yields NaN (a reset or a
fault), never a negative consumption.
"""

from __future__ import annotations

import numpy as np

from kilnwatch.analytics.readings import F64, I64, Series

DAY_S = 86_400


def true_runs(mask: np.ndarray) -> tuple[I64, I64]:
    """The ``[start, end)`` index ranges of the runs of True in ``mask``, as two arrays."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask).astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def interval_quantities(series: Series, measurement: str) -> tuple[I64, F64]:
    """(interval end [epoch s], quantity [meter unit]) of a counter or interval meter."""
    if measurement == "counter":
        if series.size < 2:
            return series.ts_s[:0], series.value[:0]
        step = np.diff(series.value)
        step = np.where(step < 0, np.nan, step)
        return series.ts_s[1:], step
    if measurement == "interval":
        return series.ts_s, series.value
    return series.ts_s[:0], series.value[:0]


def total_between(ts_s: I64, qty: F64, start_s: int, end_s: int) -> float:
    """Sum of quantities of intervals ending in ``(start_s, end_s]``."""
    mask = (ts_s > start_s) & (ts_s <= end_s)
    return float(np.nansum(qty[mask]))


def daily_totals(ts_s: I64, qty: F64, start_s: int, n_days: int) -> F64:
    """Totals of the ``n_days`` days after ``start_s``; an interval counts in the day it ends."""
    index = (ts_s - start_s - 1) // DAY_S
    mask = (index >= 0) & (index < n_days) & np.isfinite(qty)
    return np.bincount(index[mask], weights=qty[mask], minlength=n_days).astype(np.float64)


def daily_counts(ts_s: I64, start_s: int, n_days: int) -> I64:
    """Readings per day (for coverage: a day without data is not a day of zero use)."""
    index = (ts_s - start_s - 1) // DAY_S
    mask = (index >= 0) & (index < n_days)
    return np.bincount(index[mask], minlength=n_days).astype(np.int64)
