"""The fixed part of a parent meter's excess over its sub-meters, hour by hour (issue 12: a
whole-month load behind an entry meter).

What a parent meter reads above the sum of its sub-meters is, physically, losses and meter
errors plus any load no sub-meter measures. Meter errors (a gain within the accuracy class)
and load losses (I²R in lines and windings) follow the load: they change the slope ``b`` of
``parent = a + b * sum(sub-meters)`` hour by hour; what stays when the sub-meters' load falls
is the intercept ``a``: a transformer's no-load (core) losses, small, and a load behind the
parent that runs whatever the plant does. Judged as a fraction of the sub-meters' mean load
against the same fraction of the peers, the intercept tells a constant load behind the parent
from a pair whose losses are simply high, which the month's ratio alone cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kilnwatch.analytics.readings import F64
from kilnwatch.verify.context import EnterpriseContext, MeterData

HOUR_S = 3_600
#: (carrier, level) of the parents whose fixed part is judged. Electricity at entry: its
#: normal losses follow the load but for the transformers' no-load losses, a fraction of a per
#: cent of their rating; steam and water lose a fixed part normally (pipe heat losses,
#: leaks), and a unit meter's parent is no entry meter (issue 12's class).
JUDGED = frozenset({("electricity", "entry")})
HAC_LAG_H = 24  # [h] Newey-West lag: a day of serially correlated residuals
#: [h] The sub-meters' sum an hour before and after enters the fit too: a meter whose export
#: stamps interval starts, or whose clock is off, puts its readings an interval away from its
#: parent's; on a load that changes slowly that would shrink the slope and lift the intercept.
#: The intercept of the distributed lag stays the fixed part; its slopes sum to the gain.
NEIGHBOUR_H = 1


@dataclass(frozen=True)
class FixedPart:
    """The intercept of a parent over the sum of its sub-meters, hour by hour: ``fraction``
    of the sub-meters' mean hourly load and its standard uncertainty ``sd`` (both [-]),
    ``slope`` [-], over ``hours`` complete hours; ``mean_load`` [meter unit / h]."""

    fraction: float
    sd: float
    slope: float
    hours: int
    mean_load: float


def hourly(m: MeterData, ctx: EnterpriseContext) -> tuple[F64, np.ndarray] | None:
    """A meter's quantity per hour of the window and whether the hour is complete (every
    interval of the hour read, each spanning one usual step: a counter's register difference
    across a gap pools several intervals into one and is left out); None for a meter read less
    often than hourly or at a step that does not divide the hour."""
    step = m.step_s
    if not 0 < step <= HOUR_S or HOUR_S % step:
        return None
    n = ctx.window.month.days * 24
    ts = m.series.ts_s
    if m.info.measurement == "counter":
        spans = np.diff(ts)
    else:
        spans = np.diff(ts, prepend=ts[:1] - step)
    ok = np.isfinite(m.qty) & (spans == step)
    index = (m.ts_q - ctx.window.start_s - 1) // HOUR_S
    ok &= (index >= 0) & (index < n)
    totals = np.bincount(index[ok], weights=m.qty[ok], minlength=n).astype(np.float64)
    counts = np.bincount(index[ok], minlength=n)
    return totals, counts == HOUR_S // step


def fixed_part(
    ctx: EnterpriseContext, parent: MeterData, children: Sequence[MeterData], least_hours: int
) -> FixedPart | None:
    """Ordinary least squares of the parent's hourly quantity on the sum of its sub-meters'
    (that hour's and its neighbours', :data:`NEIGHBOUR_H`; the slope reported is their sum)
    over the hours complete on every meter (at least ``least_hours``), the intercept's
    standard uncertainty heteroscedasticity- and autocorrelation-consistent (Newey & West
    1987, Bartlett weights over :data:`HAC_LAG_H` hours: hourly residuals are correlated
    within a day). None without enough complete hours or without a sub-meter load that varies.
    """
    own = hourly(parent, ctx)
    if own is None or not children:
        return None
    y, complete = own
    x = np.zeros_like(y)
    for child in children:
        theirs = hourly(child, ctx)
        if theirs is None:
            return None
        x += theirs[0]
        complete = complete & theirs[1]
    # an hour counts with its neighbours complete too
    usable = complete.copy()
    for shift in range(1, NEIGHBOUR_H + 1):
        usable[:shift] = usable[-shift:] = False
        usable[shift:] &= complete[:-shift]
        usable[:-shift] &= complete[shift:]
    rows = np.flatnonzero(usable)
    lagged = [x[rows + k] for k in range(-NEIGHBOUR_H, NEIGHBOUR_H + 1)]
    x, y = x[rows], y[rows]
    mean = float(x.mean()) if x.size else 0.0
    if x.size < least_hours or mean <= 0 or float(np.ptp(x)) <= 0:
        return None
    design = np.column_stack((np.ones_like(x), *lagged))
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    inverse = np.linalg.inv(design.T @ design)
    coef = inverse @ design.T @ y
    scores = design * (y - design @ coef)[:, None]
    meat = scores.T @ scores
    for lag in range(1, min(HAC_LAG_H, x.size - 1) + 1):
        cross = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (HAC_LAG_H + 1)) * (cross + cross.T)
    variance = float((inverse @ meat @ inverse)[0, 0])
    sd = float(np.sqrt(max(variance, 0.0))) / mean
    return FixedPart(float(coef[0]) / mean, sd, float(coef[1:].sum()), int(x.size), mean)
