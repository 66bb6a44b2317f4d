"""Robust level-shift search on a daily series (one anomalous window within the period).

For every window of at least ``min_days`` days the mean of ``log(x)`` inside is compared with
the mean outside; the noise is estimated from day-to-day differences with the MAD (which a
level shift barely affects), so the test statistic is a robust z. The window with the largest
|z| wins. No fixed thresholds on the data itself: only a z level and a minimal relative change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kilnwatch.analytics.readings import F64

MAD_TO_SD = 1.4826  # consistency constant of the MAD for a normal distribution
NOISE_FLOOR = 1e-4  # [log units] numerical floor of the noise estimate


@dataclass(frozen=True)
class Shift:
    start_day: int
    end_day: int  # exclusive
    change_fraction: float  # inside / outside - 1
    z: float


def robust_noise(y: F64) -> float:
    """Standard deviation of day-to-day noise of ``y`` from the MAD of its differences."""
    d = np.diff(y)
    if d.size == 0:
        return NOISE_FLOOR
    mad = float(np.median(np.abs(d - np.median(d))))
    return max(MAD_TO_SD * mad / float(np.sqrt(2.0)), NOISE_FLOOR)


def level_shift(
    x: F64, min_days: int, z_threshold: float, min_shift: float, prefer: str = "short"
) -> Shift | None:
    """The most significant window of ``x`` (daily values > 0; NaN = not comparable).

    ``prefer`` breaks the tie between a window touching a period edge and its complement:
    ``short`` reports the shorter segment as the anomaly, ``low`` the segment with lower values.
    """
    valid = np.flatnonzero(np.isfinite(x) & (x > 0))
    n = valid.size
    if n < 2 * min_days:
        return None
    y = np.log(x[valid])
    noise = robust_noise(y)
    c = np.concatenate(([0.0], np.cumsum(y)))
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    n_in = j - i
    ok = (n_in >= min_days) & (n - n_in >= min_days)
    # a window inside the month is compared with days on both sides of it: as the anomaly it
    # must be the minority, else it is the complement of short anomalies at the two ends
    ok &= (i == 0) | (j == n) | (2 * n_in <= n)
    if not ok.any():
        return None
    n_in_safe = np.where(ok, n_in, 1)
    n_out_safe = np.where(ok, n - n_in, 1)
    inside = c[j] - c[i]
    d = inside / n_in_safe - (c[n] - inside) / n_out_safe
    z = np.where(ok, d / (noise * np.sqrt(1.0 / n_in_safe + 1.0 / n_out_safe)), 0.0)
    best = np.unravel_index(int(np.argmax(np.abs(z))), z.shape)
    if not ok[best]:
        return None
    a, b = _orient(int(best[0]), int(best[1]), n, float(d[best]), prefer)
    change = float(np.exp(_diff(c, a, b, n)))
    zab = _diff(c, a, b, n) / (noise * np.sqrt(1.0 / (b - a) + 1.0 / (n - (b - a))))
    if abs(zab) < z_threshold or abs(change - 1.0) < min_shift:
        return None
    return Shift(int(valid[a]), int(valid[b - 1]) + 1, change - 1.0, float(zab))


def _diff(c: F64, a: int, b: int, n: int) -> float:
    inside = c[b] - c[a]
    return float(inside / (b - a) - (c[n] - inside) / (n - (b - a)))


def _orient(a: int, b: int, n: int, d: float, prefer: str) -> tuple[int, int]:
    """Swap a window touching one edge for its complement when the preference says so."""
    if (a == 0) == (b == n):  # touches neither or both edges: no contiguous complement
        return a, b
    comp = (b, n) if a == 0 else (0, a)
    if prefer == "low":
        return (a, b) if d < 0 else comp
    return (a, b) if (b - a) <= (comp[1] - comp[0]) else comp


def is_level(x: F64, days: tuple[int, int], other: tuple[int, int]) -> bool:
    """True when the days ``[days)`` form a level of their own against ``[other)``: each of
    its comparable days departs from ``other``'s median in the same direction by at least half
    their mean departure. False when one odd day drives the difference while the others sit at
    ``other``'s level: those days cannot be the reference that makes ``other`` abnormal."""
    inside, outside = x[days[0] : days[1]], x[other[0] : other[1]]
    inside = inside[np.isfinite(inside) & (inside > 0)]
    outside = outside[np.isfinite(outside) & (outside > 0)]
    if inside.size == 0 or outside.size == 0:
        return True
    departure = np.log(inside) - float(np.median(np.log(outside)))
    mean = float(departure.mean())
    return bool(np.all(departure * np.sign(mean) >= abs(mean) / 2))


def window_change(x: F64, start_day: int, end_day: int) -> tuple[float, float] | None:
    """(relative change inside / outside - 1, robust z) of ``x`` over the given days.

    The window is fixed in advance (found on another series), so this is a single test, not
    a search: the z is comparable with a normal quantile. None when either side has no day.
    """
    valid = np.flatnonzero(np.isfinite(x) & (x > 0))
    inside = (valid >= start_day) & (valid < end_day)
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    if n_in == 0 or n_out == 0:
        return None
    y = np.log(x[valid])
    d = float(y[inside].mean() - y[~inside].mean())
    z = d / (robust_noise(y) * np.sqrt(1.0 / n_in + 1.0 / n_out))
    return float(np.exp(d)) - 1.0, float(z)
