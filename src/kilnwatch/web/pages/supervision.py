"""Supervision pages: the work queue of each role (``/supervision``), one item with its
workflow actions, comments, acknowledgement, assignment, evidence and history
(``/supervision/items/{id}``), opening a rectification (from a finding or by hand), and each
user's notices and notification choices (``/supervision/notices``). docs/supervision.md."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, SupervisionItem, User
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.supervise import items as svc
from kilnwatch.supervise import notices
from kilnwatch.supervise.access import (
    REGULATOR_ROLES,
    acts_for_department,
    department_of,
    is_enterprise_of,
)
from kilnwatch.supervise.catalogue import load_departments
from kilnwatch.supervise.rectification import default_due_date, open_rectification, rectify_finding
from kilnwatch.supervise.workflows import KINDS, WORKFLOWS
from kilnwatch.web.api.supervision import evidence_response
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, Section, SectionRequest, add_nav, add_section
from kilnwatch.web.pages.tables import Col, Table

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
    history = Table("history", [
        Col("at", "col.at", "time"), Col("actor", "col.actor"),
        Col("action", "col.action", "badge", badge_prefix="sv.action."),
        Col("from_status", "col.from_status", "badge", badge_prefix="sv.status."),
        Col("to_status", "col.to_status", "badge", badge_prefix="sv.status."),
        Col("comment", "col.comment"), Col("detail", "sv.col.detail"),
    ], [{"at": e.at, "actor": e.actor, "action": e.action, "from_status": e.from_status,
         "to_status": e.to_status, "comment": e.comment,
         "detail": ", ".join(f"{k}={v}" for k, v in e.detail.items())} for e in events],
        empty="table.no_history")  # fmt: skip
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
        "may_note": me.role is not Role.AUDITOR, "show_complainant": owner,
        "may_ack": me.subject == item.assignee or is_enterprise_of(me, item),
        "done": env.request.query_params.get("done"), "today": utcnow().date().isoformat(),
        "crumbs": [(t("nav.supervision"), "/supervision"), (f"#{item.id} {item.title}", None)],
    }  # fmt: skip
    return env.render("supervision_item.html", context, [history, evidence])


def _retry(env: PageEnv, item_id: int, exc: InputError) -> Response:
    env.db.rollback()
    response = item_page(env, item_id, error=exc.reason)
    response.status_code = 422
    return response


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
) -> Response:
    env.require(env.me.role in REGULATOR_ROLES, "only a supervisor opens a rectification")
    f = get_finding(env.db, env.me, finding) if finding else None
    wanted = f.enterprise_id if f else enterprise
    e = get_enterprise(env.db, env.me, wanted) if wanted else None
    context = {
        "finding": f, "enterprise": e, "due_on": default_due_date().isoformat(), "error": error,
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
) -> Response:
    me = env.me
    env.require(me.role in REGULATOR_ROLES, "only a supervisor opens a rectification")
    try:
        due = date.fromisoformat(due_on) if due_on else default_due_date()
        if finding.isdigit():
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
        env.db.rollback()
        fid = int(finding) if finding.isdigit() else None
        eid = int(enterprise) if enterprise.isdigit() else None
        response = new_rectification(env, fid, eid, error=exc.reason)
        response.status_code = 422
        return response
    return done(env, f"/supervision/items/{item.id}?done=create")


@router.get("/supervision/notices")
def notices_page(env: SignedIn) -> Response:
    me = env.me
    rows = notices.inbox(env.db, me.subject)
    table = Table("notices", [
        Col("at", "col.at", "time"),
        Col("event", "sv.col.event", "badge", badge_prefix="sv.event."),
        Col("item", "sv.col.item", link="href"), Col("read", "sv.col.read"),
    ], [{"at": n.at, "event": n.event, "item": f"#{n.item_id}",
         "href": f"/supervision/items/{n.item_id}", "read": "" if n.read_at is None else "✓"}
        for n in rows], empty="sv.no_notices")  # fmt: skip
    context = {"prefs": notices.preferences(env.db, me.subject), "done":
               env.request.query_params.get("done"),
               "crumbs": [(env.t("nav.supervision"), "/supervision"),
                          (env.t("sv.notices"), None)]}  # fmt: skip
    return env.render("supervision_notices.html", context, [table])


@router.post("/supervision/notices")
async def notices_save(env: SignedIn) -> Response:
    form = await env.request.form()
    me = env.me
    if form.get("mark_read"):
        notices.mark_read(env.db, me.subject)
    else:
        chosen = {str(k)[4:] for k in form if str(k).startswith("pref")}
        notices.set_preferences(env.db, me.subject, {e: e in chosen for e in notices.EVENTS})
    return done(env, "/supervision/notices?done=saved")


def _enterprise_items(req: SectionRequest) -> dict[str, Any] | None:
    env = req.env
    f = svc.ItemFilter(enterprise_id=req.subject.id)
    rows, total = svc.list_items(env.db, env.me, f, 0, 20)
    table = Table("supervision", ITEM_COLS, item_rows(env, rows), wide=True, empty="sv.empty")
    return {"tables": [table]}


add_section(Section("enterprise", "supervision", "sv.section", "sections/_tables.html",
                    _enterprise_items, 45))  # fmt: skip
