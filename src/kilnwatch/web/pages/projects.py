"""Pages of "两高" project control (docs/projects.md): the project register (``/projects``), a
project with its approvals, ledgers, stage requests and the form to change its stage
(``/projects/{id}``), and the weekly joint report (``/weekly``): a city generates, corrects,
signs (four departments) and submits it; the province sees every city, the late ones first,
differences from metering and cap breaches.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, UploadFile
from fastapi.responses import Response

from kilnwatch.domain.periods import Period, week_period
from kilnwatch.domain.projects import DEPARTMENTS, STAGES
from kilnwatch.errors import InputError, KilnwatchError, NotFoundError
from kilnwatch.identity import Role
from kilnwatch.projects import control, dispatch, register, visits, weekly
from kilnwatch.projects.register import ProjectStatus
from kilnwatch.reference.projects import load_site_checklist
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav, not_enterprise
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import region_name

router = page_router()
FormText = Annotated[str, Form()]
MAX_PHOTO_BYTES = 10 * 1024 * 1024
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
    visit_error: str | None = None,
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
            {"ledger": env.t(f"projects.{name}"), **led.figures(), "balance": led.balance}
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
    found = visits.visits_of(env.db, env.me, project_id)
    visit_rows = [
        {"month": v.month, "visited_on": v.visited_on.isoformat(), "inspectors": v.inspectors,
         "not_ok": ", ".join(k for k, r in v.checklist.items() if r == "not_ok") or None,
         "findings": v.findings or None, "photos": len(v.photos),
         "follow_ups": "; ".join(f"{f.item} → #{f.rectification_ref} ({f.due_on})"
                                 for f in v.follow_ups) or None}
        for v in found
    ]  # fmt: skip
    visit_table = Table("visits", [
        Col("month", "col.period", "code"), Col("visited_on", "visits.visited_on"),
        Col("inspectors", "visits.inspectors"), Col("not_ok", "visits.not_ok", "code"),
        Col("findings", "visits.findings"), Col("photos", "visits.photos", "num"),
        Col("follow_ups", "visits.follow_ups"),
    ], visit_rows, wide=True)  # fmt: skip
    context = {
        "st": st,
        "stages": STAGES,
        "message": message,
        "refused": blockers or [],
        "may_write": env.me.may_write_registry,
        "checklist": load_site_checklist(),
        "results": visits.CHECK_RESULTS,
        "visit_error": visit_error,
        "last_visit": found[0] if found else None,
        "crumbs": [(env.t("nav.projects"), "/projects"), (st.project.code, None)],
    }
    tables = [approvals, ledgers, history, visit_table]
    return env.render("project.html", context, tables, status_code=status)


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


@router.post("/projects/{project_id}/visits")
async def project_visit(env: SignedIn, project_id: int) -> Response:
    """Record the month's visit from the form: one result per checklist item, findings and at
    most one follow-up (it opens a rectification)."""
    form = await env.request.form()
    text = {k: v for k, v in form.items() if isinstance(v, str)}
    checklist = {c.item: text.get(f"check_{c.item}", "na") for c in load_site_checklist()}
    try:
        follow = []
        if text.get("follow_item") and text.get("follow_requirement", "").strip():
            follow.append(
                visits.FollowUpRequest(
                    text["follow_item"],
                    text["follow_requirement"],
                    date.fromisoformat(text.get("follow_due", "")),
                )
            )
        visits.record_visit(
            env.db,
            env.me,
            project_id,
            date.fromisoformat(text.get("visited_on", "")),
            inspectors=text.get("inspectors", ""),
            checklist=checklist,
            findings=text.get("findings", ""),
            follow_ups=follow,
        )
    except (KilnwatchError, ValueError) as exc:
        env.db.rollback()
        message = exc.message if isinstance(exc, KilnwatchError) else f"bad date: {exc}"
        return _project_page(env, project_id, status=422, visit_error=message)
    return done(env, f"/projects/{project_id}#block-visits")


@router.post("/projects/{project_id}/visits/{visit_id}/photos")
async def project_visit_photo(
    env: SignedIn, project_id: int, visit_id: int, photo: UploadFile
) -> Response:
    """Store a photo of a visit under ``<var_dir>/site_photos/<visit id>/``."""
    found = {v.id: v for v in visits.visits_of(env.db, env.me, project_id)}
    if visit_id not in found or not env.me.may_write_registry:
        raise NotFoundError(f"visit {visit_id} not found")
    data = await photo.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES or not data:
        return _project_page(env, project_id, status=422, visit_error="photo empty or too large")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(photo.filename or "photo.jpg").name)[:80]
    try:
        visits.add_photo(found[visit_id], name)
    except KilnwatchError as exc:
        return _project_page(env, project_id, status=422, visit_error=exc.message)
    folder = Path(env.settings.var_dir) / "site_photos" / str(visit_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return done(env, f"/projects/{project_id}#block-visits")


# --- daily dispatch -------------------------------------------------------------------------

add_nav(NavItem("dispatch", "nav.dispatch", "/dispatch", order=52))


def _day(env: PageEnv, text: str | None) -> date:
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field="day") from None
    return datetime.now(env.settings.zone).date() - timedelta(days=1)


def _amounts(items: list[dispatch.CarrierDay]) -> str | None:
    text = "; ".join(
        f"{i.key} {i.quantity:,.1f} {i.unit}" + (" *" if i.source == "entry" else "") for i in items
    )
    return text or None


def _dispatch_page(
    env: PageEnv, day_text: str | None, error: str | None = None, status: int = 200
) -> Response:
    day = _day(env, day_text)
    days = dispatch.dispatch_day(
        env.db, env.me, day, zone=env.settings.zone, due_h=env.settings.dispatch_due_h
    )
    projects = Table(
        "dispatch",
        [
            Col("code", "projects.code", "code", link="href"),
            Col("name", "col.name"),
            Col("enterprise", "col.enterprise"),
            Col("output", "dispatch.output"),
            Col("energy", "dispatch.energy"),
            Col("energy_tce", "dispatch.energy_tce", "num", digits=1),
            Col("coal_t", "dispatch.coal", "num", digits=1),
            Col("meters", "dispatch.meters", "num"),
            Col("missing", "dispatch.missing", "code"),
            Col("late", "dispatch.late", "code"),
        ],
        [
            {
                "code": d.code,
                "href": f"/projects/{d.project_id}",
                "name": d.name,
                "enterprise": d.enterprise,
                "output": _amounts(d.output),
                "energy": _amounts(d.energy),
                "energy_tce": d.energy_tce,
                "coal_t": d.coal_t,
                "meters": d.meters,
                "missing": ", ".join(d.missing) or None,
                "late": ", ".join(d.late) or None,
                "_class": "warn" if d.missing or d.late or d.no_data else "",
            }
            for d in days
        ],
        wide=True,
        note=env.t("dispatch.entry_mark"),
    )
    cities = Table(
        "cities",
        [
            Col("city", "col.city"),
            Col("projects", "dispatch.projects", "num"),
            Col("with_missing", "dispatch.with_missing", "num"),
            Col("with_late", "dispatch.with_late", "num"),
            Col("without_data", "dispatch.without_data", "num"),
            Col("energy_tce", "dispatch.energy_tce", "num", digits=1),
        ],
        [
            {
                "city": region_name(c.city_code, env.t),
                "projects": c.projects,
                "with_missing": c.with_missing,
                "with_late": c.with_late,
                "without_data": c.without_data,
                "energy_tce": c.energy_tce,
            }
            for c in dispatch.by_city(days)
        ],
    )
    context = {
        "day": day.isoformat(),
        "error": error,
        "projects": days,
        "may_enter": env.me.role is Role.ENTERPRISE or env.me.may_write_registry,
        "province": env.me.role in (Role.PROVINCE, Role.ADMIN),
        "crumbs": [(env.t("nav.dispatch"), None)],
    }
    return env.render("dispatch.html", context, [cities, projects], status_code=status)


@router.get("/dispatch")
def dispatch_page(env: SignedIn, day: str | None = None) -> Response:
    return _dispatch_page(env, day)


@router.post("/dispatch/entries")
def dispatch_entry(
    env: SignedIn,
    day: FormText,
    project_id: Annotated[int, Form()],
    carrier: FormText,
    quantity: Annotated[float, Form()],
    unit: FormText,
) -> Response:
    try:
        dispatch.enter_figure(
            env.db, env.me, project_id, _day(env, day), carrier.strip(), quantity, unit.strip()
        )
    except KilnwatchError as exc:
        env.db.rollback()
        return _dispatch_page(env, day, error=exc.message, status=422)
    return done(env, f"/dispatch?day={day}")


# --- production control: caps, resident supervisors, weekly logs ---------------------------

add_nav(NavItem("control", "nav.control", "/control", order=53, visible=not_enterprise))


def _control_page(
    env: PageEnv, week: str | None, error: str | None = None, status: int = 200
) -> Response:
    week = week or _last_week(env)
    period = week_period(week, env.settings.zone)
    caps = control.caps_in(env.db, env.me, period)
    uses = control.cap_uses(env.db, caps, period.stop, env.settings.zone)
    cap_table = Table(
        "caps",
        [
            Col("enterprise", "col.enterprise"),
            Col("period", "col.period", "code"),
            Col("product", "weekly.product", "code"),
            Col("output_t", "weekly.cap_output", "num", digits=0, unit="t"),
            Col("used", "weekly.cum_output", "num", digits=0, unit="t"),
            Col("used_fraction", "control.used", "pct"),
            Col("elapsed", "control.elapsed", "pct"),
            Col("breach", "weekly.breach", "code"),
        ],
        [
            {
                "enterprise": u.cap.enterprise.name,
                "period": u.cap.period,
                "product": u.cap.product,
                "output_t": u.cap.output_t,
                "used": u.output_t,
                "used_fraction": u.used_fraction("output_t"),
                "elapsed": u.elapsed_fraction,
                "breach": ", ".join(u.breaches) or None,
                "_class": "warn" if u.breaches else "",
            }
            for u in uses
        ],
        wide=True,
    )
    sups = control.supervisors(env.db, env.me)
    logs = {g.supervisor_id: g for g in control.logs_of_week(env.db, env.me, period.label)}
    sup_table = Table(
        "supervisors",
        [
            Col("name", "col.name"),
            Col("enterprise", "col.enterprise"),
            Col("department", "weekly.department", "badge", badge_prefix="dept."),
            Col("assigned_on", "control.assigned_on"),
            Col("days", "weekly.log_days", "num"),
            Col("observed", "control.observed", "num", digits=0),
            Col("normal", "control.normal", "badge", badge_prefix="yesno."),
            Col("notes", "control.notes"),
        ],
        [
            {
                "name": s.name,
                "enterprise": s.enterprise.name,
                "department": s.department,
                "assigned_on": s.assigned_on.isoformat(),
                "days": logs[s.id].days_on_site if s.id in logs else None,
                "observed": logs[s.id].observed_output_t if s.id in logs else None,
                "normal": ("yes" if logs[s.id].production_normal else "no")
                if s.id in logs
                else None,
                "notes": logs[s.id].notes if s.id in logs else None,
                "_class": "" if s.id in logs else "warn",
            }
            for s in sups
        ],
        wide=True,
    )
    context = {
        "week": period.label,
        "error": error,
        "supervisors": sups,
        "crumbs": [(env.t("nav.control"), None)],
    }
    return env.render("control.html", context, [cap_table, sup_table], status_code=status)


@router.get("/control")
def control_page(env: SignedIn, week: str | None = None) -> Response:
    return _control_page(env, week)


@router.post("/control/logs")
def control_log(
    env: SignedIn,
    week: FormText,
    supervisor_id: Annotated[int, Form()],
    days_on_site: Annotated[int, Form()],
    observed_output_t: FormText = "",
    production_normal: FormText = "yes",
    notes: FormText = "",
) -> Response:
    try:
        observed = float(observed_output_t) if observed_output_t.strip() else None
        control.write_log(
            env.db,
            env.me,
            supervisor_id,
            week,
            days_on_site=days_on_site,
            observed_output_t=observed,
            production_normal=production_normal == "yes",
            notes=notes,
            zone=env.settings.zone,
        )
    except (KilnwatchError, ValueError) as exc:
        env.db.rollback()
        message = exc.message if isinstance(exc, KilnwatchError) else str(exc)
        return _control_page(env, week, error=message, status=422)
    return done(env, f"/control?week={week}")
