"""The efficiency programme page (``/programme``, docs/programme.md): where every unit stands,
the share at 标杆 by month against the target, leaders, the elimination list, plans that slip,
the determinations (the enterprise declares, the experts decide) and the plans (submit, city
review, province approval)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response

from kilnwatch.accounting.units import ENERGY_FACTOR
from kilnwatch.domain import field_def
from kilnwatch.domain.periods import parse_period
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Role
from kilnwatch.programme import determination, plans
from kilnwatch.programme.energy_factors import energy_factor_records, record_energy_factor
from kilnwatch.programme.exit_grounds import FINDINGS, RECORDED_KINDS, record_exit_ground
from kilnwatch.programme.tables import level_tables
from kilnwatch.programme.view import ProgrammeView, programme_view
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav
from kilnwatch.web.pages.tables import Col, Table

router = page_router()
add_nav(NavItem("programme", "nav.programme", "/programme", order=36))

STAGE_COLS = (Col("stage", "col.stage", "badge", badge_prefix="pg.stage."),
              Col("units", "col.units", "num"), Col("capacity", "col.capacity", "num"))  # fmt: skip
SHARE_COLS = (Col("month", "col.month"), Col("share", "pg.col.share", "pct"),
              Col("target", "pg.col.target", "pct"))  # fmt: skip
LEADER_COLS = (Col("field", "pg.col.field", "code"), Col("rank", "pg.col.rank", "num"),
               Col("enterprise", "col.enterprise"), Col("unit", "col.unit", "code"),
               Col("intensity", "pg.col.intensity", "num", digits=2),
               Col("benchmark", "pg.col.benchmark", "num", digits=2),
               Col("gap", "pg.col.gap", "pct"), Col("table", "pg.col.table", "code"))  # fmt: skip
ELIM_COLS = (Col("code", "pg.col.reason_code", "code"), Col("enterprise", "col.enterprise"),
             Col("unit", "col.unit", "code"), Col("deadline", "pg.col.deadline"),
             Col("reason", "col.reason"))  # fmt: skip
ALERT_COLS = (Col("code", "pg.col.reason_code", "code"), Col("plan", "pg.col.plan", "num"),
              Col("unit", "col.unit", "code"), Col("due", "pg.col.deadline"),
              Col("detail", "pg.col.detail"))  # fmt: skip
DET_COLS = (Col("id", "col.id", "num"), Col("enterprise", "col.enterprise"),
            Col("unit", "col.unit", "code"), Col("intensity", "pg.col.intensity", "num", digits=2),
            Col("computed", "pg.col.computed", "badge", badge_prefix="class."),
            Col("table", "pg.col.table", "code"),
            Col("declared", "pg.col.declared", "badge", badge_prefix="class."),
            Col("final", "pg.col.final", "badge", badge_prefix="class."),
            Col("status", "col.status", "badge", badge_prefix="pg.status."))  # fmt: skip
PLAN_COLS = (Col("id", "col.id", "num"), Col("unit", "col.unit", "code"),
             Col("title", "pg.col.title"), Col("investment", "pg.col.investment", "num"),
             Col("saving", "pg.col.saving", "num"), Col("deadline", "pg.col.deadline"),
             Col("status", "col.status", "badge", badge_prefix="pg.plan."))  # fmt: skip
UNCLASSIFIED_COLS = (Col("enterprise", "col.enterprise", "code"), Col("unit", "col.unit", "code"),
                     Col("code", "pg.col.reason_code", "code"),
                     Col("reason", "col.reason"))  # fmt: skip
FACTOR_COLS = (Col("unit", "col.unit", "code"), Col("factor", "pg.col.energy_factor", "num",
               digits=3), Col("valid_from", "pg.col.valid_from"), Col("evidence", "pg.evidence"),
               Col("by", "pg.col.recorded_by"))  # fmt: skip


OBSOLETE_COLS = (Col("enterprise", "col.enterprise"), Col("unit", "col.unit", "code"),
                 Col("rule", "pg.col.rule", "code"), Col("document", "pg.col.document"),
                 Col("item", "pg.col.item"), Col("kind", "pg.col.exit_kind", "badge",
                 badge_prefix="pg.kind."), Col("evidence", "pg.col.attributes"),
                 Col("deadline", "pg.col.deadline"),
                 Col("confidence", "pg.col.confidence", "code"))  # fmt: skip
UNJUDGED_COLS = (Col("enterprise", "col.enterprise"), Col("unit", "col.unit", "code"),
                 Col("rule", "pg.col.rule", "code"),
                 Col("missing", "pg.col.missing", "code"))  # fmt: skip
GROUND_COLS = (Col("unit", "col.unit", "code"), Col("kind", "pg.col.exit_kind", "badge",
               badge_prefix="pg.kind."), Col("finding", "pg.col.finding", "badge",
               badge_prefix="pg.finding."), Col("standard", "pg.col.standard"),
               Col("basis", "pg.col.basis", "badge", badge_prefix="pg.basis."),
               Col("evidence", "pg.evidence"), Col("by", "pg.col.determined_by"),
               Col("on", "pg.col.determined_on"),
               Col("deadline", "pg.col.deadline"))  # fmt: skip


def _catalogue_tables(v: ProgrammeView) -> list[Table]:
    """The obsolete-equipment matches, the rules not judged, and the exit grounds by kind."""
    return [
        Table("obsolete", OBSOLETE_COLS, [
            {"enterprise": u.enterprise_name, "unit": u.unit_code, "rule": m.rule.rule_id,
             "document": m.rule.document, "item": m.rule.text_zh, "kind": m.rule.kind,
             "evidence": "; ".join(m.evidence), "deadline": m.rule.deadline or "",
             "confidence": m.rule.confidence}
            for u in v.catalogue for m in u.matches
        ], empty="pg.none"),
        Table("unjudged", UNJUDGED_COLS, [
            {"enterprise": u.enterprise_name, "unit": u.unit_code, "rule": x.rule_id,
             "missing": ", ".join(x.missing)}
            for u in v.catalogue for x in u.unjudged
        ], empty="pg.none"),
        Table("exit_grounds", GROUND_COLS, [
            {"unit": g.unit_label, "kind": g.kind, "finding": g.finding,
             "standard": g.standard, "basis": g.basis, "evidence": g.evidence,
             "by": g.determined_by or "", "on": g.determined_on or "",
             "deadline": g.deadline_on or ""}
            for g in v.exit_grounds
        ], empty="pg.none"),
    ]  # fmt: skip


def _tables(env: PageEnv, period_text: str) -> tuple[list[Table], dict[str, Any]]:
    s = env.settings
    period = parse_period(period_text, s.zone)
    v = programme_view(env.db, env.me, period, date.today(), s.province, level_tables(s))
    tables = [
        Table("stages", STAGE_COLS, [st.__dict__ for st in v.stages]),
        Table(
            "share",
            SHARE_COLS,
            [{"month": m, "share": sh, "target": t} for m, sh, t in v.share_by_month],
        ),  # fmt: skip
        Table(
            "leaders",
            LEADER_COLS,
            [
                {
                    "field": r.level_field,
                    "rank": r.rank,
                    "enterprise": r.enterprise_name,
                    "unit": r.unit_code,
                    "intensity": r.intensity,
                    "benchmark": r.benchmark,
                    "gap": r.gap_fraction,
                    "table": r.benchmark_table,
                }
                for r in v.leaders
            ],
        ),  # fmt: skip
        Table(
            "eliminations",
            ELIM_COLS,
            [
                {
                    "code": e.code,
                    "enterprise": e.enterprise_name,
                    "unit": e.unit_code,
                    "deadline": e.deadline_on or "",
                    "reason": e.reason,
                }
                for e in v.eliminations
            ],
            empty="pg.none",
        ),  # fmt: skip
        Table(
            "alerts",
            ALERT_COLS,
            [
                {
                    "code": a.code,
                    "plan": a.plan_id,
                    "unit": a.unit_code,
                    "due": a.due_on,
                    "detail": a.detail,
                }
                for a in v.alerts
            ],
            empty="pg.none",
        ),  # fmt: skip
        Table(
            "unclassified",
            UNCLASSIFIED_COLS,
            [
                {"enterprise": e, "unit": u, "code": c, "reason": r}
                for e, u, c, r in v.unclassified
            ],  # fmt: skip
            empty="pg.none",
        ),  # fmt: skip
        Table(
            "determinations",
            DET_COLS,
            [
                {
                    "id": d.id,
                    "enterprise": d.enterprise.name,
                    "unit": d.unit.code,
                    "intensity": d.computed_intensity,
                    "computed": d.computed_class or "none",
                    "table": d.computed_table or "",
                    "declared": d.declared_class or "none",
                    "final": d.final_class or "none",
                    "status": d.status,
                }
                for d in determination.latest(env.db, env.me, period.label)
            ],
            empty="pg.no_determinations",
        ),  # fmt: skip
        Table(
            "plans",
            PLAN_COLS,
            [
                {
                    "id": p.id,
                    "unit": p.unit.code,
                    "title": p.title,
                    "investment": p.investment_cny,
                    "saving": p.expected_saving_tce_per_year,
                    "deadline": p.deadline_on,
                    "status": p.status,
                }
                for p in plans.plans(env.db, env.me)
            ],
            empty="pg.no_plans",
        ),  # fmt: skip
    ]
    tables.append(Table("energy_factors", FACTOR_COLS, [
        {"unit": f"{f.unit.enterprise.uscc}/{f.unit.code}", "factor": f.energy_factor,
         "valid_from": f.valid_from, "evidence": f.evidence, "by": f.recorded_by}
        for f in energy_factor_records(env.db, env.me)
    ], empty="pg.none"))  # fmt: skip
    tables += _catalogue_tables(v)
    refineries = [(a.unit_id, f"{a.enterprise_uscc}/{a.unit_code}") for a in v.accounts
                  if ENERGY_FACTOR in field_def(a.level_field).unit]  # fmt: skip
    units = [(a.unit_id, f"{a.enterprise_uscc}/{a.unit_code}") for a in v.accounts]
    facts = {"refineries": refineries, "units": units, "units_total": v.units_total,
             "units_classified": v.units_classified,
             "share_classified": f"{v.share_classified:.1%}", "period_label": v.period}  # fmt: skip
    return tables, facts


def _page(env: PageEnv, error: str | None = None, status: int = 200) -> Response:
    period_text = env.request.query_params.get("period") or str(date.today().year)
    tables, facts = _tables(env, period_text)
    ctx = {
        "crumbs": [(env.t("nav.programme"), None)],
        "period_text": period_text,
        "facts": facts,
        "error": error,
        "done": env.request.query_params.get("done"),
        "is_enterprise": env.me.role is Role.ENTERPRISE,
        "actions": list(plans.TRANSITIONS),
        "exit_kinds": RECORDED_KINDS,
        "findings": FINDINGS,
    }
    return env.render("programme.html", ctx, tables, status_code=status)


@router.get("/programme")
def programme_page(env: SignedIn) -> Response:
    return _page(env)


def _after(env: PageEnv, period: str, run: Any) -> Response:
    try:
        run()
    except KilnwatchError as exc:
        env.db.rollback()
        return _page(env, exc.message, status=422)
    return done(env, f"/programme?period={period}&done=1")


@router.post("/programme/determine")
def determine_now(env: SignedIn, period: Annotated[str, Form()]) -> Response:
    """Compute every visible unit's determination for the period (regulators)."""
    env.require(env.me.role is not Role.ENTERPRISE, "regulators only")
    s = env.settings
    return _after(env, period, lambda: determination.determine(
        env.db, env.me, parse_period(period, s.zone), level_tables(s)))  # fmt: skip


@router.post("/programme/determinations")
def declare_or_decide(
    env: SignedIn,
    period: Annotated[str, Form()],
    determination_id: Annotated[int, Form()],
    level_class: Annotated[str, Form()],
    evidence: Annotated[str, Form()],
) -> Response:
    """An enterprise declares its class; a regulator decides."""
    if env.me.role is Role.ENTERPRISE:
        return _after(env, period, lambda: determination.declare(
            env.db, env.me, determination_id, level_class, evidence))  # fmt: skip
    return _after(env, period, lambda: determination.decide(
        env.db, env.me, determination_id, level_class, evidence))  # fmt: skip


@router.post("/programme/energy-factors")
def energy_factor_add(
    env: SignedIn,
    period: Annotated[str, Form()],
    unit_id: Annotated[int, Form()],
    energy_factor: Annotated[float, Form()],
    valid_from: Annotated[date, Form()],
    evidence: Annotated[str, Form()],
) -> Response:
    """Record a refinery's energy factor (能量因数) from a date on, with its evidence."""
    return _after(env, period, lambda: record_energy_factor(
        env.db, env.me, unit_id, energy_factor, valid_from, evidence))  # fmt: skip


@router.post("/programme/exit-grounds")
def exit_ground_add(
    env: SignedIn,
    period: Annotated[str, Form()],
    unit_id: Annotated[int, Form()],
    kind: Annotated[str, Form()],
    finding: Annotated[str, Form()],
    standard: Annotated[str, Form()],
    evidence: Annotated[str, Form()],
    determined_by: Annotated[str, Form()],
    determined_on: Annotated[date, Form()],
    deadline_on: Annotated[str, Form()] = "",
) -> Response:
    """Record a determination on the safety, environment, technology or quality standard."""
    env.require(env.me.role is not Role.ENTERPRISE, "regulators only")
    deadline = date.fromisoformat(deadline_on) if deadline_on else None
    return _after(env, period, lambda: record_exit_ground(
        env.db, env.me, unit_id, kind, finding, standard, evidence, determined_by,
        determined_on, deadline))  # fmt: skip


@router.post("/programme/plans/action")
def plan_action(
    env: SignedIn,
    period: Annotated[str, Form()],
    plan_id: Annotated[int, Form()],
    action: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """submit, city_review, approve, reject (with a note) or complete a plan."""
    return _after(env, period, lambda: plans.act(env.db, env.me, plan_id, action, note))
