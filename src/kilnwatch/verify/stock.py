"""Stock balance of a storable fuel or product over a window of months.

GB/T 2589 / GB 17167 energy balance of an enterprise (and the statistics form 能源购进、消费与
库存, 205-1表): opening stock + received − consumed (− transferred out) = closing stock. Fuels
come in lots and are stocked, so received and consumed quantities of a month differ by the
stock change. Where the enterprise reports its stocks (``stock_opening:<carrier>``,
``stock_closing:<carrier>`` of the statistical reports) the balance is closed with them, and
its tolerance is that of the meters and of the stock survey. Without stocks the change over
the window is bounded by the enterprise's own lot size: under a reorder policy the stock moves
within about one lot, so the tolerance adds ``lot_multiplier`` times its **median** lot of
the history loaded (never the largest: one suspect consignment must not widen its own
tolerance), and only when enough lots show what normal is (``min_lots``). A lot is what
arrives on one day (:func:`daily_lots`): a train of many wagons or a weekly order of many
trucks moves the stock as one delivery.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from kilnwatch.domain.units import dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.reference.energy import load_coal_coefficients
from kilnwatch.verify.evidence import converted, rounded, source_ref
from kilnwatch.verify.parameters import VerifySettings
from kilnwatch.verify.window import Window


@dataclass(frozen=True)
class StockParameters:
    """The parameters of a stock-balance check (its own rows of verify_rules.csv)."""

    lot_multiplier: float
    min_lots: int
    stock_survey_fraction: float

    @classmethod
    def of(cls, settings: VerifySettings, rule: str) -> StockParameters:
        return cls(
            settings.value(rule, "lot_multiplier"),
            settings.count(rule, "min_lots"),
            settings.value(rule, "stock_survey_fraction"),
        )


def per_day(quantities: Iterable[tuple[date, float | None]]) -> dict[date, float]:
    """The quantity of each day (a day's waybills or invoices summed); unknown quantities
    are left out."""
    out: dict[date, float] = defaultdict(float)
    for day, quantity in quantities:
        if quantity is not None:
            out[day] += quantity
    return dict(out)


def daily_lots(quantities: Iterable[tuple[date, float | None]]) -> list[float]:
    """The quantity received per day with a delivery (a day's waybills or invoices are one
    delivery: the stock moves by all of it); unknown quantities are left out."""
    return [q for q in per_day(quantities).values() if q > 0]


def longest_without(days: Iterable[date], first: date, span_days: int) -> int:
    """The most consecutive days of ``span_days`` from ``first`` without a delivery (the
    window's edges count: a stock run down before the first delivery is a stock change)."""
    return longest_stretch(days, first, span_days)[1]


def longest_stretch(days: Iterable[date], first: date, span_days: int) -> tuple[int, int]:
    """The first of the longest stretches of :func:`longest_without`: ``(offset of its first
    day from first, its days)``."""
    offsets = sorted({(d - first).days for d in days if 0 <= (d - first).days < span_days})
    bounds = [-1, *offsets, span_days]
    a, b = max(zip(bounds, bounds[1:], strict=False), key=lambda pair: pair[1] - pair[0])
    return a + 1, b - a - 1


def stretch_share(activity: Sequence[float] | None, start: int, days: int, span_days: int) -> float:
    """The share of the window's activity [fraction] that falls on a stretch of ``days`` days
    without a delivery from day ``start`` and on the day after it: the stock covered them
    (a fuel's use, or a product's output that nothing shipped). ``activity``: a measure of
    the process's activity on each day of the window (its metered energy), so that days the
    process stood (an outage: no output to stock, no fuel used) move no stock; without it
    (or with a day unknown), the days' count: (days + 1) / span_days. 0 without a stretch."""
    if days <= 0:
        return 0.0
    if activity is None or len(activity) != span_days:
        return (days + 1) / span_days
    values = np.asarray(activity, dtype=np.float64)
    total = float(values.sum())
    if not np.isfinite(values).all() or (values < 0).any() or total <= 0:
        return (days + 1) / span_days
    return float(values[start : start + days + 1].sum()) / total


def storable(carrier: str) -> bool:
    """Solid and liquid fuels (GB/T 2589 coefficients only per unit of mass) are delivered in
    lots and stocked; gases, steam, heat and electricity (a coefficient per volume or energy)
    are taken from a network as drawn. An unknown carrier counts as storable (the cautious
    side: its stocks may move)."""
    units = [c.unit for c in load_coal_coefficients() if c.carrier == carrier]
    try:
        return all(dimension_of(unit) == "mass" for unit in units)
    except KilnwatchError:
        return True


@dataclass(frozen=True)
class StockBalance:
    """``received − stock change`` = the consumption the meters should show, with its
    tolerance [fraction of that consumption]."""

    basis: str  # "not_stored" | "reported_stocks" | "lot_history"
    received: float  # [unit]
    stock_change: float | None  # closing − opening [unit]; None without stocks
    tolerance: float  # [fraction]
    evidence: dict[str, Any]

    @property
    def consumption(self) -> float:
        return self.received - (self.stock_change or 0.0)


def stock_balance(
    params: StockParameters,
    window: Window,
    item: str,
    unit: str,
    received: float,
    history_lots: Sequence[float],
    meter_tolerance: float,
    delivered_on: Sequence[date] = (),
    end: date | None = None,
    activity: Sequence[float] | None = None,
) -> StockBalance | None:
    """The balance of ``item`` (a carrier) over ``window`` in ``unit``: none needed for a
    carrier that is not stored (taken as drawn: received = consumed); with the reported stocks
    when the window has them at both ends, else bounded by the median of ``history_lots``
    (lot quantities [unit] of the enterprise's history) and by the longest stretch of the
    window without a delivery (``delivered_on``, the window ending the day before ``end``):
    the stock must have covered the use of those days, so it can move by as much: their
    share of the window's ``activity`` (one figure per day of the window, the process's
    metered energy; :func:`stretch_share`), else of its days. None when neither is known
    (too few lots to tell the normal lot size)."""
    if not storable(item):
        return StockBalance("not_stored", received, None, meter_tolerance, {})
    lot_multiplier, min_lots = params.lot_multiplier, params.min_lots
    survey = params.stock_survey_fraction
    stocks = window.stock(item)
    if stocks is not None:
        opening = converted(stocks[0].quantity, stocks[0].unit, unit)
        closing = converted(stocks[1].quantity, stocks[1].unit, unit)
        if opening is not None and closing is not None:
            change = closing - opening
            expected = received - change
            if expected <= 0:
                return None
            stock_tol = survey * math.hypot(opening, closing) / expected
            return StockBalance(
                "reported_stocks",
                received,
                change,
                math.hypot(meter_tolerance, stock_tol),
                {
                    "opening_stock": {"quantity": rounded(opening), **source_ref(stocks[0])},
                    "closing_stock": {"quantity": rounded(closing), **source_ref(stocks[1])},
                    "stock_change": rounded(change),
                    "stock_tolerance_fraction": rounded(stock_tol),
                },
            )
    if len(history_lots) < min_lots or received <= 0:
        return None
    lot = statistics.median(history_lots)
    first = window.start_at.date()
    span_days = max(((end or first) - first).days, 1)
    dry_start, dry_days = longest_stretch(delivered_on, first, span_days)
    # the stock covered the dry days and the day of the next delivery
    dry_share = stretch_share(activity, dry_start, dry_days, span_days)
    lot_tol = max(lot_multiplier * lot / received, dry_share)
    return StockBalance(
        "lot_history",
        received,
        None,
        meter_tolerance + lot_tol,
        {
            "median_lot": rounded(lot),
            "longest_days_without_delivery": dry_days,
            "lots_in_history": len(history_lots),
            "lot_tolerance_fraction": rounded(lot_tol),
        },
    )
