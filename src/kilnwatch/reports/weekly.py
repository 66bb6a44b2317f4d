"""The city's weekly joint report (限产企业生产及能耗情况周报), in the layout such reports use:
one row per production-controlled enterprise with its output, energy and coal of the week,
its cap and the use to date, how its meters operated (online rate, calibration, anomalies)
and its resident supervisors, then the sign-off block of the four departments.

The figures are the snapshot the departments signed (:mod:`kilnwatch.projects.weekly`); before
the city generates one, the report shows the figures computed now from metered data and says
that nobody has signed yet. The API's ``/projects/weekly`` returns the same rows.
"""

from __future__ import annotations

from typing import Any

from kilnwatch.domain.periods import week_period
from kilnwatch.domain.projects import DEPARTMENTS
from kilnwatch.errors import InputError
from kilnwatch.projects.weekly import week_view
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

DEPARTMENT_NAMES = {
    "industry_it": Text("工业和信息化局", "Industry and IT"),
    "development_reform": Text("发展和改革委员会", "Development and reform"),
    "ecology_environment": Text("生态环境局", "Ecology and environment"),
    "statistics": Text("统计局", "Statistics"),
}
STATUS = {
    "none": Text("未生成（按计量数据即时计算）", "not generated (computed now from metering)"),
    "draft": Text("草稿（会签中）", "draft (being signed)"),
    "submitted": Text("已报送省", "submitted to the province"),
}

CAPPED = (
    ("output_t", "t", Text("产量", "output")),
    ("energy_tce", "tce", Text("能耗", "energy")),
    ("coal_t", "t", Text("煤耗", "coal")),
)
"""The capped quantities: key, unit and name (reported, capped, used to date, breached)."""

COLUMNS = (
    Column("enterprise", kind="text", header=Text("企业名称", "Enterprise")),
    Column("uscc", kind="text"),
    Column("product", kind="text", header=Text("限产产品", "Capped product")),
    Column("output_t", unit="t", digits=0, header=Text("本周产量", "Output this week")),
    Column("energy_tce", unit="tce", digits=0, header=Text("本周综合能耗", "Energy this week")),
    Column("coal_t", unit="t", digits=0, header=Text("本周煤炭消费量", "Coal this week")),
    *(
        Column(
            f"reported_{key}",
            unit=unit,
            digits=0,
            header=Text(f"上报{name.zh}", f"Reported {name.en}"),
        )
        for key, unit, name in CAPPED
    ),
    Column("cap_period", kind="text", header=Text("限产期", "Cap period")),
    *(
        column
        for key, unit, name in CAPPED
        for column in (
            Column(
                f"cap_{key}",
                unit=unit,
                digits=0,
                header=Text(f"{name.zh}上限", f"{name.en.capitalize()} cap"),
            ),
            Column(
                f"cum_{key}",
                unit=unit,
                digits=0,
                header=Text(f"累计{name.zh}", f"{name.en.capitalize()} to date"),
            ),
        )
    ),
    Column("elapsed_fraction", kind="fraction", header=Text("限产期已过", "Cap period elapsed")),
    Column("breaches", kind="text", header=Text("超限", "Cap exceeded")),
    Column("meters", kind="integer", header=Text("计量器具数", "Meters")),
    Column("online_fraction", kind="fraction", header=Text("在线率", "Online rate")),
    Column("calibration_overdue", kind="integer", header=Text("超期未检定", "Calibration overdue")),
    Column("anomalies", kind="integer", header=Text("器具异常", "Meter anomalies")),
    Column("findings", kind="integer", header=Text("核查问题", "Findings")),
    Column("supervisors", kind="text", header=Text("驻企监管人员", "Resident supervisors")),
    Column("log_days", kind="integer", header=Text("本周驻企天数", "Days on site")),
)
BREACH_NAMES = {key: name for key, _, name in CAPPED}


def _breaches(keys: list[str]) -> CellValue:
    if not keys:
        return Text("否", "no")
    names = [BREACH_NAMES[k] for k in keys]
    return Text("、".join(n.zh for n in names), ", ".join(n.en for n in names))


def _cells(row: dict[str, Any]) -> tuple[CellValue, ...]:
    cells: list[CellValue] = []
    for col in COLUMNS:
        value = row.get(col.key)
        if col.key == "breaches":
            cells.append(_breaches(value or []))
        elif col.key == "supervisors":
            cells.append("、".join(value or []))
        else:
            cells.append(value)
    return tuple(cells)


def weekly_report(ctx: ReportContext) -> ReportDocument:
    """The weekly joint report of ``ctx.scope.city_code`` for the ISO week ``ctx.period``."""
    city = ctx.scope.city_code
    if city is None:
        raise InputError("the weekly report is a city's: give --city (e.g. 3703)", field="city")
    period = week_period(ctx.period.label, ctx.period.zone)
    view = week_view(ctx.session, ctx.principal, city, period.label, zone=period.zone)
    rows, stored = view.rows, view.report
    signed = {s.department: s for s in view.signatures}
    sign_rows = tuple(
        (DEPARTMENT_NAMES[d], signed[d].signer if d in signed else None,
         signed[d].signed_at if d in signed else None,
         signed[d].opinion if d in signed else None)
        for d in DEPARTMENTS
    )  # fmt: skip
    figures = Table(
        "weekly",
        Text("限产企业生产、能耗与计量器具运行情况", "Production-controlled enterprises"),
        COLUMNS,
        tuple(_cells(r) for r in rows),
    )
    signatures = Table(
        "signatures",
        Text("四部门会签", "Sign-off of the four departments"),
        (Column("department", kind="text", header=Text("部门", "Department")),
         Column("signer", kind="text", header=Text("签发人", "Signed by")),
         Column("signed_at", kind="datetime", header=Text("签发时间", "Signed at")),
         Column("opinion", kind="text", header=Text("意见", "Opinion"))),
        sign_rows,
    )  # fmt: skip
    breaches = sum(1 for r in rows if r.get("breaches"))
    facts = (
        Fact(Text("周次", "Week"), f"{period.label} ({period.first} – {period.dates()[-1]})"),
        Fact(Text("状态", "Status"), STATUS[view.status]),
        Fact(Text("限产企业", "Controlled enterprises"), len(rows), kind="integer"),
        Fact(Text("超限企业", "Enterprises over a cap"), breaches, kind="integer"),
        Fact(Text("报送时间", "Submitted at"), stored.submitted_at if stored else None,
             kind="datetime"),
    )  # fmt: skip
    return ReportDocument(
        name="weekly",
        title=Text(f"{ctx.scope.name.zh}限产企业生产及能耗情况周报",
                   f"{ctx.scope.name.en}: weekly joint report"),
        scope=ctx.scope.name,
        period=period.label,
        generated_at=ctx.generated_at,
        timezone=ctx.timezone,
        facts=facts,
        sections=(
            Section("figures", Text("生产与能耗", "Output and energy"), (figures,)),
            Section("signoff", Text("会签", "Sign-off"), (signatures,)),
        ),
        notes=(
            Text("本周数据来自在线计量：产量取产品计量器具，能耗与煤耗取进出用能单位计量器具"
                 "（GB 17167一级），按GB/T 2589折标；在线率、检定与器具异常按计量器具管理口径。",
                 "Figures come from online metering: output from the product meters, energy and "
                 "coal from the entry meters (GB 17167 level 1), GB/T 2589 coefficients; online "
                 "rate and meter anomalies (silent, stuck, replaced) as in docs/metering.md."),
        ),
        sources=(Text("kilnwatch 计量数据与限产台账", "kilnwatch metering and control ledgers"),),
    )  # fmt: skip


__all__ = ["weekly_report"]
