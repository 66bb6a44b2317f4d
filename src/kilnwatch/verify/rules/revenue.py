"""Production, shipments and revenue: sales invoices vs product shipped out (logistics) and
vs metered output for products that cannot be stored (electricity), cumulated over
``window_months`` (:mod:`kilnwatch.verify.window`); and invoiced amounts vs quantity times the
month's market price."""

from __future__ import annotations

from collections.abc import Sequence

from kilnwatch.domain.units import dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.store.models import TaxInvoice
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.evidence import converted_sum, finding, rounded
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.window import Window, window_of

SHIPPED = "verify.revenue.sales_vs_shipped"
MARKET = "verify.revenue.amount_vs_market"


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
    """(quantity [unit], what, largest lot, window) the sales of ``item`` should match."""
    storable = _storable(unit)
    if storable is None:
        return None
    if storable:
        window = window_of(ctx, months, [], invoices=True, waybills=True)
        lots = [w.quantity_t for w in window.waybills if w.direction == "out" and w.item == item]
        quantity = converted_sum([(sum(lots), "t")], unit) if lots else None
        return (
            None if quantity is None else (quantity, "shipped (logistics out)", max(lots), window)
        )
    meters = [m for m in ctx.meters.values() if m.info.carrier == item]
    window = window_of(ctx, months, meters, invoices=True)
    total = converted_sum([(window.total(m), m.info.uom) for m in meters], unit)
    if not meters or total is None:
        return None
    return total, "metered output", 0.0, window


def check_sales_vs_shipped(ctx: EnterpriseContext) -> list[Finding]:
    """Sales invoiced over the window vs what left the plant (or was metered) over it."""
    min_gap = ctx.settings.value(SHIPPED, "min_gap_fraction")
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
        gap = (declared - counterpart) / counterpart
        tol = min_gap + lot / counterpart
        if abs(gap) <= tol:
            continue
        evidence = {
            "item": item,
            "months": window.periods,
            "declared_sales": rounded(declared),
            "unit": unit,
            "counterpart": what,
            "counterpart_quantity": rounded(counterpart),
            "invoices": [i.invoice_no for i in rows],
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
        }
        out.append(
            finding(
                ctx,
                SHIPPED,
                f"{item}: sales invoiced {declared:.6g} {unit} vs {what} "
                f"{counterpart:.6g} ({gap:+.1%}){window.describe()}",
                evidence,
                fraction=gap,
                start_at=window.start_at,
            )
        )
    return out


def check_amount_vs_market(ctx: EnterpriseContext) -> list[Finding]:
    """Sales amount of the month vs its quantity at the month's market price."""
    tol = ctx.settings.value(MARKET, "tolerance_fraction")
    out = []
    for item, rows in sorted(_sales(ctx.sources.invoices).items()):
        price = ctx.sources.prices.get(item)
        if price is None:
            continue
        quantity = converted_sum([(i.quantity, i.unit) for i in rows], price.unit)
        if quantity is None:
            continue
        expected = quantity * price.price_cny_per_unit
        amount = sum(i.amount_cny for i in rows)
        if expected <= 0:
            continue
        gap = (amount - expected) / expected
        if abs(gap) <= tol:
            continue
        evidence = {
            "item": item,
            "amount_cny": rounded(amount, 2),
            "expected_cny": rounded(expected, 2),
            "price_cny_per_unit": price.price_cny_per_unit,
            "price_unit": price.unit,
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
        }
        out.append(
            finding(
                ctx,
                MARKET,
                f"{item}: sales amount {amount:.2f} CNY vs {expected:.2f} "
                f"CNY at market price ({gap:+.1%})",
                evidence,
                fraction=gap,
            )
        )
    return out


SHIPPED_CHECK = Check(
    SHIPPED,
    "integrity",
    {SHIPPED: ("revenue_mismatch",)},
    run=check_sales_vs_shipped,
    shared=("min_gap_fraction",),
)
MARKET_CHECK = Check(
    MARKET, "integrity", {MARKET: ("revenue_mismatch",)}, run=check_amount_vs_market
)
