"""The emissions report (污染物排放与用水): quantities of SO2, NOx and particulate matter by
enterprise and by stack with the valid-data share (HJ 75-2017), the exceedances against the
binding limits, and water withdrawal against the quotas.

Figures come from the same service as the API (``/emissions/summary``, ``/emissions/stacks``,
``/emissions/water``): :mod:`kilnwatch.emissions.service` and :mod:`kilnwatch.emissions.water`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from kilnwatch.emissions.service import EmissionTotal, Scope, emissions_scope
from kilnwatch.emissions.stacks import KG_PER_T, PollutantAccount, StackAccount
from kilnwatch.emissions.water import WaterAccount, water_accounts, water_source_names
from kilnwatch.reference.emissions import POLLUTANTS
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import CellValue, Column, Fact, ReportDocument, Section, Table, Text

POLLUTANT_NAMES = {
    "so2": Text("二氧化硫", "SO2"),
    "nox": Text("氮氧化物", "NOx"),
    "dust": Text("颗粒物", "particulate matter"),
}


STACK_COLUMNS = (
    Column("enterprise", kind="text"),
    Column("stack", kind="text", header=Text("排放口", "Stack")),
    Column("pollutant", kind="text", header=Text("污染物", "Pollutant")),
)
"""The columns naming a stack's pollutant (the enterprise's header from the label table)."""
LIMIT_COLUMN = Column("limit", unit="mg/m3", digits=1, header=Text("限值", "Limit"))
EXCEEDANCE_HOURS_COLUMN = Column(
    "exceedance_hours", kind="integer", header=Text("超标小时数", "Exceedance hours")
)


def _amount_columns() -> tuple[Column, ...]:
    return tuple(
        Column(
            f"{p}_t",
            unit="t",
            digits=3,
            header=Text(f"{POLLUTANT_NAMES[p].zh}排放量", f"{POLLUTANT_NAMES[p].en}"),
        )
        for p in POLLUTANTS
    )


def _totals_table(totals: list[EmissionTotal]) -> Table:
    columns = (
        Column("uscc", kind="text"),
        Column("enterprise", kind="text"),
        *_amount_columns(),
        Column("valid_share", kind="fraction", digits=1, header=Text("有效数据率", "Valid data")),
        EXCEEDANCE_HOURS_COLUMN,
        Column("exceedance_days", kind="integer", header=Text("超标天数", "Exceedance days")),
        Column("substituted_hours", kind="integer", header=Text("修约小时数", "Substituted hours")),
    )
    rows: list[tuple[CellValue, ...]] = []
    for t in totals:
        share = t.valid_share_pct
        rows.append(
            (
                t.key,
                t.name,
                *(t.amount_t[p] for p in POLLUTANTS),
                None if share is None else share / 100.0,
                t.exceedance_hours,
                t.exceedance_days,
                t.substituted_hours,
            )  # fmt: skip
        )
    return Table("by_enterprise", Text("按企业", "By enterprise"), columns, tuple(rows))


def _stack_pollutants(scope: Scope) -> Iterator[tuple[str, StackAccount, str, PollutantAccount]]:
    """(enterprise name, stack account, pollutant, its account) of every stack in ``scope``."""
    for a in scope.accounts:
        name = scope.refs[a.enterprise_id].name
        for p, acc in a.pollutants.items():
            yield name, a, p, acc


def _stacks_table(scope: Scope) -> Table:
    columns = (
        *STACK_COLUMNS,
        Column("amount_t", unit="t", digits=3, header=Text("排放量", "Quantity")),
        Column("capture", kind="fraction", digits=1, header=Text("有效数据率", "Valid data")),
        LIMIT_COLUMN,
        Column("basis", kind="text", header=Text("限值依据", "Limit basis")),
        Column("max_mg_m3", unit="mg/m3", digits=1, header=Text("最大小时值", "Max hourly")),
        EXCEEDANCE_HOURS_COLUMN,
    )
    rows: list[tuple[CellValue, ...]] = []
    for name, a, p, acc in _stack_pollutants(scope):
        lim = acc.limit
        rows.append(
            (
                name,
                a.unit_code,
                POLLUTANT_NAMES[p],
                acc.amount_kg / KG_PER_T,
                None if acc.capture_pct is None else acc.capture_pct / 100.0,
                lim.limit_mg_m3 if lim else None,
                f"{lim.standard} ({lim.ref})" if lim else "",
                acc.max_corrected_mg_m3,
                acc.exceedance_hours,
            )  # fmt: skip
        )
    return Table("by_stack", Text("按排放口", "By stack"), columns, tuple(rows))


def _exceedances_table(scope: Scope) -> Table:
    columns = (
        *STACK_COLUMNS,
        Column("start", kind="datetime", header=Text("开始", "Start")),
        Column("end", kind="datetime", header=Text("结束", "End")),
        Column("hours", kind="integer", header=Text("超标小时数", "Hours")),
        Column("peak", unit="mg/m3", digits=1, header=Text("峰值(折算)", "Peak (reference O2)")),
        LIMIT_COLUMN,
    )
    rows: list[tuple[CellValue, ...]] = []
    for name, a, p, acc in _stack_pollutants(scope):
        for e in acc.episodes:
            rows.append(
                (
                    name,
                    a.unit_code,
                    POLLUTANT_NAMES[p],
                    datetime.fromtimestamp(e.start_s, UTC),
                    datetime.fromtimestamp(e.end_s, UTC),
                    e.n_hours,
                    e.peak_mg_m3,
                    acc.limit.limit_mg_m3 if acc.limit else None,
                )  # fmt: skip
            )
    return Table("exceedances", Text("超标时段", "Exceedance episodes"), columns, tuple(rows))


def _water_table(accounts: list[WaterAccount]) -> Table:
    columns = (
        Column("enterprise", kind="text"),
        Column("unit", kind="text"),
        Column("withdrawal_m3", unit="m3", digits=0, header=Text("取水量", "Withdrawal")),
        Column("product", unit=None, digits=1, header=Text("产量", "Output")),
        Column("product_unit", kind="text", header=Text("产品单位", "Output unit")),
        Column("specific", digits=3, header=Text("单位产品取水量", "Water per product")),
        Column("quota", digits=3, header=Text("取水定额(通用值)", "Quota (general)")),
        Column("quota_unit", kind="text", header=Text("定额单位", "Quota unit")),
        Column("over_quota", kind="text", header=Text("是否超定额", "Above quota")),
    )
    rows: list[tuple[CellValue, ...]] = []
    for w in accounts:
        over = "" if w.over_quota is None else ("是" if w.over_quota else "否")
        rows.append(
            (
                w.enterprise_name,
                w.unit_code or "",
                w.withdrawal_m3,
                w.product_qty,
                w.product_unit,
                w.specific_per_quota_unit,
                w.quota_general,
                w.quota_unit,
                over,
            )  # fmt: skip
        )
    return Table("water", Text("用水", "Water"), columns, tuple(rows))


def _water_sources_table(accounts: list[WaterAccount]) -> Table:
    """Withdrawal [m3] by source of every enterprise (entry meters) and unit; ``unspecified``
    is the water of meters whose source the registry does not give."""
    columns = (
        Column("enterprise", kind="text"),
        Column("unit", kind="text"),
        Column("source", kind="text", header=Text("水源", "Source")),
        Column("source_name", kind="text", header=Text("水源名称", "Source name")),
        Column("withdrawal_m3", unit="m3", digits=0, header=Text("取水量", "Withdrawal")),
    )
    names = water_source_names()
    rows: list[tuple[CellValue, ...]] = [
        (w.enterprise_name, w.unit_code or "", source, names[source], m3)
        for w in accounts
        for source, m3 in w.by_source.items()
    ]
    return Table(
        "water_sources", Text("分水源取水量", "Withdrawal by source"), columns, tuple(rows)
    )


def emissions_report(ctx: ReportContext) -> ReportDocument:
    """The emissions report of ``ctx``'s scope and period."""
    e = ctx.scope.enterprise
    scope = emissions_scope(
        ctx.session, ctx.principal, ctx.period, city=ctx.scope.city_code,
        uscc=e.uscc if e else None,
    )  # fmt: skip
    totals = scope.totals(ctx.session, "enterprise")
    water = water_accounts(
        ctx.session, ctx.principal, ctx.period, city=ctx.scope.city_code,
        uscc=e.uscc if e else None,
    )  # fmt: skip
    valid = sum(t.valid_hours for t in totals)
    running = sum(t.running_hours for t in totals)
    facts = (
        *(
            Fact(
                Text(f"{POLLUTANT_NAMES[p].zh}排放量", f"{POLLUTANT_NAMES[p].en} emitted"),
                sum(t.amount_t[p] for t in totals),
                kind="number",
                unit="t",
                digits=3,
            )
            for p in POLLUTANTS
        ),
        Fact(
            Text("有效数据率", "Valid data"), valid / running if running else None, kind="fraction"
        ),
        Fact(
            Text("超标小时数", "Exceedance hours"),
            sum(t.exceedance_hours for t in totals),
            kind="integer",
        ),
        Fact(
            Text("取水量", "Water withdrawn"),
            sum(w.withdrawal_m3 for w in water if w.unit_code is None),
            kind="number",
            unit="m3",
            digits=0,
        ),
    )
    return ctx.document(
        "emissions",
        Text("污染物排放与用水", "Pollutant emissions and water"),
        facts=facts,
        sections=(
            Section(
                "quantities",
                Text("排放量", "Quantities"),
                (_totals_table(totals), _stacks_table(scope)),
            ),
            Section("exceedances", Text("超标", "Exceedances"), (_exceedances_table(scope),)),
            Section(
                "water",
                Text("用水", "Water"),
                (_water_table(water), _water_sources_table(water)),
            ),
        ),
        notes=(
            Text(
                "排放量按HJ 75-2017：有效小时浓度×标干流量，无效小时按修约规则替代；"
                "超标按有效小时折算浓度与较严的标准或许可限值比较。",
                "Quantities per HJ 75-2017: valid hourly concentration x standard dry flow, "
                "invalid hours substituted; exceedances are valid hours above the stricter of "
                "the standard and the permit, at the reference O2.",
            ),
        ),
    )


__all__ = ["emissions_report"]
