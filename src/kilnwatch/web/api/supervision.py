"""Supervision API: the items of every workflow (rectification, special supervision,
penalties, complaints), their transitions, comments, acknowledgement, assignment, evidence and
history, and each user's notices and notification preferences (docs/supervision.md).

Scoping and permissions are decided in ``kilnwatch.supervise.access``; handlers parse and shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kilnwatch.errors import PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import SupervisionEvidence, SupervisionItem
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.supervise import items as svc
from kilnwatch.supervise import notices
from kilnwatch.supervise.access import REGULATOR_ROLES, department_of
from kilnwatch.supervise.rectification import open_rectification, rectify_finding
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/supervision", tags=["supervision"])

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
Kind = Annotated[str | None, Query(pattern="^(rectification|special|penalty|complaint)$")]


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    title: str
    body: str
    response: str
    enterprise_id: int | None
    region_code: str
    department: str
    source_code: str
    source_ref: str | None
    parent_id: int | None
    due_on: date | None
    overdue: bool = False
    assignee: str
    escalation_level: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    team: list[str]
    channel: str | None
    legal_basis: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str
    to_status: str
    actor: str
    comment: str
    detail: dict[str, Any]
    at: datetime


class EvidencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    note: str
    uploaded_by: str
    at: datetime


class ItemDetail(ItemPublic):
    complainant: str | None = None
    complainant_contact: str | None = None
    events: list[EventPublic]
    evidence: list[EvidencePublic]


class ItemsPage(BaseModel):
    items: list[ItemPublic]
    total: int
    offset: int
    limit: int


class TransitionIn(BaseModel):
    """An action of the item's workflow with its reason (who and when are recorded)."""

    action: Annotated[str, Field(max_length=16)]
    comment: Annotated[str, Field(min_length=2, max_length=4000)]
    response: Annotated[str | None, Field(max_length=4000)] = None
    due_on: date | None = None
    team: list[str] | None = None


class CommentIn(BaseModel):
    comment: Annotated[str, Field(min_length=2, max_length=4000)]


class AssignIn(CommentIn):
    assignee: Annotated[str, Field(min_length=1, max_length=64)]


class RectificationIn(BaseModel):
    """A rectification opened by hand, or from a source (``source_code`` + ``source_ref``)."""

    enterprise_id: int
    title: Annotated[str, Field(min_length=1, max_length=300)]
    due_on: date
    required_action: Annotated[str, Field(max_length=4000)] = ""
    source_code: str = "manual"
    source_ref: Annotated[str | None, Field(max_length=100)] = None
    assignee: str | None = None


class FromFindingIn(BaseModel):
    finding_id: int
    due_on: date | None = None
    required_action: Annotated[str, Field(max_length=4000)] = ""
    assignee: str | None = None


class NoticePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    event: str
    at: datetime
    read_at: datetime | None


def is_overdue(item: SupervisionItem, today: date) -> bool:
    from kilnwatch.supervise.workflows import pending_states

    return bool(item.due_on and item.due_on < today and item.status in pending_states(item.kind))


def item_public(item: SupervisionItem, today: date | None = None) -> ItemPublic:
    out = ItemPublic.model_validate(item)
    out.overdue = is_overdue(item, today or utcnow().date())
    return out


def require_regulator(principal: Principal) -> None:
    if principal.role not in REGULATOR_ROLES:
        raise PermissionDeniedError(f"a {principal.role.value} user may not open items")


def detail_of(session: Any, principal: Principal, item: SupervisionItem) -> ItemDetail:
    base = item_public(item).model_dump()
    out = ItemDetail(
        **base,
        events=[EventPublic.model_validate(e) for e in svc.events_of(session, item.id)],
        evidence=[EvidencePublic.model_validate(e) for e in svc.evidence_of(session, item.id)],
    )
    owner = principal.sees_everything or (
        principal.role is not Role.ENTERPRISE
        and department_of(session, principal) == item.department
    )
    if owner:  # who complained is known to the department handling it, not to everybody
        out.complainant, out.complainant_contact = item.complainant, item.complainant_contact
    return out


@router.get("/items")
def list_items(
    session: SessionDep,
    principal: PrincipalDep,
    kind: Kind = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    enterprise_id: int | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
    escalated: bool = False,
    pending: bool = False,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ItemsPage:
    """Items the caller may see; ``overdue`` keeps those past their deadline and still pending."""
    today = utcnow().date()
    f = svc.ItemFilter(kind, status, enterprise_id, assignee, None,
                       today if overdue else None, escalated, pending)  # fmt: skip
    rows, total = svc.list_items(session, principal, f, offset, limit)
    return ItemsPage(items=[item_public(r, today) for r in rows], total=total, offset=offset,
                     limit=limit)  # fmt: skip


@router.get("/items/{item_id}")
def get_item(session: SessionDep, principal: PrincipalDep, item_id: int) -> ItemDetail:
    return detail_of(session, principal, svc.get_item(session, principal, item_id))


@router.post("/items/{item_id}/transitions")
def take_action(
    session: SessionDep, principal: PrincipalDep, item_id: int, body: TransitionIn
) -> ItemDetail:
    """Move the item along its workflow; anything the workflow does not document is 422
    ``supervise.transition.not_allowed``, an action of another actor 403."""
    item = svc.transition(session, principal, item_id, body.action, body.comment,
                          response=body.response, due_on=body.due_on, team=body.team)  # fmt: skip
    return detail_of(session, principal, item)


@router.post("/items/{item_id}/comments")
def add_comment(
    session: SessionDep, principal: PrincipalDep, item_id: int, body: CommentIn
) -> EventPublic:
    return EventPublic.model_validate(svc.comment(session, principal, item_id, body.comment))


@router.post("/items/{item_id}/acknowledge")
def acknowledge(session: SessionDep, principal: PrincipalDep, item_id: int) -> ItemPublic:
    return item_public(svc.acknowledge(session, principal, item_id))


@router.post("/items/{item_id}/assign")
def assign(
    session: SessionDep, principal: PrincipalDep, item_id: int, body: AssignIn
) -> ItemPublic:
    return item_public(svc.assign(session, principal, item_id, body.assignee, body.comment))


@router.post("/items/{item_id}/evidence")
async def upload_evidence(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    item_id: int,
    file: Annotated[UploadFile, File()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> EvidencePublic:
    """Attach a photo or document (kept by its SHA-256 under ``var_dir/supervise/evidence``)."""
    data = await file.read(svc.EVIDENCE_MAX_BYTES + 1)
    row = svc.attach_evidence(
        session, principal, item_id, evidence_dir=svc.evidence_dir_of(settings.var_dir),
        filename=file.filename or "", content_type=file.content_type or "", data=data, note=note,
    )  # fmt: skip
    return EvidencePublic.model_validate(row)


@router.get("/evidence/{evidence_id}")
def download_evidence(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, evidence_id: int
) -> Response:
    row, data = svc.evidence_file(session, principal, evidence_id,
                                  svc.evidence_dir_of(settings.var_dir))  # fmt: skip
    return evidence_response(row, data)


def evidence_response(row: SupervisionEvidence, data: bytes) -> Response:
    """An evidence file as a download under its own name (also served by the item page)."""
    return Response(data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff"})  # fmt: skip


@router.post("/rectifications", status_code=201)
def create_rectification(
    session: SessionDep, principal: PrincipalDep, body: RectificationIn
) -> ItemPublic:
    require_regulator(principal)
    get_enterprise(session, principal, body.enterprise_id)  # in scope, or 404
    ref = body.source_ref if body.source_code != "manual" else None
    if body.source_code == "manual":
        ref = f"{principal.subject}:{utcnow().isoformat()}"
    item = open_rectification(
        session, enterprise_id=body.enterprise_id, source_code=body.source_code,
        source_ref=ref or "", title=body.title, due_date=body.due_on,
        required_action=body.required_action, department=department_of(session, principal),
        assignee=body.assignee, actor=principal.subject,
    )  # fmt: skip
    return item_public(item)


@router.post("/rectifications/from-finding", status_code=201)
def create_from_finding(
    session: SessionDep, principal: PrincipalDep, body: FromFindingIn
) -> ItemPublic:
    """Open the rectification of a verification finding (once per finding)."""
    require_regulator(principal)
    item = rectify_finding(
        session, principal, body.finding_id, due_date=body.due_on,
        required_action=body.required_action, assignee=body.assignee,
    )  # fmt: skip
    return item_public(item)


@router.get("/notices")
def my_notices(
    session: SessionDep, principal: PrincipalDep, unread: bool = False
) -> list[NoticePublic]:
    rows = notices.inbox(session, principal.subject, unread_only=unread)
    return [NoticePublic.model_validate(n) for n in rows]


@router.post("/notices/read", status_code=204)
def read_notices(session: SessionDep, principal: PrincipalDep) -> Response:
    notices.mark_read(session, principal.subject)
    return Response(status_code=204)


@router.get("/notice-preferences")
def get_preferences(session: SessionDep, principal: PrincipalDep) -> dict[str, bool]:
    return notices.preferences(session, principal.subject)


@router.put("/notice-preferences")
def put_preferences(
    session: SessionDep, principal: PrincipalDep, body: dict[str, bool]
) -> dict[str, bool]:
    return notices.set_preferences(session, principal.subject, body)
