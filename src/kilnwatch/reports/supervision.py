"""The supervision report (issue 15 in the reports catalogue): what the regulator's daily work
did in a period, for a province or a city.

- per city: items opened in the period by kind, closed in it, still pending at its end, overdue
  and escalated at its end;
- the penalties decided in the period with their deductions and legal basis;
- quota balances of the period's year (allocation minus decided deductions);
- the joint inspection rounds whose window meets the period: visits planned and done per group.

``kilnwatch report supervision --period 2025H1 --format xlsx --out FILE`` writes it. Every figure
comes from the same services as the API (``kilnwatch.supervise``), in the report's scope.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import CellValue, Column, ReportDocument, Section, Table, Text
from kilnwatch.store.models import (
    Enterprise,
    InspectionCheck,
    InspectionRound,
    Region,
    SupervisionItem,
)
from kilnwatch.supervise.catalogue import load_quotas
from kilnwatch.supervise.items import ItemFilter, is_overdue, items_query
from kilnwatch.supervise.penalties import balances, deductions_of
from kilnwatch.supervise.rounds import visit_rows
from kilnwatch.supervise.workflows import KINDS, pending_states

TITLE = Text("督查整改工作情况", "Supervision: inspections, rectification, penalties, complaints")
KIND_NAMES = {
    "rectification": Text("整改", "Rectification"),
    "special": Text("专项督查", "Special supervision"),
    "penalty": Text("处罚", "Penalty"),
    "complaint": Text("举报投诉", "Complaint"),
}


ROUND_COLUMN = Column("round", kind="text", header=Text("轮次", "Round"))
GROUP_COLUMN = Column("group", kind="integer", header=Text("检查组", "Group"))
QUOTA_COLUMN = Column("quota", kind="text", header=Text("指标", "Quota"))
UNIT_COLUMN = Column("unit", kind="text", header=Text("单位", "Unit"))


def _scoped_items(ctx: ReportContext) -> list[SupervisionItem]:
    stmt = items_query(ctx.principal, ItemFilter())
    if ctx.scope.city_code:
        stmt = stmt.where(SupervisionItem.region_code.startswith(ctx.scope.city_code[:4]))
    if ctx.scope.enterprise is not None:
        stmt = stmt.where(SupervisionItem.enterprise_id == ctx.scope.enterprise.id)
    return list(ctx.session.scalars(stmt))


def _city_names(ctx: ReportContext) -> dict[str, Text]:
    rows = ctx.session.scalars(select(Region).where(Region.level == "city"))
    return {r.code: Text(r.name_zh, r.name_en or r.name_zh) for r in rows}


def _work_table(ctx: ReportContext, items: list[SupervisionItem], last_day: date) -> Table:
    start, end = ctx.period.start, ctx.period.end
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for i in items:
        city = i.region_code[:4] + "00"
        c = counts[city]
        if start <= i.created_at < end:
            c[f"opened:{i.kind}"] += 1
        if i.closed_at is not None and start <= i.closed_at < end:
            c["closed"] += 1
        open_at_end = i.created_at < end and (i.closed_at is None or i.closed_at >= end)
        if open_at_end and i.status in pending_states(i.kind):
            c["pending"] += 1
            c["overdue"] += is_overdue(i, last_day + timedelta(days=1))
            c["escalated"] += i.escalation_level > 0
    names = _city_names(ctx)
    columns = (
        Column("city", kind="text"),
        *(Column(f"opened_{k}", kind="integer",
                 header=Text(f"新增{KIND_NAMES[k].zh}", f"Opened: {KIND_NAMES[k].en}"))
          for k in KINDS),
        Column("closed", kind="integer", header=Text("办结", "Closed")),
        Column("pending", kind="integer", header=Text("期末未办结", "Pending at the end")),
        Column("overdue", kind="integer", header=Text("其中逾期", "of which overdue")),
        Column("escalated", kind="integer", header=Text("其中已升级", "of which escalated")),
    )  # fmt: skip
    rows: list[tuple[CellValue, ...]] = []
    for city in sorted(counts):
        c = counts[city]
        rows.append((names.get(city, city), *(c[f"opened:{k}"] for k in KINDS), c["closed"],
                     c["pending"], c["overdue"], c["escalated"]))  # fmt: skip
    return Table("work", Text("分市工作量", "Work by city"), columns, tuple(rows))


def _penalty_table(ctx: ReportContext, items: list[SupervisionItem]) -> Table:
    start, end = ctx.period.start, ctx.period.end
    quotas = load_quotas()
    ids = {i.enterprise_id for i in items if i.kind == "penalty" and i.enterprise_id}
    found = ctx.session.execute(
        select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))
    )
    names = {int(k): str(n) for k, n in found}
    columns = (
        Column("enterprise", kind="text"),
        QUOTA_COLUMN,
        Column("amount", kind="number", digits=1, header=Text("企业扣减", "Enterprise deduction")),
        Column("city_amount", kind="number", digits=1, header=Text("城市扣减", "City deduction")),
        UNIT_COLUMN,
        Column("period", kind="text", header=Text("指标期", "Quota period")),
        Column("legal_basis", kind="text", header=Text("法律依据", "Legal basis")),
        Column("source", kind="text", header=Text("来源", "Source")),
        Column("status", kind="text"),
    )
    rows: list[tuple[CellValue, ...]] = []
    for i in items:
        if i.kind != "penalty" or i.status not in ("decided", "revoked"):
            continue
        if not (start <= i.updated_at < end):
            continue
        by_level = {d.enterprise_id is None: d for d in deductions_of(ctx.session, i.id)}
        mine, city = by_level.get(False), by_level.get(True)
        if mine is None:
            continue
        q = quotas.get(mine.quota)
        rows.append((
            names.get(i.enterprise_id or 0, ""), Text(q.name_zh, q.name_en) if q else mine.quota,
            mine.amount, city.amount if city else None, mine.unit, mine.period,
            i.legal_basis or "", f"{i.source_code} {i.source_ref or ''}".strip(),
            Text("已决定", "decided") if i.status == "decided" else Text("已撤销", "revoked"),
        ))  # fmt: skip
    return Table("penalties", Text("处罚与指标扣减", "Penalties and quota deductions"), columns,
                 tuple(rows))  # fmt: skip


def _quota_table(ctx: ReportContext) -> Table:
    quotas = load_quotas()
    year = str(ctx.period.year)
    columns = (
        Column("region", kind="text", header="col.city"),
        Column("enterprise", kind="text"),
        QUOTA_COLUMN,
        UNIT_COLUMN,
        Column("allocated", kind="number", digits=1, header=Text("核定", "Allocated")),
        Column("deducted", kind="number", digits=1, header=Text("已扣减", "Deducted")),
        Column("balance", kind="number", digits=1, header=Text("余额", "Balance")),
    )
    names = _city_names(ctx)
    rows = tuple(
        (names.get(b.region_code, b.region_code), b.enterprise_uscc or "",
         Text(quotas[b.quota].name_zh, quotas[b.quota].name_en) if b.quota in quotas else b.quota,
         b.unit, b.allocated, b.deducted, b.balance)
        for b in balances(ctx.session, ctx.principal, year)
        if not ctx.scope.city_code or b.region_code == ctx.scope.city_code
    )  # fmt: skip
    return Table("quotas", Text(f"{year}年指标余额", f"Quota balances {year}"), columns, rows)


def _rounds_table(ctx: ReportContext) -> Table:
    columns = (
        ROUND_COLUMN,
        GROUP_COLUMN,
        Column("home", kind="text", header=Text("派出城市", "Home city")),
        Column("planned", kind="integer", header=Text("计划检查", "Planned")),
        Column("done", kind="integer", header=Text("已检查", "Done")),
        Column("done_share", kind="fraction", digits=0, header=Text("完成率", "Done")),
    )
    names = _city_names(ctx)
    rows: list[tuple[CellValue, ...]] = []
    for r in _rounds_of(ctx):
        city = ctx.scope.city_code
        visits = [v for v in visit_rows(ctx.session, ctx.principal, r.id)
                  if not city or v["enterprise_city"] == city]  # fmt: skip
        per: dict[tuple[int, str], list[str]] = defaultdict(list)
        for v in visits:
            per[(v["group"], v["group_home_city"])].append(v["status"])
        for (group, home), statuses in sorted(per.items()):
            done = sum(s == "done" for s in statuses)
            rows.append((r.code, group, names.get(home, home), len(statuses), done,
                         done / len(statuses)))  # fmt: skip
    return Table("rounds", Text("联合检查进度", "Joint inspection rounds"), columns, tuple(rows))


def supervision_report(ctx: ReportContext) -> ReportDocument:
    """Work by city, penalties, quota balances and inspection rounds of the period."""
    items = _scoped_items(ctx)
    last_day = ctx.period.stop - timedelta(days=1)
    sections = (
        Section("work", Text("督查整改", "Supervision work"), (_work_table(ctx, items, last_day),)),
        Section("penalties", Text("处罚", "Penalties"),
                (_penalty_table(ctx, items), _quota_table(ctx))),
        Section("rounds", Text("联合检查", "Joint inspections"), (_rounds_table(ctx),)),
    )  # fmt: skip
    return ctx.document(
        "supervision", TITLE, sections,
        notes=(Text("逾期：期末仍未在期限内完成应办事项", "overdue: past the deadline at the "
                    "period's end in a state where the deadline runs"),),
        sources=(Text("山东省两高行业联合检查与督查整改（issue 15）",
                      "Shandong joint inspection and supervision plan (issue 15)"),),
    )  # fmt: skip


INSPECTIONS_TITLE = Text("两高行业联合检查半年总结", "Half-yearly joint inspection summary")


def _rounds_of(ctx: ReportContext) -> list[InspectionRound]:
    first, last = ctx.period.first, ctx.period.stop - timedelta(days=1)
    stmt = select(InspectionRound).where(
        InspectionRound.window_start <= last, InspectionRound.window_end >= first
    )
    return list(ctx.session.scalars(stmt.order_by(InspectionRound.code)))


def _scoped_visits(ctx: ReportContext, r: InspectionRound) -> list[dict[str, object]]:
    city, ent = ctx.scope.city_code, ctx.scope.enterprise
    return [
        v
        for v in visit_rows(ctx.session, ctx.principal, r.id)
        if (not city or v["enterprise_city"] == city)
        and (ent is None or v["enterprise_id"] == ent.id)
    ]


def _visits_table(ctx: ReportContext, rounds: list[InspectionRound]) -> Table:
    columns = (
        ROUND_COLUMN,
        GROUP_COLUMN,
        Column("enterprise", kind="text"),
        Column("city", kind="text", header=Text("所在城市", "City")),
        Column("planned_on", kind="text", header=Text("计划日期", "Planned on")),
        Column("status", kind="text"),
        Column("checks", kind="integer", header=Text("核对项", "Items checked")),
        Column("deviations", kind="integer", header=Text("不符项", "Items not matching")),
    )
    rows: list[tuple[CellValue, ...]] = []
    for r in rounds:
        visits = _scoped_visits(ctx, r)
        ids = [int(str(v["visit_id"])) for v in visits]
        checks: dict[int, list[bool]] = defaultdict(list)
        if ids:
            stmt = select(InspectionCheck.visit_id, InspectionCheck.ok).where(
                InspectionCheck.visit_id.in_(ids)
            )
            for visit_id, ok in ctx.session.execute(stmt):
                checks[visit_id].append(bool(ok))
        for v in visits:
            done = checks[int(str(v["visit_id"]))]
            rows.append((r.code, int(str(v["group"])), str(v["enterprise_name"]),
                         str(v["enterprise_city_name"]), str(v["planned_on"]), str(v["status"]),
                         len(done), sum(not ok for ok in done)))  # fmt: skip
    return Table("visits", Text("检查企业", "Visits"), columns, tuple(rows))


def _deviations_table(ctx: ReportContext, rounds: list[InspectionRound]) -> Table:
    columns = (
        ROUND_COLUMN,
        Column("enterprise", kind="text"),
        Column("item", kind="text", header=Text("核对项", "Item")),
        UNIT_COLUMN,
        Column("platform", kind="number", digits=1, header=Text("平台数据", "Platform figure")),
        Column("checked", kind="number", digits=1, header=Text("现场核实", "Checked on site")),
        Column("deviation", kind="fraction", digits=1, header=Text("偏差", "Deviation")),
        Column("note", kind="text", header=Text("说明", "Note")),
    )
    rows: list[tuple[CellValue, ...]] = []
    for r in rounds:
        names = {int(str(v["visit_id"])): str(v["enterprise_name"]) for v in _scoped_visits(ctx, r)}
        if not names:
            continue
        stmt = select(InspectionCheck).where(
            InspectionCheck.visit_id.in_(list(names)), InspectionCheck.ok.is_(False)
        )
        for c in ctx.session.scalars(stmt.order_by(InspectionCheck.visit_id, InspectionCheck.item)):
            rows.append((r.code, names[c.visit_id], c.item, c.unit, c.platform_value,
                         c.checked_value, c.deviation_fraction, c.note))  # fmt: skip
    title = Text("现场核实与平台数据不符", "Checks that did not match the platform")
    return Table("deviations", title, columns, tuple(rows))


def inspections_report(ctx: ReportContext) -> ReportDocument:
    """The half-yearly joint inspection summary (issue 19): progress of each round whose window
    meets the period, every visit with its checklist outcome, and the checks that did not match
    the platform's figures. ``kilnwatch report inspections --period 2025H1 --out FILE``."""
    rounds = _rounds_of(ctx)
    sections = (
        Section("rounds", Text("联合检查进度", "Progress"), (_rounds_table(ctx),)),
        Section("visits", Text("检查企业", "Visits"), (_visits_table(ctx, rounds),)),
        Section("deviations", Text("不符项", "Deviations"), (_deviations_table(ctx, rounds),)),
    )
    return ctx.document(
        "inspections", INSPECTIONS_TITLE, sections,
        notes=(Text("偏差：(现场核实 − 平台数据) / 平台数据", "deviation: (checked − platform) / "
                    "platform"),),
        sources=(Text("山东省两高行业“四进”联合检查（issue 15）",
                      "Shandong joint inspections by the 四进 groups (issue 15)"),),
    )  # fmt: skip
