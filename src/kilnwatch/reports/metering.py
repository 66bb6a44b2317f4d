"""The metering census report (issue 18): one row per enterprise, carrier and level with the
required and installed instruments and the configuration rate (GB 17167-2006 3.2, Table 3),
the gaps (missing instruments, accuracy, calibration), meter operation over the period, and
the roll-out per city against Shandong's 2022 / 2023 milestones.

``kilnwatch report metering --format xlsx --out FILE`` writes it; the census is taken on the
report day (today, or the last day of a past period).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import select

from kilnwatch.metering import enterprise_census, enterprise_operation
from kilnwatch.metering.census import EnterpriseCensus, census_day
from kilnwatch.metering.rollout import rollout
from kilnwatch.reference.registry import load_industries
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import CellValue, Column, ReportDocument, Section, Table, Text
from kilnwatch.reports.enterprise import carrier_names
from kilnwatch.store.models import Region

LEVEL_NAMES = {
    "entry": Text("进出用能单位", "enterprise boundary"),
    "sub_unit": Text("进出主要次级用能单位", "main sub-unit"),
    "equipment": Text("主要用能设备", "main equipment"),
}
YES, NO = Text("是", "yes"), Text("否", "no")
TITLE = Text(
    "重点用能单位能源计量器具配备与运行", "Energy metering instruments: census and operation"
)


ENTERPRISE_COLUMNS = (Column("uscc", kind="text"), Column("enterprise", kind="text"))
"""USCC and name of the enterprise (headers from the label table)."""
LEVEL_COLUMN = Column("level", kind="text", header=Text("计量级别", "Level"))


def _census_day(ctx: ReportContext) -> date:
    today = ctx.generated_at.astimezone(ctx.period.zone).date()
    return census_day(ctx.period.stop - timedelta(days=1), today)


def _industry(industry: str) -> CellValue:
    row = load_industries().get(industry)
    return Text(row.name_zh, row.name_en) if row else industry


def _carrier(carrier: str) -> CellValue:
    return carrier_names().get(carrier, carrier)


def _census_table(censuses: list[EnterpriseCensus]) -> Table:
    columns = (
        *ENTERPRISE_COLUMNS,
        Column("carrier", kind="text"),
        LEVEL_COLUMN,
        Column("required", kind="integer", header=Text("应配备", "Required")),
        Column("installed", kind="integer", header=Text("已配备", "Installed")),
        Column("rate", kind="fraction", digits=1, header=Text("配备率", "Configuration rate")),
        Column("min_rate", kind="fraction", digits=0, header=Text("要求", "Required rate")),
        Column("meets", kind="text", header=Text("达标", "Meets")),
        Column("missing", kind="text", header=Text("缺少的计量点", "Missing points")),
    )
    rows: list[tuple[CellValue, ...]] = []
    for c in censuses:
        for r in c.rows:
            rows.append((
                c.uscc, c.name, _carrier(r.carrier), LEVEL_NAMES.get(r.level, r.level),
                r.required, r.installed,
                None if r.rate_pct is None else r.rate_pct / 100,
                None if r.min_pct is None else r.min_pct / 100,
                YES if r.meets else NO, ", ".join(r.missing),
            ))  # fmt: skip
    note = Text("配备率 = 已配备 / 应配备（GB 17167-2006 3.2，表3）",
                "rate = installed / required (GB 17167-2006 3.2, Table 3)")  # fmt: skip
    return Table("census", Text("计量器具配备", "Instrument census"), columns, tuple(rows),
                 notes=(note,))  # fmt: skip


def _gaps_table(censuses: list[EnterpriseCensus]) -> Table:
    columns = (
        *ENTERPRISE_COLUMNS,
        Column("code", kind="text", header=Text("问题代码", "Code")),
        Column("carrier", kind="text"),
        LEVEL_COLUMN,
        Column("point", kind="text", header=Text("计量点", "Point")),
        Column("meter", kind="text", header=Text("计量器具", "Meter")),
        Column("evidence", kind="text", header=Text("依据", "Evidence")),
    )
    rows = tuple(
        (c.uscc, c.name, x.code, _carrier(x.carrier) if x.carrier else "",
         LEVEL_NAMES.get(x.level, x.level), x.point_code or "", x.meter_code or "",
         "; ".join(f"{k}={v}" for k, v in x.evidence.items() if v is not None))
        for c in censuses for x in c.gaps
    )  # fmt: skip
    return Table("gaps", Text("问题清单", "Gaps"), columns, rows)


def _operation_table(ctx: ReportContext, censuses: list[EnterpriseCensus], day: date) -> Table:
    start, end = ctx.period.start.astimezone(UTC), ctx.period.end.astimezone(UTC)
    ops = enterprise_operation(ctx.session, [c.enterprise_id for c in censuses], start, end,
                               as_of=day)  # fmt: skip
    columns = (
        *ENTERPRISE_COLUMNS,
        Column("meters", kind="integer", header=Text("计量器具数", "Meters")),
        Column("online", kind="fraction", header=Text("在线率", "Online rate")),
        Column("completeness", kind="fraction", header=Text("数据完整率", "Completeness")),
        Column("calibration_overdue", kind="integer", header=Text("超期未检", "Overdue")),
        Column("silent", kind="integer", header=Text("中断", "Silent")),
        Column("stuck", kind="integer", header=Text("卡滞", "Stuck")),
        Column("replaced", kind="integer", header=Text("换表", "Replaced")),
    )
    rows = []
    for c in censuses:
        op = ops[c.enterprise_id]
        rows.append((c.uscc, c.name, len(op.meters), op.online_fraction,
                     op.completeness_fraction, op.calibration_overdue,
                     op.count("metering.operation.silent"), op.count("metering.operation.stuck"),
                     op.count("metering.operation.replaced")))  # fmt: skip
    return Table("operation", Text("计量器具运行", "Meter operation"), columns, tuple(rows))


def _rollout_table(ctx: ReportContext, censuses: list[EnterpriseCensus], day: date) -> Table:
    cities = ctx.session.scalars(select(Region).where(Region.level == "city"))
    names = {r.code: Text(r.name_zh, r.name_en or r.name_zh) for r in cities}
    columns = (
        Column("city", kind="text"),
        Column("deadline", kind="date", header=Text("完成时限", "Deadline")),
        Column("industry", kind="text", header=Text("行业", "Industry")),
        Column("enterprises", kind="integer", header=Text("企业数", "Enterprises")),
        Column("with_census", kind="integer", header=Text("已普查", "Census declared")),
        Column("configured", kind="integer", header=Text("配备达标", "Configured")),
        Column("progress", kind="fraction", header=Text("进度", "Progress")),
        Column("behind", kind="text", header=Text("滞后", "Behind")),
    )
    rows = tuple(
        (names.get(r.city_code, r.city_code), r.deadline, _industry(r.industry), r.enterprises,
         r.with_census, r.configured, r.progress_fraction, YES if r.behind(day) else NO)
        for r in rollout(censuses)
    )  # fmt: skip
    return Table("rollout", Text("分市推进", "Roll-out by city"), columns, rows)


def metering_report(ctx: ReportContext) -> ReportDocument:
    """The census, its gaps, meter operation over the period and the roll-out by city."""
    day = _census_day(ctx)
    ids = [ctx.scope.enterprise.id] if ctx.scope.enterprise else None
    censuses = enterprise_census(ctx.session, ctx.principal, day, enterprise_ids=ids,
                                 region_prefix=(ctx.scope.city_code or "")[:4] or None)  # fmt: skip
    sections = (
        Section("census", Text("配备", "Configuration"),
                (_census_table(censuses), _gaps_table(censuses))),
        Section("operation", Text("运行", "Operation"), (_operation_table(ctx, censuses, day),)),
        Section("rollout", Text("推进", "Roll-out"), (_rollout_table(ctx, censuses, day),)),
    )  # fmt: skip
    return ctx.document(
        "metering",
        TITLE,
        sections,
        notes=(Text(f"普查日期 {day.isoformat()}", f"census day {day.isoformat()}"),),
        sources=(Text("GB 17167-2006 用能单位能源计量器具配备和管理通则",
                      "GB 17167-2006 General principle for equipping and managing of the "
                      "measuring instrument of energy"),),
    )  # fmt: skip
