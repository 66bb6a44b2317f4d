"""Production, shipments and revenue: sales invoices vs product shipped out (logistics) and
vs metered output for products that cannot be stored (electricity), cumulated over
``window_months`` (:mod:`kilnwatch.verify.window`); and the month's sales price relative to
the market against the enterprise's own relative price in its earlier months (its contracts
and grades set its level, its own month-to-month dispersion the tolerance; the market band
only when its history is too short)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kilnwatch.domain.units import dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.store.models import MarketPrice, TaxInvoice
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.detectors.shift import MAD_TO_SD
from kilnwatch.verify.evidence import converted_sum, finding, human, rounded
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.window import Window, window_of

SHIPPED = "verify.revenue.sales_vs_shipped"
MARKET = "verify.revenue.amount_vs_market"
HISTORY_MONTHS = "history_months"


def _sales(invoices: Sequence[TaxInvoice]) -> dict[str, list[TaxInvoice]]:
    """Sales invoices by item, in their order."""
    sales: dict[str, list[TaxInvoice]] = {}
    for i in invoices:
        if i.direction == "sale":
            sales.setdefault(i.item, []).append(i)
    return sales


def _storable(unit: str) -> bool | None:
    """Whether a product sold in ``unit`` can be stored (None for an unknown unit, which the
    importer reports)."""
    try:
        return dimension_of(unit) != "energy"
    except KilnwatchError:
        return None


def _counterpart(
    ctx: EnterpriseContext, item: str, unit: str, months: int
) -> tuple[float, str, float, Window] | None:
    """(quantity [unit], what, largest lot [unit], window) the sales of ``item`` should
    match."""
    storable = _storable(unit)
    if storable is None:
        return None
    if storable:
        window = window_of(ctx, months, [], invoices=True, waybills=True)
        lots = [w.quantity_t for w in window.waybills if w.direction == "out" and w.item == item]
        quantity = converted_sum([(sum(lots), "t")], unit) if lots else None
        largest = converted_sum([(max(lots), "t")], unit) if lots else None
        if quantity is None or largest is None:
            return None
        return quantity, "shipped (logistics out)", largest, window
    meters = [m for m in ctx.meters.values() if m.info.carrier == item]
    window = window_of(ctx, months, meters, invoices=True)
    total = converted_sum([(window.total(m), m.info.uom) for m in meters], unit)
    if not meters or total is None:
        return None
    return total, "metered output", 0.0, window


@dataclass(frozen=True)
class SalesGap:
    """Sales of one item invoiced over a window vs their counterpart over it: ``declared``
    and ``counterpart`` [``unit``], ``lot``: the largest waybill out [``unit``] (0 for a
    product metered, which leaves no lots)."""

    item: str
    unit: str
    declared: float
    counterpart: float
    what: str
    lot: float
    window: Window
    invoices: tuple[str, ...]

    @property
    def gap_fraction(self) -> float:
        return (self.declared - self.counterpart) / self.counterpart

    @property
    def gap_lots(self) -> float | None:
        """The gap in lots (None for a metered product): what a province's enterprises'
        invoicing timing leaves between the two at a window's ends."""
        return abs(self.declared - self.counterpart) / self.lot if self.lot > 0 else None


def sales_gaps(ctx: EnterpriseContext) -> tuple[SalesGap, ...]:
    """The enterprise's sales gaps over its window (computed once per context, while its
    earlier months are loaded: :func:`check_sales_vs_shipped` runs over every enterprise)."""
    return ctx.derived(f"{SHIPPED}.gaps", lambda: _sales_gaps(ctx))


def _sales_gaps(ctx: EnterpriseContext) -> tuple[SalesGap, ...]:
    months = ctx.settings.count(SHIPPED, "window_months")
    earlier = [i for month in ctx.earlier[: months - 1] for i in month.invoices]
    out = []
    for item, first in sorted(_sales([*ctx.sources.invoices, *earlier]).items()):
        unit = first[0].unit
        other = _counterpart(ctx, item, unit, months)
        if other is None:
            continue
        counterpart, what, lot, window = other
        rows = _sales(window.invoices).get(item, [])
        declared = converted_sum([(i.quantity, i.unit) for i in rows], unit)
        if declared is None or counterpart <= 0:
            continue
        out.append(
            SalesGap(
                item, unit, declared, counterpart, what, lot, window,
                tuple(i.invoice_no for i in rows),
            )
        )  # fmt: skip
    return tuple(out)


def cutoff_lots(
    gaps: Sequence[SalesGap], own: SalesGap, min_peers: int, z: float
) -> tuple[float, int]:
    """The timing difference, in lots, that sales invoiced against shipments show in the
    province (the other enterprises' gaps in lots: their median + ``z`` robust standard
    deviations), at most one lot, and the number of peers; one lot with fewer than
    ``min_peers``.

    At a window's ends, lots shipped but not yet invoiced, or invoiced from the window before,
    part the two figures: at most about one lot where the enterprises invoice each lot within
    the days between lots, none where they invoice what they shipped in the same month. How
    much is the province's invoicing practice (its tax bureau's), which its enterprises show:
    the tolerance comes from their normal behaviour, not from the suspect's own lots (issue 12,
    class 2)."""
    peers = [g.gap_lots for g in gaps if g is not own and g.gap_lots is not None]
    if len(peers) < min_peers:
        return 1.0, len(peers)
    u = np.array(peers)
    median = float(np.median(u))
    spread = MAD_TO_SD * float(np.median(np.abs(u - median)))
    return min(median + z * spread, 1.0), len(peers)


def check_sales_vs_shipped(
    contexts: Sequence[EnterpriseContext], _existing: Sequence[Finding]
) -> list[Finding]:
    """Sales invoiced over the window vs what left the plant (or was metered) over it, for
    every enterprise of a run; the tolerance: ``min_gap_fraction`` and the province's timing
    difference in lots (:func:`cutoff_lots`)."""
    settings = contexts[0].settings
    min_gap = settings.value(SHIPPED, "min_gap_fraction")
    min_peers = settings.count(SHIPPED, "min_peers")
    z = settings.value(SHIPPED, "cutoff_z")
    settings.count(SHIPPED, "window_months")  # read up front (:func:`sales_gaps`)
    gaps = {ctx.info.id: sales_gaps(ctx) for ctx in contexts}
    every = [g for gs in gaps.values() for g in gs]
    out = []
    for ctx in contexts:
        for g in gaps[ctx.info.id]:
            lots, peers = cutoff_lots(every, g, min_peers, z) if g.lot > 0 else (0.0, 0)
            tol = min_gap + lots * g.lot / g.counterpart
            if abs(g.gap_fraction) > tol:
                out.append(_shipped_finding(ctx, g, tol, lots, peers))
    return out


def _shipped_finding(
    ctx: EnterpriseContext, g: SalesGap, tol: float, lots: float, peers: int
) -> Finding:
    evidence = {
        "item": g.item,
        "months": g.window.periods,
        "declared_sales": rounded(g.declared),
        "unit": g.unit,
        "counterpart": g.what,
        "counterpart_quantity": rounded(g.counterpart),
        "invoices": list(g.invoices),
        "gap_fraction": rounded(g.gap_fraction),
        "tolerance_fraction": rounded(tol),
    }
    if g.lot > 0:
        evidence |= {
            "largest_lot": rounded(g.lot),
            "cutoff_lots": rounded(lots),
            "peer_enterprises": peers,
        }
    return finding(
        ctx,
        SHIPPED,
        f"{g.item}: sales invoiced {g.declared:.6g} {g.unit} vs {g.what} "
        f"{g.counterpart:.6g} ({g.gap_fraction:+.1%}){g.window.describe()}",
        evidence,
        fraction=g.gap_fraction,
        start_at=g.window.start_at,
    )


def relative_price(rows: Sequence[TaxInvoice], market: MarketPrice) -> float | None:
    """The enterprise's mean sales price of a month relative to that month's market price
    (amount / (quantity x market price)), or None when the units do not convert.

    Parameters
    ----------
    rows : sequence of TaxInvoice
        Sales invoices of one item in one month (quantity [invoice unit], amount [CNY]).
    market : MarketPrice
        The month's market price of the item [CNY per price unit].

    Returns
    -------
    float or None
        Relative price [1]; 1 = sold at the market price.

    References
    ----------
    .. [1] 中华人民共和国增值税暂行条例 (VAT regulations): a VAT invoice states the quantity and
       the amount of each sale, so amount / quantity is the price actually charged.
    """
    quantity = converted_sum([(i.quantity, i.unit) for i in rows], market.unit)
    if quantity is None or quantity <= 0 or market.price_cny_per_unit <= 0:
        return None
    return sum(i.amount_cny for i in rows) / (quantity * market.price_cny_per_unit)


@dataclass(frozen=True)
class OwnPrice:
    """The enterprise's usual price of an item relative to the market, from its earlier months:
    median and robust dispersion (1.4826 x MAD) of log relative prices."""

    months: list[str]
    relative: list[float]

    @property
    def center(self) -> float:
        return float(np.exp(np.median(np.log(self.relative))))

    @property
    def dispersion(self) -> float:
        """Robust standard deviation of the monthly log relative price [1]."""
        logs = np.log(self.relative)
        return MAD_TO_SD * float(np.median(np.abs(logs - np.median(logs))))


def own_price(ctx: EnterpriseContext, item: str) -> OwnPrice:
    """The months of the enterprise's price history with sales of ``item`` and its market
    price, most recent first."""
    months, relative = [], []
    for month in ctx.sources.price_history:
        rows = [i for i in month.sales if i.item == item]
        market = month.prices.get(item)
        rel = relative_price(rows, market) if rows and market is not None else None
        if rel is not None and rel > 0:
            months.append(month.period)
            relative.append(rel)
    return OwnPrice(months, relative)


def check_amount_vs_market(ctx: EnterpriseContext) -> list[Finding]:
    """The month's sales price relative to the market against the enterprise's own relative
    price over its earlier months (tolerance: ``z_threshold`` x its own dispersion, at least
    ``min_gap_fraction``); with fewer than ``min_history_months`` such months, against the
    market band ``tolerance_fraction`` (and the evidence says so). A price above the usual
    level is kept as info: the rule looks for revenue understated (issue 12, class 4), and
    invoicing more per tonne hides neither revenue nor output (tuning sim base 16 and 71:
    clean plants at +3.4 % and +3.7 % against tolerances of ±3.0 %)."""
    band = ctx.settings.value(MARKET, "tolerance_fraction")
    least = ctx.settings.count(MARKET, "min_history_months")
    z = ctx.settings.value(MARKET, "z_threshold")
    floor = ctx.settings.value(MARKET, "min_gap_fraction")
    ctx.settings.count(MARKET, HISTORY_MONTHS)  # read by the loader (verify/enterprises.py)
    out = []
    for item, rows in sorted(_sales(ctx.sources.invoices).items()):
        price = ctx.sources.prices.get(item)
        rel = None if price is None else relative_price(rows, price)
        if price is None or rel is None or rel <= 0:
            continue
        history = own_price(ctx, item)
        amount = sum(i.amount_cny for i in rows)
        evidence: dict[str, object] = {
            "item": item,
            "amount_cny": rounded(amount, 2),
            "price_cny_per_unit": price.price_cny_per_unit,
            "price_unit": price.unit,
            "relative_price": rounded(rel),
            "history_months": history.months,
        }
        if len(history.months) >= least:
            usual = history.center
            gap = rel / usual - 1
            tol = max(floor, float(np.expm1(z * history.dispersion)))
            basis = "own_history"
            evidence |= {
                "usual_relative_price": rounded(usual),
                "dispersion_fraction": rounded(history.dispersion),
                "robust_z": rounded(np.log(rel / usual) / max(history.dispersion, 1e-9), 2),
            }
            what = (
                f"sold at {rel:.1%} of the market price, its usual {usual:.1%} over "
                f"{len(history.months)} months"
            )
        else:
            gap, tol, basis = rel - 1, band, "market_band"
            evidence["history_too_short"] = (
                f"{len(history.months)} earlier month(s) with sales and a market price, "
                f"fewer than {least}: judged against the market band"
            )
            what = f"sold at {rel:.1%} of the market price"
        if abs(gap) <= tol:
            continue
        evidence |= {
            "basis": basis,
            "expected_cny": rounded(amount / (1 + gap), 2),
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
        }
        above = " (above its usual price: no revenue hidden)" if gap > 0 else ""
        out.append(
            finding(
                ctx,
                MARKET,
                f"{item}: sales amount {human(amount)} CNY, {what} ({gap:+.1%}, "
                f"tolerance ±{tol:.1%}){above}",
                evidence,
                fraction=gap,
                severity="info" if gap > 0 else None,
            )
        )
    return out


SHIPPED_CHECK = Check(
    SHIPPED,
    "integrity",
    {SHIPPED: ("revenue_mismatch",)},
    run_province=check_sales_vs_shipped,
    shared=("min_gap_fraction",),
    summarise=sales_gaps,  # the window's earlier months go with the readings
)
MARKET_CHECK = Check(
    MARKET,
    "integrity",
    {MARKET: ("revenue_mismatch", "revenue_underpriced")},
    run=check_amount_vs_market,
)
