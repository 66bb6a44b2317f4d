"""Electricity: entry meters vs the grid company's billed total vs the purchase invoice.

The grid company's billing meter and the enterprise's entry meters measure the same flow, so
they agree within the meters' accuracy classes; the purchase invoice is issued on the billed
total.
"""

from __future__ import annotations

from typing import Any

from kilnwatch.store.models import GridElectricity
from kilnwatch.verify.check import METER_FAULTS, Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.evidence import (
    Tolerance,
    converted_sum,
    finding,
    rounded,
    source_ref,
    tce_of,
)
from kilnwatch.verify.findings import Finding

GRID = "verify.electricity.grid_vs_metered"
INVOICE = "verify.electricity.invoice_vs_grid"


def _versus_grid(
    ctx: EnterpriseContext, code: str, grid: GridElectricity,
    side: tuple[str, float, dict[str, Any]], tol: float, **where: Any,
) -> list[Finding]:  # fmt: skip
    """The finding of one side against the grid company's billed total: ``side`` = (the
    message up to the grid's figure, its kWh, its part of the evidence); ``where``: meter, tce."""
    head, kwh, compared = side
    gap = (kwh - grid.electricity_kwh) / grid.electricity_kwh
    evidence = {
        "grid": {"electricity_kwh": grid.electricity_kwh, **source_ref(grid)},
        **compared,
        "gap_fraction": rounded(gap),
        "tolerance_fraction": rounded(tol),
    }
    message = f"{head} {grid.electricity_kwh:g} kWh ({gap:+.1%})"
    return [finding(ctx, code, message, evidence, fraction=gap, **where)]


def check_grid_vs_metered(ctx: EnterpriseContext) -> list[Finding]:
    """Entry electricity meters vs the grid company's billed kWh."""
    tolerance = Tolerance.of(ctx.settings, GRID)
    grid = ctx.sources.grid
    meters = ctx.by_level("entry", "electricity")
    metered = converted_sum([(m.total, m.info.uom) for m in meters], "kWh")
    if grid is None or not meters or metered is None or grid.electricity_kwh <= 0:
        return []
    gap = (metered - grid.electricity_kwh) / grid.electricity_kwh
    accuracies = [m.info.accuracy_pct for m in meters]
    # the billing meter is taken to be of the class of the coarsest entry meter
    tol = tolerance.of_meters([*accuracies, max((a or 0.0) for a in accuracies) or None])
    if abs(gap) <= tol:
        return []
    compared = {
        "metered": {
            "electricity_kwh": rounded(metered),
            "meters": [
                {"code": m.info.code, "total": rounded(m.total), "unit": m.info.uom} for m in meters
            ],
        }
    }
    low = grid.electricity_kwh - metered
    head = f"entry electricity meters {metered:.6g} kWh vs grid company"
    return _versus_grid(
        ctx,
        GRID,
        grid,
        (head, metered, compared),
        tol,
        tce=tce_of("electricity", low, "kWh") if low > 0 else None,
        meter=meters[0].info if len(meters) == 1 else None,
    )


def check_invoice_vs_grid(ctx: EnterpriseContext) -> list[Finding]:
    """Electricity purchase invoices vs the grid company's billed kWh."""
    tol = ctx.settings.value(INVOICE, "min_gap_fraction")
    grid = ctx.sources.grid
    bought = [
        i for i in ctx.sources.invoices if i.direction == "purchase" and i.item == "electricity"
    ]
    invoiced = converted_sum([(i.quantity, i.unit) for i in bought], "kWh")
    if grid is None or not bought or invoiced is None or grid.electricity_kwh <= 0:
        return []
    gap = (invoiced - grid.electricity_kwh) / grid.electricity_kwh
    if abs(gap) <= tol:
        return []
    compared = {
        "invoiced": {
            "electricity_kwh": rounded(invoiced),
            "invoices": [i.invoice_no for i in bought],
        }
    }
    head = f"electricity invoiced {invoiced:.6g} kWh vs grid"
    return _versus_grid(ctx, INVOICE, grid, (head, invoiced, compared), tol)


GRID_CHECK = Check(
    GRID,
    "integrity",
    {GRID: METER_FAULTS},
    run=check_grid_vs_metered,
    shared=Tolerance.PARAMETERS,
)
INVOICE_CHECK = Check(
    INVOICE, "integrity", {INVOICE: ()}, run=check_invoice_vs_grid, shared=("min_gap_fraction",)
)
