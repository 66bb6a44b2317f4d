"""Fuels: purchase invoices vs entry meters, and the coal mass balance against logistics.

Coal mass balance: coal delivered (rail and road waybills in) = coal consumed + stock change.
Without stock data the stock change of a month is bounded by one delivery lot (deliveries are
made in lots as the stock runs down), so the tolerance is the minimum gap plus the largest lot
relative to the metered consumption.
"""

from __future__ import annotations

from collections import defaultdict

from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.findings import Finding, rounded
from kilnwatch.verify.rules._base import converted, finding, tce_of, tolerance

INVOICE = "verify.fuel.invoice_vs_metered"
COAL = "verify.coal_balance.unmetered"
COAL_CARRIER = "raw_coal"


def _incomplete(meters: list[MeterData]) -> bool:
    """Interval meters that missed readings undercount: the gap is its own finding."""
    return any(m.info.measurement == "interval" and not m.full_days().all() for m in meters)


def check_fuel_invoices(ctx: EnterpriseContext) -> list[Finding]:
    """Per purchased carrier (not electricity): invoiced quantity vs the entry meters."""
    if not ctx.settings.enabled(INVOICE):
        return []
    by_carrier: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for i in ctx.sources.invoices:
        if i.direction == "purchase" and i.item != "electricity" and ":" not in i.item:
            by_carrier[i.item].append((i.quantity, i.unit, i.invoice_no))
    out = []
    for carrier, rows in sorted(by_carrier.items()):
        meters = ctx.by_level("entry", carrier)
        if not meters:
            continue
        uom = meters[0].info.uom
        parts = [converted(q, u, uom) for q, u, _ in rows]
        if any(p is None for p in parts):
            continue
        invoiced = sum(p for p in parts if p is not None)
        metered = sum(m.total for m in meters)
        if invoiced < ctx.settings.value(INVOICE, "min_quantity"):
            continue
        gap = (metered - invoiced) / invoiced
        tol = tolerance(ctx, INVOICE, [m.info.accuracy_pct for m in meters])
        if abs(gap) <= tol:
            continue
        evidence = {
            "carrier": carrier,
            "invoiced": {
                "quantity": rounded(invoiced),
                "unit": uom,
                "invoices": [n for _, _, n in rows],
            },
            "metered": {
                "quantity": rounded(metered),
                "unit": uom,
                "meters": [{"code": m.info.code, "total": rounded(m.total)} for m in meters],
            },
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
        }
        low = invoiced - metered
        out.append(
            finding(
                ctx,
                INVOICE,
                f"{carrier}: invoiced {invoiced:.6g} {uom}, metered {metered:.6g} ({gap:+.1%})",
                evidence,
                fraction=gap,
                tce=tce_of(carrier, low, uom) if low > 0 else None,
                meter=meters[0].info if len(meters) == 1 else None,
                severity="info" if _incomplete(meters) else None,
            )
        )
    return out


def check_coal_balance(ctx: EnterpriseContext) -> list[Finding]:
    """Coal delivered in the month beyond metered consumption plus one lot of stock change."""
    meters = ctx.by_level("entry", COAL_CARRIER)
    lots = [w for w in ctx.sources.waybills if w.direction == "in" and w.item == COAL_CARRIER]
    if not meters or not lots or not ctx.settings.enabled(COAL):
        return []
    parts = [converted(m.total, m.info.uom, "t") for m in meters]
    if any(p is None for p in parts):
        return []
    metered_t = sum(p for p in parts if p is not None)
    delivered_t = sum(w.quantity_t for w in lots)
    if metered_t < ctx.settings.value(COAL, "min_quantity"):
        return []
    largest_lot_t = max(w.quantity_t for w in lots)
    tol = tolerance(ctx, COAL, [m.info.accuracy_pct for m in meters]) + largest_lot_t / metered_t
    excess_t = delivered_t - metered_t
    if excess_t / metered_t <= tol:
        return []
    evidence = {
        "delivered_t": rounded(delivered_t),
        "waybills": len(lots),
        "waybill_nos": [w.waybill_no for w in lots][:50],
        "largest_lot_t": rounded(largest_lot_t),
        "metered_t": rounded(metered_t),
        "meters": [m.info.code for m in meters],
        "excess_fraction_of_delivered": rounded(excess_t / delivered_t),
        "tolerance_fraction": rounded(tol),
    }
    return [
        finding(
            ctx,
            COAL,
            f"coal delivered {delivered_t:.6g} t vs metered {metered_t:.6g} t: "
            f"{excess_t:.6g} t not accounted for",
            evidence,
            fraction=excess_t / delivered_t,
            tce=tce_of(COAL_CARRIER, excess_t, "t"),
            severity="info" if _incomplete(meters) else None,
        )
    ]
