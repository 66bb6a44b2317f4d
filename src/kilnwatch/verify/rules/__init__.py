"""The verification rules and detectors, run in this order for each enterprise and period."""

from __future__ import annotations

from collections.abc import Callable

from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding

Check = Callable[[EnterpriseContext], list[Finding]]


def all_checks() -> tuple[Check, ...]:
    """Every per-enterprise check (imported lazily to keep the import graph flat)."""
    from kilnwatch.verify.detectors.balance import check_capped
    from kilnwatch.verify.detectors.flags import check_flags
    from kilnwatch.verify.detectors.timeseries import (
        check_corrections,
        check_duplicates,
        check_gaps,
        check_impossible,
        check_late,
        check_stuck,
    )
    from kilnwatch.verify.rules.electricity import check_grid_vs_metered, check_invoice_vs_grid
    from kilnwatch.verify.rules.fuel import check_coal_balance, check_fuel_invoices
    from kilnwatch.verify.rules.reported import check_reported
    from kilnwatch.verify.rules.revenue import check_amount_vs_market, check_sales_vs_shipped

    return (
        check_reported,
        check_grid_vs_metered,
        check_invoice_vs_grid,
        check_fuel_invoices,
        check_coal_balance,
        check_sales_vs_shipped,
        check_amount_vs_market,
        check_capped,
        check_gaps,
        check_stuck,
        check_impossible,
        check_corrections,
        check_late,
        check_duplicates,
        check_flags,
    )


def check_correlated(ctx: EnterpriseContext) -> list[Finding]:
    """Intensity drops first, then sub-meter ratios that those drops do not explain."""
    from kilnwatch.verify.detectors.balance import (
        check_intensity,
        check_submeters,
        intensity_shifts,
    )

    shifts = intensity_shifts(ctx)
    return check_intensity(ctx, shifts) + check_submeters(ctx, shifts)


def run_checks(ctx: EnterpriseContext) -> list[Finding]:
    """All findings of one enterprise and period."""
    out = check_correlated(ctx)
    for check in all_checks():
        out += check(ctx)
    return _without_explained_ratios(ctx, _without_capped_repeats(out))


def _without_explained_ratios(ctx: EnterpriseContext, findings: list[Finding]) -> list[Finding]:
    """A parent/sub-meter ratio change or an intensity drop over days where that meter (or a
    sub-meter) had readings re-sent with other values is explained by that correction,
    which is reported on its own."""
    corrected = [f for f in findings if f.rule_code == "verify.timeseries.corrections"]

    def explained(f: Finding) -> bool:
        explainable = f.rule_code.startswith("verify.submeter.") or f.rule_code == (
            "verify.meter.intensity_drop"
        )
        if not explainable or f.meter_id is None:
            return False
        related = {f.meter_id} | {c.info.id for c in ctx.children(f.meter_id)}
        return any(
            c.meter_id in related and c.start_at < f.end_at and f.start_at < c.end_at
            for c in corrected
        )

    return [f for f in findings if not explained(f)]


def _without_capped_repeats(findings: list[Finding]) -> list[Finding]:
    """A clipped meter repeats its cap; that is the cap, not a second (stuck) fault."""
    capped = {f.meter_id for f in findings if f.rule_code == "verify.meter.capped"}
    return [
        f
        for f in findings
        if not (f.rule_code == "verify.timeseries.stuck" and f.meter_id in capped)
    ]
