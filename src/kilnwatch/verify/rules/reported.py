"""Statistical reports vs meters: energy per carrier and production per product.

The monthly statistical report (统计报表) must equal what the enterprise's own meters recorded:
energy at the entry meters (GB 17167 进出用能单位) and production at the product meters.
"""

from __future__ import annotations

from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.findings import Finding, rounded
from kilnwatch.verify.rules._base import converted, finding, source_ref, tce_of

ENERGY = "verify.metered_vs_reported.energy_gap"
PRODUCTION = "verify.metered_vs_reported.production_gap"


def _meters_for(ctx: EnterpriseContext, kind: str, name: str) -> list[MeterData]:
    if kind == "energy":
        return ctx.by_level("entry", name)
    return [m for m in ctx.meters.values() if m.info.carrier == f"product:{name}"]


def _incomplete(meters: list[MeterData]) -> bool:
    """Interval meters that missed readings undercount; counters do not."""
    return any(m.info.measurement == "interval" and not m.full_days().all() for m in meters)


def _code(kind: str, gap: float) -> str:
    if kind == "energy":
        return f"verify.metered_vs_reported.energy_{'over' if gap > 0 else 'under'}reported"
    return f"verify.metered_vs_reported.production_{'over' if gap > 0 else 'under'}reported"


def check_reported(ctx: EnterpriseContext) -> list[Finding]:
    """One finding per statistical item whose reported quantity departs from the meters."""
    out = []
    for item, report in sorted(ctx.sources.stats.items()):
        kind, _, name = item.partition(":")
        rule = ENERGY if kind == "energy" else PRODUCTION
        meters = _meters_for(ctx, kind, name)
        if not ctx.settings.enabled(rule) or not meters:
            continue
        parts = [converted(m.total, m.info.uom, report.unit) for m in meters]
        if any(p is None for p in parts):
            continue
        metered = sum(p for p in parts if p is not None)
        if metered < ctx.settings.value(rule, "min_quantity"):
            continue
        gap = (report.quantity - metered) / metered
        tol = ctx.settings.value(rule, "min_gap_fraction")
        if abs(gap) <= tol:
            continue
        missing = abs(metered - report.quantity)
        evidence = {
            "item": item,
            "reported": {"quantity": report.quantity, "unit": report.unit, **source_ref(report)},
            "metered": {
                "quantity": rounded(metered),
                "unit": report.unit,
                "meters": [{"code": m.info.code, "total": rounded(m.total)} for m in meters],
            },
            "gap_fraction": rounded(gap),
            "tolerance_fraction": rounded(tol),
            "meter_data_incomplete": _incomplete(meters),
        }
        out.append(
            finding(
                ctx,
                _code(kind, gap),
                f"{item}: reported {report.quantity:g} {report.unit}, meters {metered:.6g} "
                f"({gap:+.1%})",
                evidence,
                fraction=gap,
                tce=tce_of(name, missing, report.unit) if kind == "energy" and gap < 0 else None,
                severity="info" if _incomplete(meters) else None,
            )
        )
    return out
