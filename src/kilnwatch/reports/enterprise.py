"""An enterprise's one-page profile (企业能耗概况) for a period: who it is, each production
unit's energy, intensity and efficiency level, energy by carrier, intensity against last year
and the base year, credibility and standing findings.

Figures come from the same services as the API (``/accounting/units``,
``/accounting/intensity?by=enterprise``, ``/findings``, ``/credibility``).
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kilnwatch.reference.energy import load_coal_coefficients
from kilnwatch.reference.levels import load_targets
from kilnwatch.reference.registry import load_industries, load_processes
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import (
    CellValue,
    Column,
    Fact,
    ReportDocument,
    Section,
    Table,
    Text,
)
from kilnwatch.reports.monthly import INTENSITY_TARGET, STANDING_STATUSES
from kilnwatch.reports.services import (
    UnitAccount,
    intensity_rows,
    month_labels,
    same_period_in,
    unit_accounts,
)
from kilnwatch.store.models import CredibilityScore, Enterprise, FindingRecord, Region

ELECTRICITY = Text("电力", "electricity")
MAX_FINDINGS = 15
"""Findings listed on the one page (the most severe first); the count says how many stand."""
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


@cache
def carrier_names() -> dict[str, Text]:
    names = {c.carrier: Text(c.name_zh, c.name_en) for c in load_coal_coefficients()}
    names["electricity"] = ELECTRICITY
    return names


def _units_table(accounts: list[UnitAccount]) -> Table:
    processes = load_processes()
    columns = (
        Column("unit", kind="text"),
        Column("process", kind="text"),
        Column("capacity", digits=0),
        Column("capacity_unit", kind="text"),
        Column("production", digits=1),
        Column("production_unit", kind="text"),
        Column("energy_tce", unit="tce"),
        Column("intensity", digits=2),
        Column("intensity_unit", kind="text"),
        Column("class", kind="code", codes="class"),
        Column("gap_to_baseline_tce_per_year", unit="tce/a", digits=0),
    )
    rows: list[tuple[CellValue, ...]] = []
    for a in accounts:
        p = processes.get(a.process)
        rows.append(
            (
                a.unit_code,
                Text(p.name_zh, p.name_en) if p else a.process,
                a.capacity,
                a.capacity_unit,
                a.production,
                a.production_unit,
                a.energy_tce,
                a.intensity,
                a.intensity_unit,
                a.class_,
                a.gap_to_baseline_tce_per_year,
            )
        )
    return Table("units", Text("生产单元", "Production units"), columns, tuple(rows))


def _carriers_table(accounts: list[UnitAccount]) -> Table:
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for a in accounts:
        for i in a.inputs:
            if not i.carrier.startswith("product:"):
                totals[(i.carrier, i.unit)] += i.quantity
    names = carrier_names()
    columns = (
        Column("carrier", kind="text"),
        Column("quantity", digits=1),
        Column("unit_of_measure", kind="text"),
    )
    rows = tuple(
        (names.get(carrier, Text(carrier, carrier)), q, unit)
        for (carrier, unit), q in sorted(totals.items())
    )
    return Table("carriers", Text("能源消费（计量）", "Energy use (metered)"), columns, rows)


def _intensity_table(ctx: ReportContext, uscc: str) -> Table:
    tz = ctx.timezone
    year = ctx.period.start.astimezone(ZoneInfo(tz)).year
    base_year = load_targets()[INTENSITY_TARGET].base_year or 2020
    columns = (
        Column("period", kind="text"),
        Column("energy_tce", unit="tce"),
        Column("energy_intensity", unit="tce/10k_CNY", digits=4),
        Column("co2_t", unit="tCO2"),
        Column("energy_intensity_vs_base_fraction", kind="fraction"),
    )
    rows: list[tuple[CellValue, ...]] = []
    now_added = False
    for other in (
        same_period_in(ctx.period, year - 1),
        same_period_in(ctx.period, base_year),
    ):
        found = [
            r
            for r in intensity_rows(ctx.session, ctx.principal, ctx.period, other, "enterprise")
            if r.key == uscc
        ]
        if not found:
            continue
        r = found[0]
        if not now_added:
            rows.append(
                (
                    ctx.period.label,
                    r.period.energy_tce,
                    r.period.energy_intensity_tce_per_10k_cny,
                    r.period.co2_t,
                    None,
                )
            )
            now_added = True
        rows.append(
            (
                other.label,
                r.base.energy_tce,
                r.base.energy_intensity_tce_per_10k_cny,
                r.base.co2_t,
                r.energy_change_fraction,
            )
        )
    return Table(
        "intensity",
        Text("进出用能单位能耗与强度", "Entry-metered energy and intensity"),
        columns,
        tuple(rows),
        notes=(Text("强度以销售发票收入计。", "Intensity per 10⁴ CNY of invoiced sales."),),
    )


def _findings_table(ctx: ReportContext, enterprise: Enterprise) -> tuple[Table, int]:
    stmt = (
        select(FindingRecord)
        .where(FindingRecord.enterprise_id == enterprise.id)
        .where(FindingRecord.period.in_(month_labels(ctx.period)))
        .where(FindingRecord.status.in_(STANDING_STATUSES))
    )
    found = sorted(
        ctx.session.scalars(stmt), key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.id)
    )
    columns = (
        Column("period", kind="text"),
        Column("severity", kind="code", codes="severity"),
        Column("status", kind="code", codes="status"),
        Column("rule_code", kind="text"),
        Column("message", kind="text"),
    )
    rows = tuple(
        (f.period, f.severity, f.status, f.rule_code, f.message) for f in found[:MAX_FINDINGS]
    )
    title = Text("未处理和已确认的核查问题", "Open and confirmed findings")
    return Table("findings", title, columns, rows), len(found)


def _credibility(ctx: ReportContext, enterprise_id: int) -> float | None:
    """The lowest monthly credibility score of the period (the weakest month)."""
    scores = ctx.session.scalars(
        select(CredibilityScore.score).where(
            CredibilityScore.enterprise_id == enterprise_id,
            CredibilityScore.period.in_(month_labels(ctx.period)),
        )
    ).all()
    return min(scores) if scores else None


def enterprise_report(ctx: ReportContext) -> ReportDocument:
    """The one-page profile of the enterprise in ``ctx.scope``."""
    e = ctx.scope.enterprise
    assert e is not None, "the catalogue resolves the enterprise first"
    accounts = unit_accounts(ctx.session, ctx.principal, ctx.period)
    findings, standing = _findings_table(ctx, e)
    region = ctx.session.get(Region, e.region_code)
    industry = load_industries().get(e.industry)
    energy = sum(a.energy_tce or 0.0 for a in accounts)
    co2 = sum(a.co2_t or 0.0 for a in accounts)
    facts = (
        Fact("col.uscc", e.uscc),
        Fact(
            "col.region",
            Text(region.name_zh, region.name_en or region.name_zh) if region else e.region_code,
        ),
        Fact("col.industry", Text(industry.name_zh, industry.name_en) if industry else e.industry),
        Fact("col.energy_tce", energy, kind="number", unit="tce"),
        Fact("col.co2_t", co2, kind="number", unit="tCO2"),
        Fact("col.score", _credibility(ctx, e.id), kind="number", unit="score"),
        Fact("col.open_findings", standing, kind="integer"),
    )
    tables = (_units_table(accounts), _carriers_table(accounts), _intensity_table(ctx, e.uscc))
    return ReportDocument(
        name="enterprise",
        title=Text(f"{e.name} 能耗概况", f"{e.name}: profile"),
        scope=Text(e.name, e.name),
        period=ctx.period.label,
        generated_at=ctx.generated_at,
        timezone=ctx.timezone,
        facts=facts,
        sections=(
            Section("accounts", Text("能耗与能效", "Energy and efficiency"), tables),
            Section("findings", Text("核查问题", "Findings"), (findings,)),
        ),
        notes=(
            Text(
                "数据可信度取统计期内各月最低分。",
                "The credibility score is the lowest monthly score of the period.",
            ),
        ),
    )


__all__ = ["enterprise_report"]
