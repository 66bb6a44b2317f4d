"""The catalogue of reports: every report the CLI, the API, the pages and the schedules can
produce, by name, with the function that builds its document.

Adding a report (docs/reports.md, "Adding a report"): write ``build(ctx) -> ReportDocument``
(``ctx`` a :class:`~kilnwatch.reports.context.ReportContext`; the builder's module never imports
this catalogue, which imports it)
from the capability's own service functions (the ones its API uses), add a
:class:`ReportSpec` to :data:`REPORTS`, a CLI command in ``cli/report.py``, and a test that
reads the file back and compares it with the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Principal
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import ReportDocument, Text
from kilnwatch.reports.emissions import emissions_report
from kilnwatch.reports.enterprise import enterprise_report
from kilnwatch.reports.metering import metering_report
from kilnwatch.reports.monthly import monthly_report
from kilnwatch.reports.programme import programme_report
from kilnwatch.reports.scope import resolve_scope
from kilnwatch.reports.services import ReportPeriod
from kilnwatch.reports.supervision import inspections_report, supervision_report
from kilnwatch.reports.weekly import weekly_report


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: Text
    build: Callable[[ReportContext], ReportDocument]
    formats: tuple[str, ...] = ("xlsx", "pdf")
    needs_enterprise: bool = False
    description: Text = Text("", "")
    needs_city: bool = False
    """A city's report (asked for with ``city``; the pages offer it on city pages)."""


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "monthly",
            Text("两高行业能耗与碳排放月度统计分析", "Monthly statistical analysis"),
            monthly_report,
            description=Text(
                "能耗、煤耗、用电量、二氧化碳、强度，按城市和行业，与上年同期、2020年和2025年目标比较",
                "energy, coal, electricity, CO₂ and intensities by city and industry against "
                "last year, the 2020 base and the 2025 targets",
            ),
        ),
        ReportSpec(
            "enterprise",
            Text("企业能耗概况", "Enterprise profile"),
            enterprise_report,
            needs_enterprise=True,
            description=Text("一家企业的单页概况", "one enterprise on one page"),
        ),
        ReportSpec(
            "weekly",
            Text("限产企业生产及能耗情况周报", "Weekly joint report"),
            weekly_report,
            needs_city=True,
            description=Text(
                "一个城市限产企业一周的产量、能耗、煤耗与计量器具运行，四部门会签",
                "a city's production-controlled enterprises over an ISO week: output, energy, "
                "coal, meter operation, signed by four departments",
            ),
        ),
        ReportSpec(
            "emissions",
            Text("污染物排放与用水", "Pollutant emissions and water"),
            emissions_report,
            description=Text(
                "二氧化硫、氮氧化物、颗粒物排放量（按企业、排放口），有效数据率，超标，取水量与定额",
                "SO2, NOx and particulate matter by enterprise and stack, valid-data share, "
                "exceedances, water withdrawal against the quotas",
            ),
        ),
        ReportSpec(
            "metering",
            Text("能源计量器具配备与运行", "Energy metering instruments"),
            metering_report,
            description=Text(
                "按企业、能源品种和计量级别的应配备、已配备和配备率（GB 17167），"
                "问题清单，运行和分市推进",
                "required and installed instruments and configuration rate per enterprise, "
                "carrier and level (GB 17167), gaps, operation and roll-out by city",
            ),
        ),
        ReportSpec(
            "programme",
            Text("能效提升工作进展", "Efficiency programme"),
            programme_report,
            description=Text(
                "低于基准、改造中、已改造、已核验、淘汰的装置与产能，标杆产能占比，领跑者，淘汰清单",
                "units and capacity below the baseline, in retrofit, retrofitted, verified and "
                "eliminated; share at benchmark; leaders; the elimination list",
            ),
        ),
        ReportSpec(
            "inspections",
            Text("两高行业联合检查半年总结", "Half-yearly joint inspection summary"),
            inspections_report,
            description=Text(
                "各轮联合检查进度、检查企业与核对结果、现场核实与平台数据不符项",
                "progress of each joint inspection round, every visit with its checklist, and the "
                "checks that did not match the platform's figures",
            ),
        ),
        ReportSpec(
            "supervision",
            Text("督查整改工作情况", "Supervision work"),
            supervision_report,
            description=Text(
                "分市新增、办结、逾期和升级事项，处罚与指标扣减，指标余额，联合检查进度",
                "items opened, closed, overdue and escalated by city, penalties and quota "
                "deductions, quota balances, joint inspection progress",
            ),
        ),
    )
}


def report_spec(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise NotFoundError(f"no report named {name!r}; reports: {', '.join(REPORTS)}") from None


def build_report(
    session: Session,
    principal: Principal,
    name: str,
    period: ReportPeriod,
    *,
    timezone: str,
    city: str | None = None,
    enterprise: str | None = None,
    now: datetime | None = None,
) -> ReportDocument:
    """The document of report ``name`` for ``period`` in the caller's (narrowed) scope."""
    spec = report_spec(name)
    if spec.needs_enterprise and not enterprise:
        raise InputError(f"report {name} needs an enterprise (USCC)", field="enterprise")
    scope = resolve_scope(session, principal, city, enterprise)
    ctx = ReportContext(session, scope, period, timezone, now or datetime.now(UTC))
    return spec.build(ctx)


__all__ = ["REPORTS", "ReportSpec", "build_report", "report_spec"]
