"""Drift of a meter against its parent and sibling meters (计量器具运行: 漂移).

A parent meter and the meters under it (same carrier) keep a stable daily balance
``ρ_d = Σ children_d / parent_d`` (line losses and small unmetered loads are steady). A meter
whose error grows slowly makes ρ trend. This is a monitoring-quality event of the metering
system: verification's ``verify.submeter.ratio_shift`` looks for a *step* of the same ratio
(an integrity question: a sudden scaling, an undeclared load); here a *gradual* trend is
reported, and only when a straight line explains the ratio better than any single step.

Which meter drifts: the siblings' shares of the children's sum tell. If one child drifts by a
factor ``1 + δ``, its share trends the same way as ρ; if the parent drifts, ρ trends and the
shares stay flat. With one child the parent and the child cannot be told apart: the event
names the parent and says so (``attributed = 0``).

References
----------
.. [1] GB 17167-2006, 4.3 (the accuracy classes that bound how far two meters of one flow may
   disagree); the tolerance below combines the two sides' classes in quadrature (GUM 5.1.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DRIFT = "metering.operation.drift"


@dataclass(frozen=True)
class DriftSettings:
    """Thresholds of the drift rule (policy defaults of kilnwatch, not from a standard).

    Parameters
    ----------
    min_days : int
        Complete days (every meter of the group reporting all hours) needed [d].
    min_fraction : float
        Smallest relative change of the balance over the window that is reported, when the
        meters' accuracy classes allow less [-].
    t_threshold : float
        Student t of the trend's slope above which the trend is not noise [-].
    """

    min_days: int = 10
    min_fraction: float = 0.02
    t_threshold: float = 5.0


@dataclass(frozen=True)
class Drift:
    """A trend of one balance group, and the meter it is attributed to."""

    meter_id: int
    attributed: bool
    """True when the shares name the meter; False with one child (parent or child)."""
    first_day: int
    last_day: int
    ratio_start: float
    ratio_end: float
    drift_fraction: float
    tolerance_fraction: float


def accuracy_percent(accuracy_class: str | None) -> float | None:
    """The number of an accuracy class (``0.5S`` → 0.5, ``2`` → 2.0) [%], None if unstated."""
    if not accuracy_class:
        return None
    digits = accuracy_class.strip().rstrip("Ss")
    try:
        return float(digits)
    except ValueError:
        return None


def _trend(y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and the slope's t statistic of ``y`` against 0..n-1."""
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    dof = len(y) - 2
    s2 = float(resid @ resid) / dof if dof > 0 else 0.0
    sxx = float(((x - x.mean()) ** 2).sum())
    se = math.sqrt(s2 / sxx) if sxx and s2 > 0 else 0.0
    t = abs(slope) / se if se else (math.inf if slope else 0.0)
    return float(slope), float(intercept), t


def _line_beats_step(y: np.ndarray) -> bool:
    """Whether a straight line leaves less residual than the best single step."""
    x = np.arange(len(y), dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    line = float(((y - intercept - slope * x) ** 2).sum())
    best_step = min(
        float(((y[:k] - y[:k].mean()) ** 2).sum() + ((y[k:] - y[k:].mean()) ** 2).sum())
        for k in range(2, len(y) - 1)
    )
    return line < best_step


def _attribute(
    parent_id: int,
    children: Sequence[int],
    shares: np.ndarray,
    weights: np.ndarray,
    change: float,
    tolerance: float,
) -> tuple[int, bool]:
    """The drifting meter of a group with several children: the child whose share moves as a
    drift of that child would move it (a child drifting by δ moves its share by about
    ``(1 - w) δ`` and the balance by ``w δ``: the two estimates of δ agree within a factor 2),
    the parent when no share moves beyond the tolerance, else the parent, unattributed."""
    n = shares.shape[1]
    moves = [_trend(s)[0] * (n - 1) / s.mean() for s in shares]
    fits = []
    for j, move in enumerate(moves):
        by_share, by_ratio = move / (1 - weights[j]), change / weights[j]
        if by_share * by_ratio > 0 and 0.5 <= by_share / by_ratio <= 2:
            fits.append((abs(math.log(by_share / by_ratio)), j))
    if fits:
        return children[min(fits)[1]], True
    if max(abs(m) for m in moves) <= tolerance:
        return parent_id, True  # the shares stay: the parent drifts against its children
    return parent_id, False


def group_drift(
    parent_id: int,
    daily: Mapping[int, Sequence[float]],
    classes: Mapping[int, float | None],
    settings: DriftSettings,
) -> Drift | None:
    """The drift of one parent meter and its children over complete days, or None.

    Parameters
    ----------
    parent_id : int
        The parent meter. [-]
    daily : mapping of int to sequence of float
        Per meter (the parent and each child), its quantity on each complete day, the same
        days for all. [meter unit/d]
    classes : mapping of int to float or None
        Accuracy class of each meter, None when not stated. [%]
    settings : DriftSettings
        The rule's thresholds. [-]

    Returns
    -------
    Drift or None
        The trend and the meter it is attributed to; None without a trend beyond the
        tolerance ``max(min_fraction, sqrt(c_parent² + c_children²) / 100)`` (``c_children``
        the energy-weighted mean class) that a line explains better than a step.

    References
    ----------
    .. [1] GB 17167-2006, 4.3 (accuracy classes); GUM 5.1.2 (combination in quadrature).
    """
    parent = np.asarray(daily[parent_id], dtype=float)
    children = [c for c in daily if c != parent_id]
    if len(parent) < settings.min_days or not children or (parent <= 0).any():
        return None
    kids = np.vstack([np.asarray(daily[c], dtype=float) for c in children])
    total = kids.sum(axis=0)
    if (total <= 0).any():
        return None
    ratio = total / parent
    slope, intercept, t = _trend(ratio)
    n = len(ratio)
    start, end = intercept, intercept + slope * (n - 1)
    change = (end - start) / start
    weights = kids.sum(axis=1) / kids.sum()
    known = [(w, classes.get(c)) for w, c in zip(weights, children, strict=True)]
    c_kids = sum(w * (c or 0.0) for w, c in known)
    tolerance = max(settings.min_fraction, math.hypot(classes.get(parent_id) or 0.0, c_kids) / 100)
    if abs(change) <= tolerance or t < settings.t_threshold or not _line_beats_step(ratio):
        return None
    meter, attributed = parent_id, False
    if len(children) > 1:
        meter, attributed = _attribute(
            parent_id, children, kids / total, weights, change, tolerance
        )
    return Drift(meter, attributed, 0, n - 1, float(start), float(end), float(change),
                 float(tolerance))  # fmt: skip


__all__ = ["DRIFT", "Drift", "DriftSettings", "accuracy_percent", "group_drift"]
