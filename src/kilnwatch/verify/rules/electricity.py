"""Electricity: entry meters vs the grid company's billed total vs the purchase invoice.

The grid company's billing meter and the enterprise's entry meters measure the same flow, so
they agree within the meters' accuracy classes; the purchase invoice is issued on the billed
total.
"""

from __future__ import annotations

from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding, rounded
from kilnwatch.verify.rules._base import converted, finding, source_ref, tce_of, tolerance

GRID = "verify.electricity.grid_vs_metered"
INVOICE = "verify.electricity.invoice_vs_grid"


def check_grid_vs_metered(ctx: EnterpriseContext) -> list[Finding]:
    grid = ctx.sources.grid
    meters = ctx.by_level("entry", "electricity")
    if grid is None or not meters or not ctx.settings.enabled(GRID):
        return []
    parts = [converted(m.total, m.info.uom, "kWh") for m in meters]
    if any(p is None for p in parts) or grid.electricity_kwh <= 0:
        return []
    metered = sum(p for p in parts if p is not None)
    gap = (metered - grid.electricity_kwh) / grid.electricity_kwh
    accuracies = [m.info.accuracy_pct for m in meters]
    tol = tolerance(ctx, GRID, [*accuracies, max((a or 0.0) for a in accuracies) or None])
    if abs(gap) <= tol:
        return []
    evidence = {
        "grid": {"electricity_kwh": grid.electricity_kwh, **source_ref(grid)},
        "metered": {
            "electricity_kwh": rounded(metered),
            "meters": [
                {"code": m.info.code, "total": rounded(m.total), "unit": m.info.uom} for m in meters
            ],
        },
        "gap_fraction": rounded(gap),
        "tolerance_fraction": rounded(tol),
    }
    low = grid.electricity_kwh - metered
    return [
        finding(
            ctx,
            GRID,
            f"entry electricity meters {metered:.6g} kWh vs grid company {grid.electricity_kwh:g}"
            f" kWh ({gap:+.1%})",
            evidence,
            fraction=gap,
            tce=tce_of("electricity", low, "kWh") if low > 0 else None,
            meter=meters[0].info if len(meters) == 1 else None,
        )
    ]


def check_invoice_vs_grid(ctx: EnterpriseContext) -> list[Finding]:
    grid = ctx.sources.grid
    bought = [
        i for i in ctx.sources.invoices if i.direction == "purchase" and i.item == "electricity"
    ]
    if grid is None or not bought or not ctx.settings.enabled(INVOICE):
        return []
    parts = [converted(i.quantity, i.unit, "kWh") for i in bought]
    if any(p is None for p in parts) or grid.electricity_kwh <= 0:
        return []
    invoiced = sum(p for p in parts if p is not None)
    gap = (invoiced - grid.electricity_kwh) / grid.electricity_kwh
    tol = ctx.settings.value(INVOICE, "min_gap_fraction")
    if abs(gap) <= tol:
        return []
    evidence = {
        "grid": {"electricity_kwh": grid.electricity_kwh, **source_ref(grid)},
        "invoiced": {
            "electricity_kwh": rounded(invoiced),
            "invoices": [i.invoice_no for i in bought],
        },
        "gap_fraction": rounded(gap),
        "tolerance_fraction": rounded(tol),
    }
    return [
        finding(
            ctx,
            INVOICE,
            f"electricity invoiced {invoiced:.6g} kWh vs grid {grid.electricity_kwh:g}"
            f" kWh ({gap:+.1%})",
            evidence,
            fraction=gap,
        )
    ]
