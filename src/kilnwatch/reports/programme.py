"""The programme report (能效提升工作进展): units and capacity below the baseline, in retrofit,
retrofitted, verified and eliminated; the capacity share at 标杆 month by month against the
30 % target; the leaders of each field; the elimination list; plans that slip; and every
unit without a class with its reason.

Figures come from :func:`kilnwatch.programme.view.programme_view`, the function behind
``/api/v1/programme/view`` and the programme page.
"""

from __future__ import annotations

from kilnwatch.config import Settings
from kilnwatch.programme.tables import level_tables
from kilnwatch.programme.view import ProgrammeView, programme_view
from kilnwatch.reports.context import ReportContext
from kilnwatch.reports.document import Chart, Column, Fact, ReportDocument, Section, Table, Text

STAGE_NAMES = {
    "below_baseline": Text("低于基准水平", "below the baseline"),
    "in_retrofit": Text("改造中", "in retrofit"),
    "retrofitted": Text("已改造", "retrofitted"),
    "verified": Text("改造效果已核验", "savings verified"),
    "eliminated": Text("列入淘汰", "listed for elimination"),
}


def _t(zh: str, en: str) -> Text:
    return Text(zh, en)


def _texts(*specs: str) -> tuple[Column, ...]:
    """Text columns from ``key|中文|English`` specs."""
    return tuple(
        Column(key, kind="text", header=_t(zh, en))
        for key, zh, en in (spec.split("|") for spec in specs)
    )


ENTERPRISE, UNIT, REASON_CODE, REASON = _texts(
    "enterprise|企业|enterprise",
    "unit|装置|unit",
    "code|原因代码|reason code",
    "reason|原因|reason",
)
"""The columns several tables of the report share (their own headers, not the label table's)."""


def _stages(view: ProgrammeView) -> Table:
    return Table(
        "programme_stages",
        _t("各阶段装置与产能", "Units and capacity by stage"),
        (
            Column("stage", kind="text", header=_t("阶段", "stage")),
            Column("units", kind="integer", header=_t("装置数", "units")),
            Column("capacity", digits=0, header=_t("产能（各装置产能单位合计）", "capacity")),
        ),
        tuple((STAGE_NAMES[s.stage], s.units, s.capacity) for s in view.stages),
    )


def _share(view: ProgrammeView) -> Table:
    return Table(
        "programme_share",
        _t("达到标杆水平的产能占比", "Capacity share at the benchmark level"),
        (
            Column("month", kind="text", header=_t("月份", "month")),
            Column("share", kind="fraction", header=_t("标杆产能占比", "share at benchmark")),
            Column("target", kind="fraction", header=_t("2025年目标", "2025 target")),
        ),
        tuple((m, s, t) for m, s, t in view.share_by_month),
        chart=Chart(
            "line",
            _t("标杆产能占比", "share at benchmark"),
            "month",
            ("share",),
            reference=view.share_by_month[0][2] if view.share_by_month else None,
            reference_label=_t("目标", "target"),
        ),
    )


def _leaders(view: ProgrammeView) -> Table:
    return Table(
        "programme_leaders",
        _t("能效领跑者（按领域排名）", "Leaders by field"),
        (
            Column("field", kind="text", header=_t("领域", "field")),
            Column("rank", kind="integer", header=_t("名次", "rank")),
            ENTERPRISE,
            UNIT,
            Column("intensity", digits=2, header=_t("单位产品能耗", "intensity")),
            Column("benchmark", digits=2, header=_t("标杆水平", "benchmark")),
            Column("gap", kind="fraction", header=_t("与标杆差距", "gap to benchmark")),
            Column("table", kind="text", header=_t("依据", "level table")),
        ),
        tuple(
            (
                r.level_field,
                r.rank,
                r.enterprise_name,
                r.unit_code,
                r.intensity,
                r.benchmark,
                r.gap_fraction,
                r.benchmark_table,
            )  # fmt: skip
            for r in view.leaders
        ),
    )


def _eliminations(view: ProgrammeView) -> Table:
    return Table(
        "programme_eliminations",
        _t("淘汰清单", "Elimination list"),
        (
            REASON_CODE,
            ENTERPRISE,
            UNIT,
            Column("capacity", digits=0, header=_t("产能", "capacity")),
            Column("deadline", kind="text", header=_t("期限", "deadline")),
            REASON,
        ),
        tuple(
            (
                e.code,
                e.enterprise_name,
                e.unit_code,
                e.capacity,
                e.deadline_on.isoformat() if e.deadline_on else "",
                e.reason,
            )  # fmt: skip
            for e in view.eliminations
        ),
    )


def _obsolete(view: ProgrammeView) -> Table:
    return Table(
        "programme_obsolete",
        _t("落后工艺装备（淘汰类）比对结果", "Obsolete processes and equipment found"),
        (
            ENTERPRISE,
            UNIT,
            *_texts(
                "rule|条目|rule",
                "document|依据文件|document",
                "item|条目内容|item",
                "kind|标准类别|kind of standard",
                "evidence|装置参数与限值|attributes vs threshold",
                "deadline|淘汰期限|deadline",
                "confidence|转录可信度|confidence",
            ),
        ),  # fmt: skip
        tuple(
            (
                u.enterprise_name,
                u.unit_code,
                m.rule.rule_id,
                m.rule.document,
                m.rule.text_zh,
                m.rule.kind,
                "; ".join(m.evidence),
                m.rule.deadline.isoformat() if m.rule.deadline else "",
                m.rule.confidence,
            )  # fmt: skip
            for u in view.catalogue
            for m in u.matches
        ),
    )


def _unjudged(view: ProgrammeView) -> Table:
    return Table(
        "programme_unjudged",
        _t("缺少装置参数、未能比对的条目", "Rules not judged for missing attributes"),
        (ENTERPRISE, UNIT, *_texts("rule|条目|rule", "missing|缺少的参数|missing attributes")),
        tuple(
            (u.enterprise_name, u.unit_code, x.rule_id, ", ".join(x.missing))
            for u in view.catalogue
            for x in u.unjudged
        ),
    )


def _exit_grounds(view: ProgrammeView) -> Table:
    return Table(
        "programme_exit_grounds",
        _t("低效产能退出依据（按标准类别）", "Exit grounds by kind of standard"),
        _texts(
            "unit|装置|unit",
            "kind|类别|kind",
            "finding|结论|finding",
            "standard|标准/依据|standard",
            "basis|来源|basis",
            "evidence|证据|evidence",
            "by|认定人|determined by",
            "on|认定日期|determined on",
            "deadline|期限|deadline",
        ),  # fmt: skip
        tuple(
            (
                g.unit_label,
                g.kind,
                g.finding,
                g.standard,
                g.basis,
                g.evidence,
                g.determined_by or "",
                g.determined_on.isoformat() if g.determined_on else "",
                g.deadline_on.isoformat() if g.deadline_on else "",
            )  # fmt: skip
            for g in view.exit_grounds
        ),
    )


def _alerts(view: ProgrammeView) -> Table:
    return Table(
        "programme_alerts",
        _t("进度滞后的改造计划", "Plans that slip"),
        (
            Column("code", kind="text", header=_t("代码", "code")),
            Column("plan", kind="integer", header=_t("计划", "plan")),
            ENTERPRISE,
            UNIT,
            Column("due", kind="text", header=_t("应完成日期", "due")),
            Column("detail", kind="text", header=_t("内容", "detail")),
        ),
        tuple(
            (a.code, a.plan_id, a.enterprise_uscc, a.unit_code, a.due_on.isoformat(), a.detail)
            for a in view.alerts
        ),
    )


def _unclassified(view: ProgrammeView) -> Table:
    return Table(
        "programme_unclassified",
        _t("未能判定能效水平的装置及原因", "Units without a class and why"),
        (ENTERPRISE, UNIT, REASON_CODE, REASON),
        tuple(view.unclassified),
    )


def programme_report(ctx: ReportContext) -> ReportDocument:
    """The programme view of ``ctx.period`` as a report document."""
    settings = Settings()
    today = ctx.generated_at.astimezone(ctx.period.zone).date()
    view = programme_view(
        ctx.session,
        ctx.principal,
        ctx.period,
        today,
        settings.province,
        level_tables(settings),
    )
    share = view.share_classified
    return ctx.document(
        "programme",
        _t("能效提升工作进展", "Efficiency programme"),
        (
            Section("stages", _t("改造进展", "Progress"), (_stages(view), _share(view))),
            Section("leaders", _t("领跑者", "Leaders"), (_leaders(view),)),
            Section(
                "elimination",
                _t("淘汰与预警", "Elimination and alerts"),
                (
                    _eliminations(view),
                    _obsolete(view),
                    _unjudged(view),
                    _exit_grounds(view),
                    _alerts(view),
                ),  # fmt: skip
            ),
            Section("classification", _t("能效判定覆盖", "Coverage"), (_unclassified(view),)),
        ),
        facts=(
            Fact(_t("装置总数", "units"), view.units_total, "integer"),
            Fact(_t("已判定能效水平的装置占比", "share of units classified"), share, "fraction"),
            Fact(
                _t("能耗强度较2020年变化", "energy intensity against 2020"),
                view.intensity_change_fraction
                if view.intensity_change_fraction is not None
                else Text(
                    "无基期数据：" + "; ".join(view.intensity_notes),
                    "no base-period data: " + "; ".join(view.intensity_notes),
                ),
                "fraction" if view.intensity_change_fraction is not None else "text",
            ),
        ),
        sources=(
            _t(
                "能效水平：发改产业〔2021〕1609号、〔2023〕723号及GB能耗限额标准（见各行依据）",
                "levels: NDRC 2021/2023 editions and GB limit standards (each row names its table)",
            ),
            _t(
                "改造期限：reference/programme/policy.csv（注明来源与可信度）",
                "deadlines: reference/programme/policy.csv (source and confidence per row)",
            ),
            _t(
                "落后工艺装备：reference/programme/obsolete_equipment.csv（每条注明文件、来源与可信度）",
                "obsolete equipment: reference/programme/obsolete_equipment.csv (document, source "
                "and confidence per rule)",
            ),
        ),  # fmt: skip
    )


__all__ = ["programme_report"]
