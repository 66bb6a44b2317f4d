"""Pages of "两高" project control (docs/projects.md): the project register (``/projects``), a
project with its approvals, ledgers, stage requests and the form to change its stage
(``/projects/{id}``), and the weekly joint report (``/weekly``): a city generates, corrects,
signs (four departments) and submits it; the province sees every city, the late ones first,
differences from metering and cap breaches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response

from kilnwatch.domain.periods import Period
from kilnwatch.domain.projects import DEPARTMENTS, STAGES
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Role
from kilnwatch.projects import register, weekly
from kilnwatch.projects.register import ProjectStatus
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav, not_enterprise
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import region_name

router = page_router()
FormText = Annotated[str, Form()]
add_nav(NavItem("projects", "nav.projects", "/projects", order=50, visible=not_enterprise))
add_nav(NavItem("weekly", "nav.weekly", "/weekly", order=51, visible=not_enterprise))


def _ledger_text(led: Any) -> str | None:
    if led is None:
        return None
    if led.prohibited:
        return "prohibited"
    if led.required is None:
        return "ratio?"
    return f"{led.committed:,.0f} / {led.required:,.0f}"


def _register_table(env: PageEnv, items: list[ProjectStatus]) -> Table:
    rows = [
        {
            "code": s.project.code,
            "href": f"/projects/{s.project.id}",
            "name": s.project.name,
            "enterprise": s.project.enterprise.name,
            "region": region_name(s.project.enterprise.region_code, env.t),
            "stage": s.project.stage,
            "approvals": sum(1 for v in s.approvals.values() if v == "approved"),
            "replacement": _ledger_text(s.replacement),
            "coal": _ledger_text(s.coal),
            "next_stage": s.next_stage,
            "blockers": "; ".join(b.code for b in s.blockers) or None,
            "_class": "warn" if s.blockers else "",
        }
        for s in items
    ]
    return Table(
        "register",
        [
            Col("code", "projects.code", "code", link="href"),
            Col("name", "col.name"),
            Col("enterprise", "col.enterprise"),
            Col("region", "col.region"),
            Col("stage", "projects.stage", "badge", badge_prefix="stage."),
            Col("approvals", "projects.approvals_granted", "num", digits=0),
            Col("replacement", "projects.replacement"),
            Col("coal", "projects.coal"),
            Col("next_stage", "projects.next_stage", "badge", badge_prefix="stage."),
            Col("blockers", "projects.blockers", "code"),
        ],
        rows,
        wide=True,
    )


@router.get("/projects")
def projects_page(env: SignedIn, stage: str | None = None, city: str | None = None) -> Response:
    items = register.list_projects(env.db, env.me, stage=stage or None, city=city or None)
    context = {"stages": STAGES, "stage": stage or "", "crumbs": [(env.t("nav.projects"), None)]}
    return env.render("projects.html", context, [_register_table(env, items)])


def _project_page(
    env: PageEnv,
    project_id: int,
    message: str | None = None,
    blockers: list[Any] | None = None,
    status: int = 200,
) -> Response:
    st = register.project_status(env.db, env.me, project_id)
    events = register.stage_events(env.db, env.me, project_id)
    approvals = Table(
        "approvals",
        [
            Col("kind", "projects.approval", "badge", badge_prefix="approval."),
            Col("status", "col.status", "badge", badge_prefix="approval_status."),
        ],
        [{"kind": k, "status": v} for k, v in sorted(st.approvals.items())],
    )
    ledgers = Table(
        "ledgers",
        [
            Col("ledger", "projects.ledger"),
            Col("base", "projects.base", "num", digits=0),
            Col("unit", "projects.unit", "code"),
            Col("ratio", "projects.ratio", "num", digits=2),
            Col("required", "projects.required", "num", digits=0),
            Col("committed", "projects.committed", "num", digits=0),
            Col("done", "projects.done", "num", digits=0),
            Col("balance", "projects.balance", "num", digits=0),
        ],
        [
            {
                "ledger": env.t(f"projects.{name}"),
                "base": led.base,
                "unit": led.unit,
                "ratio": led.ratio,
                "required": led.required,
                "committed": led.committed,
                "done": led.done,
                "balance": led.balance,
            }
            for name, led in (("replacement", st.replacement), ("coal", st.coal))
            if led is not None
        ],
    )
    history = Table(
        "events",
        [
            Col("at", "col.time", "time"),
            Col("from_stage", "projects.from", "badge", badge_prefix="stage."),
            Col("to_stage", "projects.to", "badge", badge_prefix="stage."),
            Col("granted", "projects.granted", "badge", badge_prefix="yesno."),
            Col("actor", "projects.actor", "code"),
            Col("blockers", "projects.blockers", "code"),
        ],
        [
            {
                "at": e.at,
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "granted": "yes" if e.granted else "no",
                "actor": e.actor,
                "blockers": "; ".join(b["code"] for b in e.blockers) or None,
            }
            for e in events
        ],
    )
    context = {
        "st": st,
        "stages": STAGES,
        "message": message,
        "refused": blockers or [],
        "may_write": env.me.may_write_registry,
        "crumbs": [(env.t("nav.projects"), "/projects"), (st.project.code, None)],
    }
    return env.render("project.html", context, [approvals, ledgers, history], status_code=status)


@router.get("/projects/{project_id}")
def project_page(env: SignedIn, project_id: int) -> Response:
    return _project_page(env, project_id, env.request.query_params.get("moved"))


@router.post("/projects/{project_id}/stage")
def project_stage(env: SignedIn, project_id: int, stage: FormText) -> Response:
    _, blockers = register.advance_stage(env.db, env.me, project_id, stage)
    if blockers:
        env.db.commit()  # the refusal is recorded too
        return _project_page(env, project_id, None, blockers, status=422)
    return done(env, f"/projects/{project_id}?moved={stage}")


def _last_week(env: PageEnv) -> str:
    today = datetime.now(env.settings.zone).date()
    return Period.containing("week", today - timedelta(days=7), env.settings.zone).label


def _rows_table(view: weekly.WeekView) -> Table:
    rows = [
        dict(
            r,
            breach=", ".join(r.get("breaches") or []) or None,
            supervisors_text="、".join(r.get("supervisors") or []) or None,
            _class="warn" if r.get("breaches") else "",
        )
        for r in view.rows
    ]
    return Table(
        "weekly",
        [
            Col("enterprise", "col.enterprise"),
            Col("uscc", "col.uscc", "code"),
            Col("product", "weekly.product", "code"),
            Col("output_t", "weekly.output", "num", digits=0, unit="t"),
            Col("reported_output_t", "weekly.reported_output", "num", digits=0, unit="t"),
            Col("energy_tce", "weekly.energy", "num", digits=0, unit="tce"),
            Col("reported_energy_tce", "weekly.reported_energy", "num", digits=0, unit="tce"),
            Col("coal_t", "weekly.coal", "num", digits=0, unit="t"),
            Col("reported_coal_t", "weekly.reported_coal", "num", digits=0, unit="t"),
            Col("cap_output_t", "weekly.cap_output", "num", digits=0, unit="t"),
            Col("cum_output_t", "weekly.cum_output", "num", digits=0, unit="t"),
            Col("breach", "weekly.breach", "code"),
            Col("online_fraction", "fig.online_rate", "pct"),
            Col("calibration_overdue", "weekly.calibration_overdue", "num", digits=0),
            Col("anomalies", "weekly.anomalies", "num", digits=0),
            Col("supervisors_text", "weekly.supervisors"),
            Col("log_days", "weekly.log_days", "num", digits=0),
        ],
        rows,
        wide=True,
    )


def _province_table(env: PageEnv, cities: list[weekly.CityWeek], week: str) -> Table:
    rows = [
        {
            "city": env.name(c.name_zh, c.name_en),
            "href": f"/weekly?week={week}&city={c.city_code[:4]}",
            "enterprises": c.enterprises,
            "status": c.status,
            "signed": len(c.signed),
            "due_at": c.due_at,
            "submitted_at": c.submitted_at,
            "late": "yes" if c.late else "no",
            "differences": "; ".join(
                f"{d['enterprise']}: {', '.join(d['fields'])}" for d in c.differences
            )
            or None,
            "breaches": "; ".join(
                f"{b['enterprise']}: {', '.join(b['fields'])}" for b in c.breaches
            )
            or None,
            "_class": "warn" if c.late or c.breaches else "",
        }
        for c in cities
    ]
    return Table(
        "province",
        [
            Col("city", "col.city", link="href"),
            Col("enterprises", "weekly.enterprises", "num", digits=0),
            Col("status", "col.status", "badge", badge_prefix="weekly.status."),
            Col("signed", "weekly.signed", "num", digits=0),
            Col("due_at", "weekly.due_at", "time"),
            Col("submitted_at", "weekly.submitted_at", "time"),
            Col("late", "weekly.late", "badge", badge_prefix="yesno."),
            Col("differences", "weekly.differences"),
            Col("breaches", "weekly.breaches"),
        ],
        rows,
        wide=True,
    )


def _weekly_page(
    env: PageEnv, week: str | None, city: str | None, error: str | None = None, status: int = 200
) -> Response:
    me = env.me
    week = week or _last_week(env)
    tables: list[Table] = []
    cities: list[weekly.CityWeek] = []
    if me.role in (Role.PROVINCE, Role.ADMIN) and not city:
        cities = weekly.province_week(
            env.db,
            me,
            week,
            zone=env.settings.zone,
            due_h=env.settings.weekly_report_due_h,
            tolerance_fraction=env.settings.weekly_difference_tolerance_fraction,
        )
        tables.append(_province_table(env, cities, week))
    view = None
    city = city or (me.region_code[:4] if me.role is Role.CITY and me.region_code else None)
    if city:
        view = weekly.week_view(env.db, me, city, week, zone=env.settings.zone)
        tables.append(_rows_table(view))
    signed = {s.department for s in view.signatures} if view else set()
    context = {
        "week": week,
        "city": city,
        "view": view,
        "error": error,
        "departments": DEPARTMENTS,
        "signed": signed,
        "province": bool(cities) or not city,
        "may_report": me.role in (Role.CITY, Role.ADMIN),
        "signatures": view.signatures if view else [],
        "crumbs": [(env.t("nav.weekly"), None)],
    }
    return env.render("weekly.html", context, tables, status_code=status)


@router.get("/weekly")
def weekly_page(env: SignedIn, week: str | None = None, city: str | None = None) -> Response:
    return _weekly_page(env, week, city)


def _act(env: PageEnv, week: str, city: str, action: Any) -> Response:
    try:
        action()
    except KilnwatchError as exc:
        env.db.rollback()
        return _weekly_page(env, week, city, error=exc.message, status=422)
    return done(env, f"/weekly?week={week}&city={city}")


@router.post("/weekly/generate")
def weekly_generate(env: SignedIn, week: FormText, city: FormText) -> Response:
    return _act(
        env, week, city, lambda: weekly.generate(env.db, env.me, city, week, zone=env.settings.zone)
    )


@router.post("/weekly/{report_id}/sign")
def weekly_sign(
    env: SignedIn,
    report_id: int,
    week: FormText,
    city: FormText,
    department: FormText,
    opinion: FormText = "",
) -> Response:
    return _act(
        env, week, city, lambda: weekly.sign(env.db, env.me, report_id, department, opinion)
    )


@router.post("/weekly/{report_id}/correct")
def weekly_correct(
    env: SignedIn,
    report_id: int,
    week: FormText,
    city: FormText,
    uscc: FormText,
    field: FormText,
    value: Annotated[float, Form()],
) -> Response:
    return _act(
        env, week, city, lambda: weekly.correct(env.db, env.me, report_id, uscc, field, value)
    )


@router.post("/weekly/{report_id}/submit")
def weekly_submit(env: SignedIn, report_id: int, week: FormText, city: FormText) -> Response:
    return _act(env, week, city, lambda: weekly.submit(env.db, env.me, report_id))
