"""Fuels: purchase invoices vs entry meters, and the coal mass balance against logistics.

Both cumulate ``window_months`` months ending with the verified month
(:mod:`kilnwatch.verify.window`): fuel is bought and delivered in lots and stocked, so one
month's purchases and one month's consumption differ by the stock change.

Coal mass balance: coal delivered (rail and road waybills in) = coal consumed + stock change.
Without stock data the stock change over the window is bounded by one delivery lot (deliveries
are made in lots as the stock runs down), so the tolerance is the meters' tolerance plus the
largest lot of the window relative to the metered consumption.
"""

from __future__ import annotations

from kilnwatch.store.models import TaxInvoice
from kilnwatch.verify.check import METER_FAULTS, Check
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.evidence import Tolerance, converted_sum, finding, rounded, tce_of
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.window import Window, window_of

INVOICE = "verify.fuel.invoice_vs_metered"
COAL = "verify.coal_balance.unmetered"
COAL_CARRIER = "raw_coal"
WAYBILLS_LISTED = 50  # waybill numbers named in the evidence (the count is always there)


def _is_fuel_purchase(invoice: TaxInvoice) -> bool:
    return (
        invoice.direction == "purchase"
        and invoice.item != "electricity"
        and ":" not in invoice.item
    )


def check_fuel_invoices(ctx: EnterpriseContext) -> list[Finding]:
    """Per purchased carrier (not electricity): invoiced quantity vs the entry meters."""
    min_quantity = ctx.settings.value(INVOICE, "min_quantity")
    tolerance = Tolerance.of(ctx.settings, INVOICE)
    months = ctx.settings.count(INVOICE, "window_months")
    earlier = [i for month in ctx.earlier[: months - 1] for i in month.invoices]
    bought = [*ctx.sources.invoices, *earlier]
    out = []
    for carrier in sorted({i.item for i in bought if _is_fuel_purchase(i)}):
        meters = ctx.by_level("entry", carrier)
        if not meters:
            continue
        window = window_of(ctx, months, meters, invoices=True)
        rows = [i for i in window.invoices if _is_fuel_purchase(i) and i.item == carrier]
        uom = meters[0].info.uom
        invoiced = converted_sum([(i.quantity, i.unit) for i in rows], uom)
        if invoiced is None or invoiced < min_quantity:
            continue
        metered = sum(window.total(m) for m in meters)
        gap = (metered - invoiced) / invoiced
        tol = tolerance.of_meters(m.info.accuracy_pct for m in meters)
        if abs(gap) > tol:
            compared = (invoiced, metered, gap, tol)
            out.append(_invoice_finding(ctx, carrier, meters, window, rows, compared))
    return out


def _invoice_finding(
    ctx: EnterpriseContext, carrier: str, meters: list[MeterData], window: Window,
    rows: list[TaxInvoice], compared: tuple[float, float, float, float],
) -> Finding:  # fmt: skip
    """``compared``: (invoiced, metered [meter unit], gap, tolerance [fraction])."""
    uom = meters[0].info.uom
    invoiced, metered, gap, tol = compared
    evidence = {
        "carrier": carrier,
        "months": window.periods,
        "invoiced": {
            "quantity": rounded(invoiced),
            "unit": uom,
            "invoices": [i.invoice_no for i in rows],
        },
        "metered": {
            "quantity": rounded(metered),
            "unit": uom,
            "meters": [{"code": m.info.code, "total": rounded(window.total(m))} for m in meters],
        },
        "gap_fraction": rounded(gap),
        "tolerance_fraction": rounded(tol),
    }
    low = invoiced - metered
    return finding(
        ctx,
        INVOICE,
        f"{carrier}: invoiced {invoiced:.6g} {uom}, metered {metered:.6g} ({gap:+.1%})"
        f"{window.describe()}",
        evidence,
        fraction=gap,
        tce=tce_of(carrier, low, uom) if low > 0 else None,
        meter=meters[0].info if len(meters) == 1 else None,
        severity="info" if any(m.undercounts() for m in meters) else None,
        start_at=window.start_at,
    )


def check_coal_balance(ctx: EnterpriseContext) -> list[Finding]:
    """Coal delivered over the window beyond metered consumption plus one lot of stock
    change."""
    min_quantity = ctx.settings.value(COAL, "min_quantity")
    tolerance = Tolerance.of(ctx.settings, COAL)
    months = ctx.settings.count(COAL, "window_months")
    meters = ctx.by_level("entry", COAL_CARRIER)
    window = window_of(ctx, months, meters, waybills=True)
    lots = [w for w in window.waybills if w.direction == "in" and w.item == COAL_CARRIER]
    metered_t = converted_sum([(window.total(m), m.info.uom) for m in meters], "t")
    if not meters or not lots or metered_t is None or metered_t < min_quantity:
        return []
    delivered_t = sum(w.quantity_t for w in lots)
    largest_lot_t = max(w.quantity_t for w in lots)
    tol = tolerance.of_meters(m.info.accuracy_pct for m in meters) + largest_lot_t / metered_t
    excess_t = delivered_t - metered_t
    if excess_t / metered_t <= tol:
        return []
    evidence = {
        "months": window.periods,
        "delivered_t": rounded(delivered_t),
        "waybills": len(lots),
        "waybill_nos": [w.waybill_no for w in lots][:WAYBILLS_LISTED],
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
            f"{excess_t:.6g} t not accounted for{window.describe()}",
            evidence,
            fraction=excess_t / delivered_t,
            tce=tce_of(COAL_CARRIER, excess_t, "t"),
            severity="info" if any(m.undercounts() for m in meters) else None,
            start_at=window.start_at,
        )
    ]


SHARED = ("min_quantity", *Tolerance.PARAMETERS)
INVOICE_CHECK = Check(
    INVOICE, "integrity", {INVOICE: METER_FAULTS}, run=check_fuel_invoices, shared=SHARED
)
COAL_CHECK = Check(
    COAL, "integrity", {COAL: ("unmetered_coal",)}, run=check_coal_balance, shared=SHARED
)
