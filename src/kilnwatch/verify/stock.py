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
tolerance), and only when enough lots show what normal is (``min_lots``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
) -> StockBalance | None:
    """The balance of ``item`` (a carrier) over ``window`` in ``unit``: none needed for a
    carrier that is not stored (taken as drawn: received = consumed); with the reported stocks
    when the window has them at both ends, else bounded by the median of ``history_lots``
    (lot quantities [unit] of the enterprise's history). None when neither is known (too few
    lots to tell the normal lot size)."""
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
    lot_tol = lot_multiplier * lot / received
    return StockBalance(
        "lot_history",
        received,
        None,
        meter_tolerance + lot_tol,
        {
            "median_lot": rounded(lot),
            "lots_in_history": len(history_lots),
            "lot_tolerance_fraction": rounded(lot_tol),
        },
    )
