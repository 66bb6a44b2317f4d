"""Supervision pages: the work queue of each role (``/supervision``), one item with its
workflow actions, comments, acknowledgement, assignment, evidence and history
(``/supervision/items/{id}``), opening a rectification (from a finding or by hand), and each
user's notices and notification choices (``/supervision/notices``). docs/supervision.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.domain.periods import parse_period
from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Role
from kilnwatch.store.models import (
    Enterprise,
    InspectionGroup,
    InspectionRound,
    Region,
    SupervisionItem,
    User,
)
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.supervise import items as svc
from kilnwatch.supervise import mailer, notices
from kilnwatch.supervise.access import (
    REGULATOR_ROLES,
    acts_for_department,
    department_of,
    is_enterprise_of,
    writes_on,
)
from kilnwatch.supervise.catalogue import (
    lead_department,
    load_departments,
    load_inspection_items,
    load_quotas,
    planning,
)
from kilnwatch.supervise.complaints import Complaint, receive_complaint
from kilnwatch.supervise.penalties import (
    Deduction,
    balances,
    deductions_of,
    propose_penalty,
    set_allocation,
)
from kilnwatch.supervise.rectification import (
    default_due_date,
    open_for,
    open_rectification,
    rectify_finding,
)
from kilnwatch.supervise.rounds import (
    all_rounds,
    checks_of,
    default_options,
    get_round,
    get_visit,
    plan_and_store,
    platform_figures,
    record_checks,
    round_period,
    visit_rows,
)
from kilnwatch.supervise.special import open_special
from kilnwatch.supervise.workflows import KINDS, WORKFLOWS
from kilnwatch.web.api.supervision import evidence_response
from kilnwatch.web.pages.kit import PageEnv, SignedIn, Visitor, done, page_router, refused
from kilnwatch.web.pages.registry import NavItem, Section, SectionRequest, add_nav, add_section
from kilnwatch.web.pages.tables import Col, Table, history_cols, history_row

router = page_router()
PAGE_SIZE = 50
VIEWS = ("mine", "overdue", "escalated", "pending", "all")
ITEM_COLS = (
    Col("id", "col.id", "num", link="href"), Col("kind", "col.kind", "badge", badge_prefix="kind."),
    Col("title", "sv.col.title", link="href"), Col("enterprise", "col.enterprise"),
    Col("status", "col.status", "badge", badge_prefix="sv.status."),
    Col("department", "sv.col.department"), Col("assignee", "col.assignee"),
    Col("due_on", "sv.col.due_on"), Col("overdue", "sv.col.overdue"),
    Col("escalation", "sv.col.escalation", "num"), Col("acknowledged", "sv.col.acknowledged"),
)  # fmt: skip

add_nav(NavItem("supervision", "nav.supervision", "/supervision", order=35))


def department_name(env: PageEnv, code: str) -> str:
    d = load_departments().get(code)
    return code if d is None else env.name(d.name_zh, d.name_en)


def item_rows(env: PageEnv, rows: list[SupervisionItem]) -> list[dict[str, Any]]:
    today = utcnow().date()
    ids = {r.enterprise_id for r in rows if r.enterprise_id}
    found = env.db.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids)))
    names: dict[int, str] = {int(i): str(n) for i, n in found}
    t = env.t
    return [
        {"id": r.id, "href": f"/supervision/items/{r.id}", "kind": r.kind, "title": r.title,
         "enterprise": names.get(r.enterprise_id or 0, ""), "status": r.status,
         "department": department_name(env, r.department), "assignee": r.assignee,
         "due_on": r.due_on.isoformat() if r.due_on else "",
         "overdue": t("yesno.yes") if svc.is_overdue(r, today) else "",
         "escalation": r.escalation_level, "acknowledged": r.acknowledged_by or ""}
        for r in rows
    ]  # fmt: skip


@router.get("/supervision")
def queue(
    env: SignedIn,
    view: Annotated[str, Query(pattern="^(mine|overdue|escalated|pending|all)$")] = "pending",
    kind: Annotated[str, Query(pattern="^(|rectification|special|penalty|complaint)$")] = "",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    me, today = env.me, utcnow().date()
    f = svc.ItemFilter(
        kind=kind or None, assignee=me.subject if view == "mine" else None,
        overdue_on=today if view == "overdue" else None, escalated=view == "escalated",
        open_only=view in ("pending", "mine"),
    )  # fmt: skip
    limit = PAGE_SIZE if env.request.query_params.get("format") != "csv" else 10_000
    rows, total = svc.list_items(env.db, me, f, offset, limit)
    counts = {v: svc.list_items(env.db, me, _view_filter(v, me.subject, today), 0, 1)[1]
              for v in ("mine", "overdue", "escalated")}  # fmt: skip
    context = {
        "view": view, "kind": kind, "views": VIEWS, "kinds": KINDS, "counts": counts,
        "total": total, "offset": offset, "page_size": PAGE_SIZE,
        "may_open": me.role in REGULATOR_ROLES,
        "unread": len(notices.inbox(env.db, me.subject, unread_only=True)),
        "crumbs": [(env.t("nav.supervision"), None)],
    }  # fmt: skip
    table = Table("queue", ITEM_COLS, item_rows(env, rows), wide=True, empty="sv.empty")
    return env.render("supervision.html", context, [table])


def _view_filter(view: str, me: str, today: date) -> svc.ItemFilter:
    return svc.ItemFilter(assignee=me if view == "mine" else None, open_only=view == "mine",
                          overdue_on=today if view == "overdue" else None,
                          escalated=view == "escalated")  # fmt: skip


def _actor_of(env: PageEnv, item: SupervisionItem) -> str | None:
    me = env.me
    if is_enterprise_of(me, item):
        return "enterprise"
    if acts_for_department(me, department_of(env.db, me), item):
        return "regulator"
    return None


@router.get("/supervision/items/{item_id}")
def item_page(
    env: SignedIn, item_id: int = Path(ge=1, le=2**31 - 1), error: str | None = None
) -> Response:
    t, me = env.t, env.me
    item = svc.get_item(env.db, me, item_id)
    actor = _actor_of(env, item)
    actions = [
        tr for tr in WORKFLOWS[item.kind]
        if item.status in tr.sources and (tr.actor == actor or me.sees_everything)
    ]  # fmt: skip
    events = svc.events_of(env.db, item.id)
    history = Table(
        "history", [*history_cols("sv."), Col("comment", "col.comment"),
                    Col("detail", "sv.col.detail")],
        [history_row(e) | {"comment": e.comment,
                           "detail": ", ".join(f"{k}={v}" for k, v in e.detail.items())}
         for e in events],
        empty="table.no_history",
    )  # fmt: skip
    evidence = Table("evidence", [
        Col("filename", "sv.col.file", link="href"), Col("size", "sv.col.size", "num"),
        Col("note", "col.comment"), Col("uploaded_by", "col.actor"), Col("at", "col.at", "time"),
    ], [{"filename": e.filename, "href": f"/supervision/evidence/{e.id}", "size": e.size_bytes,
         "note": e.note, "uploaded_by": e.uploaded_by, "at": e.at}
        for e in svc.evidence_of(env.db, item.id)], empty="sv.no_evidence")  # fmt: skip
    enterprise = env.db.get(Enterprise, item.enterprise_id) if item.enterprise_id else None
    users = list(env.db.scalars(select(User.username).where(
        User.active, User.role != Role.ENTERPRISE.value).order_by(User.username)))  # fmt: skip
    owner = me.sees_everything or (
        me.role is not Role.ENTERPRISE and department_of(env.db, me) == item.department
    )
    context = {
        "item": item, "enterprise": enterprise, "actions": actions, "actor": actor,
        "overdue": svc.is_overdue(item, utcnow().date()), "users": users,
        "department": department_name(env, item.department), "error": error,
        "may_note": writes_on(env.db, me, item), "show_complainant": owner,
        "may_ack": me.subject == item.assignee or is_enterprise_of(me, item),
        "follow_ups": follow_ups(item) if actor == "regulator" else [],
        "quotas": list(load_quotas().values()), "year": str(utcnow().year),
        "deductions": deductions_of(env.db, item.id) if item.kind == "penalty" else [],
        "done": env.request.query_params.get("done"), "today": utcnow().date().isoformat(),
        "crumbs": [(t("nav.supervision"), "/supervision"), (f"#{item.id} {item.title}", None)],
    }  # fmt: skip
    return env.render("supervision_item.html", context, [history, evidence])


def _retry(env: PageEnv, item_id: int, exc: InputError) -> Response:
    return refused(env, partial(item_page, env, item_id, error=exc.reason))


@router.post("/supervision/items/{item_id}/action")
def item_action(
    env: SignedIn,
    action: Annotated[str, Form(max_length=16)],
    comment: Annotated[str, Form(max_length=4000)] = "",
    response: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
    team: Annotated[str, Form(max_length=500)] = "",
    item_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    try:
        due = date.fromisoformat(due_on) if due_on else None
        members = team.replace("，", ",").split(",")
        svc.transition(env.db, env.me, item_id, action, comment, response=response or None,
                       due_on=due, team=members)  # fmt: skip
    except ValueError:
        return _retry(env, item_id, InputError("not a date", field="due_on"))
    except InputError as exc:
        return _retry(env, item_id, exc)
    return done(env, f"/supervision/items/{item_id}?done={action}")


@router.post("/supervision/items/{item_id}/note")
def item_note(
    env: SignedIn,
    note: Annotated[str, Form(pattern="^(comment|acknowledge|assign)$")],
    comment: Annotated[str, Form(max_length=4000)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    item_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    try:
        if note == "comment":
            svc.comment(env.db, env.me, item_id, comment)
        elif note == "acknowledge":
            svc.acknowledge(env.db, env.me, item_id)
        else:
            svc.assign(env.db, env.me, item_id, assignee, comment)
    except InputError as exc:
        return _retry(env, item_id, exc)
    return done(env, f"/supervision/items/{item_id}?done={note}")


@router.post("/supervision/items/{item_id}/evidence")
async def item_evidence(
    env: SignedIn,
    file: Annotated[UploadFile, File()],
    note: Annotated[str, Form(max_length=500)] = "",
    item_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    data = await file.read(svc.EVIDENCE_MAX_BYTES + 1)
    try:
        svc.attach_evidence(
            env.db, env.me, item_id, evidence_dir=svc.evidence_dir_of(env.settings.var_dir),
            filename=file.filename or "", content_type=file.content_type or "", data=data,
            note=note,
        )  # fmt: skip
    except InputError as exc:
        return _retry(env, item_id, exc)
    return done(env, f"/supervision/items/{item_id}?done=attach")


@router.get("/supervision/evidence/{evidence_id}")
def evidence_download(env: SignedIn, evidence_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    row, data = svc.evidence_file(env.db, env.me, evidence_id,
                                  svc.evidence_dir_of(env.settings.var_dir))  # fmt: skip
    return evidence_response(row, data)


@router.get("/supervision/new")
def new_rectification(
    env: SignedIn,
    finding: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    enterprise: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    error: str | None = None,
    kind: Annotated[str, Query(pattern="^(rectification|special)$")] = "rectification",
) -> Response:
    env.require(env.me.role in REGULATOR_ROLES, "only a supervisor opens a rectification")
    f = get_finding(env.db, env.me, finding) if finding else None
    wanted = f.enterprise_id if f else enterprise
    e = get_enterprise(env.db, env.me, wanted) if wanted else None
    context = {
        "finding": f, "enterprise": e, "due_on": default_due_date().isoformat(), "error": error,
        "kind": kind if f else "rectification",
        "crumbs": [(env.t("nav.supervision"), "/supervision"), (env.t("sv.new"), None)],
    }  # fmt: skip
    return env.render("supervision_new.html", context)


@router.post("/supervision/new")
def create_rectification(
    env: SignedIn,
    title: Annotated[str, Form(max_length=300)] = "",
    required_action: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
    finding: Annotated[str, Form(max_length=12)] = "",
    enterprise: Annotated[str, Form(max_length=12)] = "",
    kind: Annotated[str, Form(pattern="^(rectification|special)$")] = "rectification",
) -> Response:
    me = env.me
    env.require(me.role in REGULATOR_ROLES, "only a supervisor opens a rectification")
    try:
        due = date.fromisoformat(due_on) if due_on else default_due_date()
        if finding.isdigit() and kind == "special":
            f = get_finding(env.db, me, int(finding))
            item = open_special(env.db, me, source_code="verify.finding", source_ref=finding,
                                title=title or f"{f.rule_code} · {f.period}",
                                scope=required_action, due_on=due)  # fmt: skip
        elif finding.isdigit():
            item = rectify_finding(env.db, me, int(finding), due_date=due,
                                   required_action=required_action)  # fmt: skip
        elif enterprise.isdigit():
            e = get_enterprise(env.db, me, int(enterprise))
            item = open_rectification(
                env.db, enterprise_id=e.id, source_code="manual",
                source_ref=f"{me.subject}:{utcnow().isoformat()}", title=title, due_date=due,
                required_action=required_action, department=department_of(env.db, me),
                actor=me.subject,
            )  # fmt: skip
        else:
            raise NotFoundError("name a finding or an enterprise")
    except ValueError:
        env.db.rollback()
        return new_rectification(env, None, None, error=env.t("sv.error.date"))
    except InputError as exc:
        fid = int(finding) if finding.isdigit() else None
        eid = int(enterprise) if enterprise.isdigit() else None
        page = partial(new_rectification, env, fid, eid, error=exc.reason, kind=kind)
        return refused(env, page)
    return done(env, f"/supervision/items/{item.id}?done=create")


@router.get("/supervision/notices")
def notices_page(env: SignedIn, error: str | None = None) -> Response:
    me = env.me
    rows = notices.inbox(env.db, me.subject)
    table = Table("notices", [
        Col("at", "col.at", "time"),
        Col("event", "sv.col.event", "badge", badge_prefix="sv.event."),
        Col("item", "sv.col.item", link="href"), Col("read", "sv.col.read"),
    ], [{"at": n.at, "event": n.event, "item": f"#{n.item_id}",
         "href": f"/supervision/items/{n.item_id}", "read": "" if n.read_at is None else "✓"}
        for n in rows], empty="sv.no_notices")  # fmt: skip
    contact = mailer.contact_of(env.db, me.subject)
    context = {"prefs": notices.preferences(env.db, me.subject), "done":
               env.request.query_params.get("done"), "error": error,
               "email": contact.email if contact else "",
               "by_email": bool(contact and contact.by_email),
               "crumbs": [(env.t("nav.supervision"), "/supervision"),
                          (env.t("sv.notices"), None)]}  # fmt: skip
    return env.render("supervision_notices.html", context, [table],
                      status_code=422 if error else 200)  # fmt: skip


@router.post("/supervision/notices")
async def notices_save(env: SignedIn) -> Response:
    form = await env.request.form()
    me = env.me
    if form.get("mark_read"):
        notices.mark_read(env.db, me.subject)
    else:
        chosen = {str(k)[4:] for k in form if str(k).startswith("pref")}
        notices.set_preferences(env.db, me.subject, {e: e in chosen for e in notices.EVENTS})
        try:
            mailer.set_contact(env.db, me.subject, str(form.get("email") or ""),
                               bool(form.get("by_email")))  # fmt: skip
        except InputError as exc:
            env.db.rollback()
            return notices_page(env, error=exc.reason)
    return done(env, "/supervision/notices?done=saved")


def _enterprise_items(req: SectionRequest) -> dict[str, Any] | None:
    env = req.env
    f = svc.ItemFilter(enterprise_id=req.subject.id)
    rows, total = svc.list_items(env.db, env.me, f, 0, 20)
    table = Table("supervision", ITEM_COLS, item_rows(env, rows), wide=True, empty="sv.empty")
    return {"tables": [table]}


add_section(Section("enterprise", "supervision", "sv.section", "sections/_tables.html",
                    _enterprise_items, 45))  # fmt: skip


FOLLOW_UPS: dict[str, dict[str, tuple[str, ...]]] = {
    "rectification": {"penalty": ("escalated",), "special": ("escalated",)},
    "special": {"rectification": ("concluded",), "penalty": ("concluded",)},
    "complaint": {"special": ("triaged", "investigating")},
}
"""What a regulator may open from an item in a state: kind -> follow-up -> states."""


def follow_ups(item: SupervisionItem) -> list[str]:
    return [f for f, states in FOLLOW_UPS.get(item.kind, {}).items() if item.status in states]


@router.post("/supervision/items/{item_id}/follow-up")
def item_follow_up(
    env: SignedIn,
    follow_up: Annotated[str, Form(pattern="^(rectification|special|penalty)$")],
    title: Annotated[str, Form(max_length=300)] = "",
    body: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
    quota: Annotated[str, Form(max_length=16)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    period: Annotated[str, Form(max_length=32)] = "",
    legal_basis: Annotated[str, Form(max_length=300)] = "",
    item_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    """Open what an item requires: a rectification, a special supervision or a penalty."""
    me = env.me
    item = svc.get_item(env.db, me, item_id)
    env.require(_actor_of(env, item) == "regulator" and follow_up in follow_ups(item),
                "this item does not lead to that")  # fmt: skip
    try:
        due = date.fromisoformat(due_on) if due_on else None
        if follow_up == "rectification":
            new = open_for(env.db, me, item.id, title=title, due_date=due or default_due_date(),
                           required_action=body)  # fmt: skip
        elif follow_up == "special":
            new = open_special(env.db, me, source_code=item.kind, source_ref=str(item.id),
                               title=title, scope=body, due_on=due,
                               enterprise_id=item.enterprise_id)  # fmt: skip
        else:
            if item.enterprise_id is None:
                raise InputError("the item names no enterprise", field="follow_up")
            new = propose_penalty(
                env.db, me, enterprise_id=item.enterprise_id,
                deduction=Deduction(quota, float(amount or "nan"), period.strip()),
                legal_basis=legal_basis, grounds=body, source_item_id=item.id, due_on=due,
            )  # fmt: skip
    except ValueError:
        return _retry(env, item_id, InputError("not a number or a date", field="amount"))
    except InputError as exc:
        return _retry(env, item_id, exc)
    return done(env, f"/supervision/items/{new.id}?done=create")


@router.get("/supervision/rounds")
def rounds_page(env: SignedIn, error: str | None = None) -> Response:
    me = env.me
    rows = [{"code": r.code, "href": f"/supervision/rounds/{r.code}", "window":
             f"{r.window_start} – {r.window_end}", "groups": r.groups,
             "tolerance": r.tolerance_fraction, "status": r.status, "created_by": r.created_by,
             "excluded": len(r.excluded)} for r in all_rounds(env.db)]  # fmt: skip
    table = Table("rounds", [
        Col("code", "sv.col.round", link="href"), Col("window", "sv.col.window"),
        Col("groups", "sv.col.groups", "num"), Col("tolerance", "sv.col.tolerance", "pct"),
        Col("excluded", "sv.col.excluded", "num"), Col("created_by", "col.actor"),
    ], rows, empty="sv.no_rounds")  # fmt: skip
    context = {
        "may_plan": me.sees_everything or me.role is Role.PROVINCE, "error": error,
        "defaults": {"groups": int(planning("groups")),
                     "tolerance": planning("load_tolerance_fraction")},
        "crumbs": [(env.t("nav.supervision"), "/supervision"), (env.t("sv.rounds"), None)],
    }  # fmt: skip
    return env.render("supervision_rounds.html", context, [table])


@router.post("/supervision/rounds")
def plan_round_page(
    env: SignedIn,
    round_code: Annotated[str, Form(max_length=8, pattern=r"^\d{4}-?H[12]$")],
    groups: Annotated[int, Form(ge=1, le=50)],
    tolerance: Annotated[float, Form(gt=0, lt=1)],
) -> Response:
    period = parse_period(round_code, env.settings.zone, field="round")
    options = replace(default_options(period.label, period, groups), tolerance_fraction=tolerance)
    try:
        plan_and_store(env.db, env.me, options)
    except InputError as exc:
        return refused(env, partial(rounds_page, env, error=exc.reason))
    return done(env, f"/supervision/rounds/{period.label}")


@router.get("/supervision/rounds/{code}")
def round_page(env: SignedIn, code: Annotated[str, Path(max_length=16)]) -> Response:
    round_row = get_round(env.db, code)
    visits = visit_rows(env.db, env.me, round_row.id)
    regions = {str(c): env.name(str(z), e) for c, z, e in env.db.execute(
        select(Region.code, Region.name_zh, Region.name_en))}  # fmt: skip
    for v in visits:
        v["href"] = f"/supervision/visits/{v['visit_id']}"
        v["home_name"] = regions.get(v["group_home_city"], v["group_home_city"])
        v["city_name"] = regions.get(v["enterprise_city"], v["enterprise_city"])
    groups = Table("groups", [
        Col("number", "sv.col.group", "num"), Col("home", "sv.col.home_city"),
        Col("visits", "sv.col.visits", "num"), Col("load", "sv.col.load", "num", 1),
        Col("cities", "sv.col.cities", "num"),
    ], [{"number": g.number, "home": regions.get(g.home_city, g.home_city), "load": g.load,
         "visits": sum(1 for v in visits if v["group"] == g.number),
         "cities": len({v["enterprise_city"] for v in visits if v["group"] == g.number})}
        for g in _groups_of(env, round_row.id)])  # fmt: skip
    table = Table("visits", [
        Col("group", "sv.col.group", "num"), Col("home_name", "sv.col.home_city"),
        Col("enterprise_name", "col.enterprise", link="href"),
        Col("enterprise_uscc", "sv.col.uscc", "code"), Col("city_name", "col.city"),
        Col("planned_on", "sv.col.planned_on"), Col("load", "sv.col.load", "num", 1),
        Col("status", "col.status", "badge", badge_prefix="sv.visit."),
    ], visits, wide=True, empty="sv.no_visits")  # fmt: skip
    excluded = Table("excluded", [Col("enterprise_uscc", "sv.col.uscc", "code"),
                                  Col("reason", "sv.col.reason")], list(round_row.excluded),
                     empty="table.empty")  # fmt: skip
    context = {"round": round_row, "crumbs": [
        (env.t("nav.supervision"), "/supervision"), (env.t("sv.rounds"), "/supervision/rounds"),
        (round_row.code, None)]}  # fmt: skip
    return env.render("supervision_round.html", context, [groups, table, excluded])


def _groups_of(env: PageEnv, round_id: int) -> list[InspectionGroup]:
    stmt = select(InspectionGroup).where(InspectionGroup.round_id == round_id)
    return list(env.db.scalars(stmt.order_by(InspectionGroup.number)))


@router.get("/supervision/visits/{visit_id}")
def visit_page(
    env: SignedIn, visit_id: int = Path(ge=1, le=2**31 - 1), error: str | None = None
) -> Response:
    me, t = env.me, env.t
    visit = get_visit(env.db, me, visit_id)
    round_row = env.db.get(InspectionRound, visit.round_id)
    enterprise = env.db.get(Enterprise, visit.enterprise_id)
    assert round_row is not None and enterprise is not None
    period = round_period(env.db, round_row.id, env.settings.zone)
    platform = platform_figures(env.db, enterprise.id, period)
    recorded = {c.item: c for c in checks_of(env.db, visit.id)}
    mine = department_of(env.db, me)
    items = []
    for code, item in load_inspection_items().items():
        c = recorded.get(code)
        items.append({
            "code": code, "name": env.name(item.name_zh, item.name_en), "unit": item.unit,
            "department": department_name(env, item.department),
            "platform": platform.get(item.platform_figure or ""),
            "checked": c.checked_value if c else None, "ok": c.ok if c else True,
            "note": c.note if c else "", "gap": c.deviation_fraction if c else None,
            "mine": me.sees_everything or mine in (item.department, lead_department()),
        })  # fmt: skip
    context = {
        "visit": visit, "round": round_row, "enterprise": enterprise, "items": items,
        "may_record": me.role in REGULATOR_ROLES, "error": error,
        "done": env.request.query_params.get("done"), "due_on": default_due_date().isoformat(),
        "crumbs": [(t("nav.supervision"), "/supervision"), (t("sv.rounds"), "/supervision/rounds"),
                   (round_row.code, f"/supervision/rounds/{round_row.code}"),
                   (enterprise.name, None)],
    }  # fmt: skip
    return env.render("supervision_visit.html", context)


@router.post("/supervision/visits/{visit_id}")
async def visit_record(env: SignedIn, visit_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    """Record the checklist items the user's department owns, or open what the visit found."""
    form = await env.request.form()
    me = env.me
    visit = get_visit(env.db, me, visit_id)

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    try:
        if text("open") in ("rectification", "special"):
            due = date.fromisoformat(text("due_on")) if text("due_on") else default_due_date()
            if text("open") == "rectification":
                item = open_rectification(
                    env.db, enterprise_id=visit.enterprise_id, source_code="inspection.visit",
                    source_ref=f"{visit.id}:{text('title')[:80]}", title=text("title"),
                    due_date=due, required_action=text("body"),
                    department=department_of(env.db, me), actor=me.subject,
                )  # fmt: skip
            else:
                item = open_special(env.db, me, source_code="inspection.visit",
                                    source_ref=str(visit.id), title=text("title"),
                                    scope=text("body"), due_on=due,
                                    enterprise_id=visit.enterprise_id)  # fmt: skip
            return done(env, f"/supervision/items/{item.id}?done=create")
        checked: dict[str, tuple[float | None, bool, str]] = {}
        for code in load_inspection_items():
            if f"value_{code}" not in form:
                continue
            raw = text(f"value_{code}").replace(",", "")
            checked[code] = (float(raw) if raw else None, bool(text(f"ok_{code}")),
                             text(f"note_{code}"))  # fmt: skip
        period = round_period(env.db, visit.round_id, env.settings.zone)
        record_checks(env.db, me, visit.id, checked, period, text("summary"))
    except ValueError:
        return refused(env, partial(visit_page, env, visit_id, error=env.t("sv.error.number")))
    except InputError as exc:
        return refused(env, partial(visit_page, env, visit_id, error=exc.reason))
    return done(env, f"/supervision/visits/{visit_id}?done=checks")


@router.get("/supervision/quotas")
def quotas_page(
    env: SignedIn,
    period: Annotated[str, Query(max_length=32)] = "",
    error: str | None = None,
) -> Response:
    me = env.me
    chosen = period or str(utcnow().year)
    quotas = load_quotas()
    rows = [{"region": b.region_code, "enterprise": b.enterprise_uscc or "",
             "quota": env.name(quotas[b.quota].name_zh, quotas[b.quota].name_en)
             if b.quota in quotas else b.quota, "unit": b.unit, "allocated": b.allocated,
             "deducted": b.deducted, "balance": b.balance}
            for b in balances(env.db, me, chosen)]  # fmt: skip
    table = Table("balances", [
        Col("region", "col.city", "code"), Col("enterprise", "sv.col.uscc", "code"),
        Col("quota", "sv.col.quota"), Col("unit", "sv.col.unit"),
        Col("allocated", "sv.col.allocated", "num", 1),
        Col("deducted", "sv.col.deducted", "num", 1),
        Col("balance", "sv.col.balance", "num", 1),
    ], rows, empty="table.empty")  # fmt: skip
    context = {
        "period": chosen, "quotas": list(quotas.values()), "error": error,
        "may_allocate": me.sees_everything or me.role is Role.PROVINCE,
        "crumbs": [(env.t("nav.supervision"), "/supervision"), (env.t("sv.quotas"), None)],
    }  # fmt: skip
    return env.render("supervision_quotas.html", context, [table])


@router.post("/supervision/quotas")
def quotas_allocate(
    env: SignedIn,
    period: Annotated[str, Form(min_length=4, max_length=32)],
    region_code: Annotated[str, Form(max_length=6)],
    quota: Annotated[str, Form(max_length=16)],
    amount: Annotated[float, Form(ge=0)],
    enterprise_uscc: Annotated[str, Form(max_length=18)] = "",
) -> Response:
    try:
        set_allocation(env.db, env.me, region_code=region_code, enterprise_uscc=enterprise_uscc
                       or None, period=period, quota=quota, amount=amount,
                       source=f"set by {env.me.subject}")  # fmt: skip
    except InputError as exc:
        return refused(env, partial(quotas_page, env, period, error=exc.reason))
    return done(env, f"/supervision/quotas?period={period}")


@router.get("/complaints/new")
def complaint_form(env: Visitor, error: str | None = None, number: int | None = None) -> Response:
    """The public complaint form (举报投诉): nobody needs to sign in to complain."""
    cities = [(str(c), env.name(str(z), e)) for c, z, e in env.db.execute(
        select(Region.code, Region.name_zh, Region.name_en).where(Region.level == "city")
        .order_by(Region.code))]  # fmt: skip
    context = {"cities": cities, "error": error, "number": number,
               "crumbs": [(env.t("sv.complain"), None)]}  # fmt: skip
    return env.render("complaint_new.html", context)


@router.post("/complaints/new")
def complaint_submit(
    env: Visitor,
    subject: Annotated[str, Form(max_length=300)] = "",
    body: Annotated[str, Form(max_length=4000)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    enterprise_uscc: Annotated[str, Form(max_length=18)] = "",
    complainant: Annotated[str, Form(max_length=100)] = "",
    contact: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    actor = env.principal.subject if env.principal else "public"
    try:
        item = receive_complaint(env.db, Complaint(
            subject=subject, body=body, channel="web", region_code=region_code or None,
            enterprise_uscc=enterprise_uscc or None, complainant=complainant or None,
            contact=contact or None), actor=actor)  # fmt: skip
    except InputError as exc:
        return refused(env, partial(complaint_form, env, error=exc.reason))
    number = item.id
    env.db.commit()
    return complaint_form(env, number=number)


add_nav(NavItem("complain", "sv.complain", "/complaints/new", order=90,
                visible=lambda p: p is None))  # fmt: skip
