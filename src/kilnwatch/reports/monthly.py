"""The monthly statistical analysis (两高行业月度统计分析): energy, coal, electricity, CO₂ and
intensities by city and industry, against the same period of last year and of the base year
(2020), with the 2025 targets, the capacity share at the benchmark level and the findings.

Every figure comes from the service functions behind the API's accounting endpoints
(``unit_accounts``/``group_accounts`` for ``/accounting/summary``, ``intensity_rows`` for
``/accounting/intensity``) and from the findings table the ``/findings`` endpoint lists, so a
report and the API agree for the same scope and period. Coal and electricity are the sums of
the same unit accounts' metered inputs (coal carriers: ``reference/energy/coal_carriers.csv``).

References
----------
.. [1] GB/T 2589-2020 (comprehensive energy consumption), through the accounting service.
.. [2] ``reference/levels/targets.csv``: share of capacity at the benchmark level > 30 % by
   2025; energy intensity 13.5 % below 2020 by 2025.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kilnwatch.domain.levels import target_fraction as fraction_of_target
from kilnwatch.domain.units import convert
from kilnwatch.reference.energy import load_coal_carriers
from kilnwatch.reference.levels import Target, load_targets
from kilnwatch.reference.registry import load_industries
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import (
    CellValue,
    Chart,
    Column,
    ReportDocument,
    Section,
    Table,
    Text,
)
from kilnwatch.reports.services import (
    GroupAccount,
    IntensityRow,
    ReportPeriod,
    UnitAccount,
    group_accounts,
    intensity_rows,
    month_labels,
    same_period_in,
    unit_accounts,
)
from kilnwatch.store.models import Enterprise, FindingRecord, Region
from kilnwatch.store.repos.scope import enterprise_scope

SHARE_TARGET = "share_at_benchmark_2025"
INTENSITY_TARGET = "energy_intensity_reduction_2025"
SEVERITIES = ("high", "medium", "low", "info")
STANDING_STATUSES = ("open", "confirmed")
"""Findings that stand: not dismissed as false, not closed by a re-run that no longer sees them."""
KWH_PER_10K_KWH = 10_000.0
TOTAL_KEY = "total"


@dataclass
class Quantities:
    """Energy [tce], coal [t], electricity [kWh] and CO₂ [t] of a group over one period."""

    energy_tce: float = 0.0
    coal_t: float = 0.0
    electricity_kwh: float = 0.0
    co2_t: float = 0.0


@dataclass
class GroupFigures:
    """One row of the report (a city, an industry or the total) over the three periods."""

    key: str
    name: Text
    now: Quantities = field(default_factory=Quantities)
    last: Quantities = field(default_factory=Quantities)
    base: Quantities = field(default_factory=Quantities)
    account: GroupAccount | None = None
    units_benchmark: int = 0
    vs_last: IntensityRow | None = None
    vs_base: IntensityRow | None = None


def group_key(acc: UnitAccount, by: str) -> str:
    """The key ``group_accounts`` groups a unit under (city, industry or province)."""
    if by == "city":
        return acc.region_code[:4] + "00"
    if by == "industry":
        return acc.industry
    return TOTAL_KEY


def quantities_by(accounts: Iterable[UnitAccount], by: str) -> dict[str, Quantities]:
    """Energy and CO₂ as accounted, coal [t] and electricity [kWh] from the metered inputs."""
    coal = load_coal_carriers()
    out: dict[str, Quantities] = defaultdict(Quantities)
    for acc in accounts:
        q = out[group_key(acc, by)]
        q.energy_tce += acc.energy_tce or 0.0
        q.co2_t += acc.co2_t or 0.0
        for i in acc.inputs:
            if i.carrier in coal:
                q.coal_t += convert(i.quantity, i.unit, "t")
            elif i.carrier == "electricity":
                q.electricity_kwh += convert(i.quantity, i.unit, "kWh")
    return out


def change(now: float | None, then: float | None) -> float | None:
    """(now - then) / then; None when there is no positive figure to compare with."""
    if now is None or not then:
        return None
    return (now - then) / then


def _names(ctx: ReportContext, by: str, keys: Iterable[str]) -> dict[str, Text]:
    if by == "industry":
        industries = load_industries()
        return {k: Text(v.name_zh, v.name_en) for k, v in industries.items()}
    regions = ctx.session.scalars(select(Region).where(Region.code.in_(list(keys))))
    return {r.code: Text(r.name_zh, r.name_en or r.name_zh) for r in regions}


@dataclass(frozen=True)
class Periods:
    now: ReportPeriod
    last: ReportPeriod
    base: ReportPeriod


def _figures(
    ctx: ReportContext,
    by: str,
    accounts: dict[str, list[UnitAccount]],
    periods: Periods,
) -> list[GroupFigures]:
    """Rows for ``by`` (``city``, ``industry``, or ``province`` for the total row)."""
    service_by = "province" if by == TOTAL_KEY else by
    quantities = {k: quantities_by(v, by) for k, v in accounts.items()}
    groups = {
        (TOTAL_KEY if by == TOTAL_KEY else g.key): g
        for g in group_accounts(ctx.session, accounts["now"], service_by)
    }
    vs_last = intensity_rows(ctx.session, ctx.principal, periods.now, periods.last, service_by)
    vs_base = intensity_rows(ctx.session, ctx.principal, periods.now, periods.base, service_by)

    def keyed(rows: Sequence[IntensityRow]) -> dict[str, IntensityRow]:
        return {(TOTAL_KEY if by == TOTAL_KEY else r.key): r for r in rows}

    last_rows, base_rows = keyed(vs_last), keyed(vs_base)
    keys = sorted(set(groups) | set(last_rows) | {k for q in quantities.values() for k in q})
    names = _names(ctx, by, keys)
    rows = []
    for key in keys:
        name = ctx.scope.name if by == TOTAL_KEY else names.get(key, Text(key, key))
        row = GroupFigures(key, name, account=groups.get(key))
        row.now, row.last, row.base = (
            quantities[p].get(key, Quantities()) for p in ("now", "last", "base")
        )
        row.units_benchmark = sum(
            a.class_ == "benchmark" for a in accounts["now"] if group_key(a, by) == key
        )
        row.vs_last, row.vs_base = last_rows.get(key), base_rows.get(key)
        rows.append(row)
    return rows


def _category(by: str) -> Column:
    return Column("industry" if by == "industry" else "city", kind="text")


def _pct(key: str) -> Column:
    return Column(key, kind="fraction")


def _quantity_table(
    by: str, rows: Sequence[GroupFigures], what: str, unit: str, digits: int = 1
) -> Table:
    """``what`` (energy_tce, coal_t, co2_t, electricity_10k_kwh) now, a year ago, in the base."""

    def value(q: Quantities) -> float:
        if what == "electricity_10k_kwh":
            return q.electricity_kwh / KWH_PER_10K_KWH
        return float(getattr(q, what))

    stem = what.rsplit("_", 1)[0] if what != "electricity_10k_kwh" else "electricity"
    columns = (
        _category(by),
        Column(what, unit=unit, digits=digits),
        Column(f"{what}_last_year", unit=unit, digits=digits),
        _pct(f"{stem}_yoy_fraction"),
        Column(f"{what}_base", unit=unit, digits=digits),
        _pct(f"{stem}_vs_base_fraction"),
    )
    body: list[tuple[CellValue, ...]] = []
    for r in rows:
        now, last, base = value(r.now), value(r.last), value(r.base)
        body.append((r.name, now, last, change(now, last), base, change(now, base)))
    chart = None
    if what == "energy_tce" and by != TOTAL_KEY:
        chart = Chart(
            "bar", f"chart.energy_by_{by}", _category(by).key, (what, f"{what}_last_year")
        )
    return Table(f"{by}.{what}", Text("", ""), columns, tuple(body), chart=chart)


def _intensity_table(by: str, rows: Sequence[GroupFigures], target: Target) -> Table:
    columns = (
        _category(by),
        Column("energy_intensity", unit="tce/10k_CNY", digits=4),
        Column("energy_intensity_last_year", unit="tce/10k_CNY", digits=4),
        _pct("energy_intensity_yoy_fraction"),
        Column("energy_intensity_base", unit="tce/10k_CNY", digits=4),
        _pct("energy_intensity_vs_base_fraction"),
        _pct("energy_intensity_target_fraction"),
        Column("energy_intensity_target", kind="code", codes="target"),
        Column("carbon_intensity", unit="tCO2/10k_CNY", digits=4),
        _pct("carbon_intensity_vs_base_fraction"),
    )
    target_fraction = -fraction_of_target(target)
    body: list[tuple[CellValue, ...]] = []
    for r in rows:
        last, base = r.vs_last, r.vs_base
        met = None if base is None or base.meets_energy_target is None else base.meets_energy_target
        body.append(
            (
                r.name,
                last.period.energy_intensity_tce_per_10k_cny if last else None,
                last.base.energy_intensity_tce_per_10k_cny if last else None,
                last.energy_change_fraction if last else None,
                base.base.energy_intensity_tce_per_10k_cny if base else None,
                base.energy_change_fraction if base else None,
                target_fraction,
                None if met is None else ("met" if met else "not_met"),
                base.period.carbon_intensity_t_per_10k_cny if base else None,
                base.carbon_change_fraction if base else None,
            )
        )
    return Table(f"{by}.intensity", Text("", ""), columns, tuple(body))


def _levels_table(by: str, rows: Sequence[GroupFigures], target: Target) -> Table:
    columns = (
        _category(by),
        Column("units", kind="integer"),
        Column("units_classified", kind="integer"),
        Column("units_benchmark", kind="integer"),
        Column("units_below_baseline", kind="integer"),
        _pct("share_at_benchmark_fraction"),
        _pct("share_target_fraction"),
        Column("share_target", kind="code", codes="target"),
    )
    target_fraction = fraction_of_target(target)
    body: list[tuple[CellValue, ...]] = []
    for r in rows:
        g = r.account
        met = None if g is None or g.meets_target is None else g.meets_target
        body.append(
            (
                r.name,
                g.units if g else 0,
                g.units_classified if g else 0,
                r.units_benchmark,
                g.units_below_baseline if g else 0,
                g.capacity_share_at_benchmark_fraction if g else None,
                target_fraction,
                None if met is None else ("met" if met else "not_met"),
            )
        )
    chart = None
    if by != TOTAL_KEY:
        chart = Chart(
            "bar",
            "chart.share_at_benchmark",
            _category(by).key,
            ("share_at_benchmark_fraction",),
            reference=target_fraction,
            reference_label="chart.target_30",
        )
    return Table(f"{by}.levels", Text("", ""), columns, tuple(body), chart=chart)


def findings_by_city(ctx: ReportContext) -> dict[str, dict[str, int]]:
    """Standing findings of the period's months per city and severity, in the caller's scope."""
    months = month_labels(ctx.period)
    city = func.substr(Enterprise.region_code, 1, 4)
    stmt = (
        select(city, FindingRecord.severity, func.count(FindingRecord.id))
        .join(Enterprise, Enterprise.id == FindingRecord.enterprise_id)
        .where(enterprise_scope(ctx.principal))
        .where(FindingRecord.period.in_(months))
        .where(FindingRecord.status.in_(STANDING_STATUSES))
        .group_by(city, FindingRecord.severity)
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SEVERITIES, 0))
    for prefix, severity, n in ctx.session.execute(stmt):
        counts[f"{prefix}00"][severity] = counts[f"{prefix}00"].get(severity, 0) + int(n)
    return counts


def _findings_table(ctx: ReportContext) -> Table:
    counts = findings_by_city(ctx)
    names = _names(ctx, "city", counts)
    columns = (
        Column("city", kind="text"),
        *(Column(f"findings_{s}", kind="integer") for s in SEVERITIES),
        Column("findings_total", kind="integer"),
    )
    body: list[tuple[CellValue, ...]] = []
    totals = dict.fromkeys(SEVERITIES, 0)
    for key in sorted(counts):
        c = counts[key]
        body.append((names.get(key, Text(key, key)), *(c[s] for s in SEVERITIES), sum(c.values())))
        for s in SEVERITIES:
            totals[s] += c[s]
    body.append((ctx.scope.name, *(totals[s] for s in SEVERITIES), sum(totals.values())))
    chart = Chart(
        "bar",
        "chart.findings_by_severity",
        "city",
        tuple(f"findings_{s}" for s in SEVERITIES),
    )
    return Table(
        "findings",
        Text("核查发现的问题（按严重程度）", "Findings by severity"),
        columns,
        tuple(body),
        chart=chart if len(body) > 1 else None,
        notes=(Text("计入未处理和已确认的问题。", "Open and confirmed findings are counted."),),
    )


TABLE_TITLES = {
    "energy_tce": Text("综合能耗", "Energy consumption"),
    "coal_t": Text("煤炭消费量", "Coal consumption"),
    "electricity_10k_kwh": Text("用电量", "Electricity consumption"),
    "co2_t": Text("二氧化碳排放量", "CO₂ emissions"),
    "intensity": Text("能耗强度和碳排放强度", "Energy and carbon intensity"),
    "levels": Text("能效水平与标杆产能占比", "Efficiency levels and share at benchmark"),
}
BY_TITLES = {
    TOTAL_KEY: Text("总体情况", "Overall"),
    "city": Text("分城市", "By city"),
    "industry": Text("分行业", "By industry"),
}


def _titled(table: Table, by: str, what: str) -> Table:
    title = TABLE_TITLES[what]
    prefix = BY_TITLES[by]
    return Table(
        table.key,
        Text(f"{prefix.zh}{title.zh}", f"{title.en} — {prefix.en.lower()}"),
        table.columns,
        table.rows,
        table.chart,
        table.notes,
    )


def _section(by: str, rows: Sequence[GroupFigures]) -> Section:
    targets = load_targets()
    tables = [
        _titled(_quantity_table(by, rows, "energy_tce", "tce"), by, "energy_tce"),
        _titled(_quantity_table(by, rows, "coal_t", "t"), by, "coal_t"),
        _titled(
            _quantity_table(by, rows, "electricity_10k_kwh", "10k_kWh", 2),
            by,
            "electricity_10k_kwh",
        ),
        _titled(_quantity_table(by, rows, "co2_t", "tCO2"), by, "co2_t"),
        _titled(_intensity_table(by, rows, targets[INTENSITY_TARGET]), by, "intensity"),
        _titled(_levels_table(by, rows, targets[SHARE_TARGET]), by, "levels"),
    ]
    return Section(by, BY_TITLES[by], tuple(tables))


def monthly_report(ctx: ReportContext) -> ReportDocument:
    """The monthly statistical analysis of ``ctx.period`` in ``ctx.scope``."""
    targets = load_targets()
    base_year = targets[INTENSITY_TARGET].base_year or 2020
    year = ctx.period.start.astimezone(ZoneInfo(ctx.timezone)).year
    periods = Periods(
        ctx.period,
        same_period_in(ctx.period, year - 1),
        same_period_in(ctx.period, base_year),
    )
    accounts = {
        tag: unit_accounts(ctx.session, ctx.principal, p)
        for tag, p in (("now", periods.now), ("last", periods.last), ("base", periods.base))
    }
    sections = [
        _section(by, _figures(ctx, by, accounts, periods)) for by in (TOTAL_KEY, "city", "industry")
    ]
    sections.append(
        Section("findings", Text("核查发现", "Verification findings"), (_findings_table(ctx),))
    )
    share, intensity = targets[SHARE_TARGET], targets[INTENSITY_TARGET]
    return ctx.document(
        "monthly",
        Text("两高行业能耗与碳排放月度统计分析", "Monthly statistical analysis"),
        tuple(sections),
        notes=(
            Text(
                f"上年同期为 {periods.last.label}，基期为 {periods.base.label}。"
                "综合能耗、二氧化碳排放量和能效水平按生产单元核算（GB/T 2589-2020），"
                "能耗强度按进出用能单位计量和销售发票收入计算。",
                f"Same period last year: {periods.last.label}; base: {periods.base.label}. "
                "Energy, CO₂ and efficiency levels are accounted per production unit "
                "(GB/T 2589-2020); intensities use entry meters and sales invoice revenue.",
            ),
        ),
        sources=tuple(
            Text(
                f"{t.target}: {t.value:g} {t.unit} — {t.source}（{t.confidence}）",
                f"{t.target}: {t.value:g} {t.unit} — {t.source} ({t.confidence})",
            )
            for t in (share, intensity)
        ),  # fmt: skip
    )


__all__ = ["GroupFigures", "Quantities", "findings_by_city", "monthly_report"]
