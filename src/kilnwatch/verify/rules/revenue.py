"""Production, shipments and revenue: sales invoices vs product shipped out (logistics) and
vs metered output for products that cannot be stored (electricity), and invoiced amounts vs
quantity times the month's market price."""

from __future__ import annotations

from collections import defaultdict

from kilnwatch.domain.units import dimension_of
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding, rounded
from kilnwatch.verify.rules._base import converted, finding

SHIPPED = "verify.revenue.sales_vs_shipped"
MARKET = "verify.revenue.amount_vs_market"


def _sales(ctx: EnterpriseContext) -> dict[str, list[tuple[float, str, float, str]]]:
    sales: dict[str, list[tuple[float, str, float, str]]] = defaultdict(list)
    for i in ctx.sources.invoices:
        if i.direction == "sale":
            sales[i.item].append((i.quantity, i.unit, i.amount_cny, i.invoice_no))
    return sales


def _counterpart(ctx: EnterpriseContext, item: str, unit: str) -> tuple[float, str, float] | None:
    """(quantity [unit], what, largest lot) the sales of ``item`` should match."""
    try:
        storable = dimension_of(unit) != "energy"
    except Exception:  # noqa: BLE001 - an unknown unit is reported by the importer
        return None
    if storable:
        lots = [
            w.quantity_t for w in ctx.sources.waybills if w.direction == "out" and w.item == item
        ]
        quantity = converted(sum(lots), "t", unit) if lots else None
        return None if quantity is None else (quantity, "shipped (logistics out)", max(lots))
    meters = [m for m in ctx.meters.values() if m.info.carrier == item]
    totals = [converted(m.total, m.info.uom, unit) for m in meters]
    if not meters or any(t is None for t in totals):
        return None
    return sum(t for t in totals if t is not None), "metered output", 0.0


def check_sales_vs_shipped(ctx: EnterpriseContext) -> list[Finding]:
    if not ctx.settings.enabled(SHIPPED):
        return []
    out = []
    for item, rows in sorted(_sales(ctx).items()):
        unit = rows[0][1]
        parts = [converted(q, u, unit) for q, u, _, _ in rows]
        other = _counterpart(ctx, item, unit)
        if other is None or any(p is None for p in parts) or other[0] <= 0:
            continue
        declared = sum(p for p in parts if p is not None)
        counterpart, what, lot = other
        gap = (declared - counterpart) / counterpart
        tol = ctx.settings.value(SHIPPED, "min_gap_fraction") + lot / counterpart
        if abs(gap) <= tol:
            continue
        evidence = {
            "item": item,
            "declared_sales": rounded(declared),
            "unit": unit,
            "counterpart": what,
            "counterpart_quantity": rounded(counterpart),
            "invoices": [n for *_, n in rows],
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
        }
        out.append(
            finding(
                ctx,
                SHIPPED,
                f"{item}: sales invoiced {declared:.6g} {unit} vs {what} "
                f"{counterpart:.6g} ({gap:+.1%})",
                evidence,
                fraction=gap,
            )
        )
    return out


def check_amount_vs_market(ctx: EnterpriseContext) -> list[Finding]:
    if not ctx.settings.enabled(MARKET):
        return []
    out = []
    for item, rows in sorted(_sales(ctx).items()):
        price = ctx.sources.prices.get(item)
        if price is None:
            continue
        parts = [converted(q, u, price.unit) for q, u, _, _ in rows]
        if any(p is None for p in parts):
            continue
        expected = sum(p for p in parts if p is not None) * price.price_cny_per_unit
        amount = sum(a for _, _, a, _ in rows)
        if expected <= 0:
            continue
        gap = (amount - expected) / expected
        tol = ctx.settings.value(MARKET, "tolerance_fraction")
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
