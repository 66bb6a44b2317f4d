"""Supervision API: the items of every workflow (rectification, special supervision,
penalties, complaints), their transitions, comments, acknowledgement, assignment, evidence and
history, and each user's notices and notification preferences (docs/supervision.md).

Scoping and permissions are decided in ``kilnwatch.supervise.access``; handlers parse and shape.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kilnwatch.domain.periods import parse_period
from kilnwatch.errors import PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import SupervisionEvidence, SupervisionItem
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.supervise import items as svc
from kilnwatch.supervise import mailer, notices
from kilnwatch.supervise.access import REGULATOR_ROLES, department_of
from kilnwatch.supervise.complaints import Complaint, receive_complaint
from kilnwatch.supervise.penalties import (
    Deduction,
    balances,
    deductions_of,
    propose_penalty,
    set_allocation,
)
from kilnwatch.supervise.rectification import open_for, open_rectification, rectify_finding
from kilnwatch.supervise.rounds import (
    all_rounds,
    checks_of,
    default_options,
    get_round,
    get_visit,
    plan_and_store,
    record_checks,
    round_period,
    visit_rows,
)
from kilnwatch.supervise.special import open_special
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.schemas.common import PageParams, PublicModel

router = APIRouter(prefix="/supervision", tags=["supervision"])

Kind = Annotated[str | None, Query(pattern="^(rectification|special|penalty|complaint)$")]


class ItemPublic(PublicModel):
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


class EventPublic(PublicModel):
    action: str
    from_status: str
    to_status: str
    actor: str
    comment: str
    detail: dict[str, Any]
    at: datetime


class EvidencePublic(PublicModel):
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


class NoticePublic(PublicModel):
    id: int
    item_id: int
    event: str
    at: datetime
    read_at: datetime | None


def item_public(item: SupervisionItem, today: date | None = None) -> ItemPublic:
    out = ItemPublic.model_validate(item)
    out.overdue = svc.is_overdue(item, today or utcnow().date())
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
    page: PageParams,
    kind: Kind = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    enterprise_id: int | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
    escalated: bool = False,
    pending: bool = False,
) -> ItemsPage:
    """Items the caller may see; ``overdue`` keeps those past their deadline and still pending."""
    today = utcnow().date()
    f = svc.ItemFilter(kind, status, enterprise_id, assignee, None,
                       today if overdue else None, escalated, pending)  # fmt: skip
    rows, total = svc.list_items(session, principal, f, page.offset, page.limit)
    items = [item_public(r, today) for r in rows]
    return ItemsPage(items=items, total=total, offset=page.offset, limit=page.limit)


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


class ContactIn(BaseModel):
    """The caller's e-mail address for notices (empty: none) and whether to use it."""

    email: Annotated[str, Field(max_length=254)] = ""
    by_email: bool = True


@router.get("/notice-contact")
def get_contact(session: SessionDep, principal: PrincipalDep) -> ContactIn:
    row = mailer.contact_of(session, principal.subject)
    return ContactIn(email=row.email, by_email=row.by_email) if row else ContactIn(by_email=False)


@router.put("/notice-contact")
def put_contact(session: SessionDep, principal: PrincipalDep, body: ContactIn) -> ContactIn:
    """Notices by e-mail as well as in the inbox (sent by ``kilnwatch supervise send-mail``)."""
    row = mailer.set_contact(session, principal.subject, body.email, body.by_email)
    return ContactIn(email=row.email, by_email=row.by_email)


class SpecialIn(BaseModel):
    """A special supervision from its source (``sources.csv``) and reference."""

    source_code: Annotated[str, Field(max_length=40)]
    source_ref: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    scope: Annotated[str, Field(max_length=4000)] = ""
    due_on: date | None = None
    enterprise_id: int | None = None
    region_code: Annotated[str | None, Field(max_length=6)] = None


class PenaltyIn(BaseModel):
    """A proposed deduction of ``amount`` of ``quota`` (output t, energy tce, coal t) from the
    enterprise and ``city_amount`` (default the same) from its city, for ``period``."""

    enterprise_id: int
    quota: Annotated[str, Field(pattern="^(output|energy|coal)$")]
    amount: Annotated[float, Field(gt=0)]
    city_amount: Annotated[float | None, Field(gt=0)] = None
    period: Annotated[str, Field(min_length=4, max_length=32)]
    legal_basis: Annotated[str, Field(min_length=2, max_length=300)]
    grounds: Annotated[str, Field(max_length=4000)] = ""
    source_item_id: int | None = None
    finding_id: int | None = None


class FollowUpIn(BaseModel):
    """A rectification required by an item (a special supervision's outcome, a complaint)."""

    title: Annotated[str, Field(min_length=1, max_length=300)]
    due_on: date
    required_action: Annotated[str, Field(max_length=4000)] = ""


class ComplaintIn(BaseModel):
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(min_length=2, max_length=4000)]
    channel: Annotated[str, Field(pattern="^(web|import|phone|letter|email|visit)$")] = "phone"
    region_code: Annotated[str | None, Field(max_length=6)] = None
    enterprise_uscc: Annotated[str | None, Field(max_length=18)] = None
    complainant: Annotated[str | None, Field(max_length=100)] = None
    contact: Annotated[str | None, Field(max_length=100)] = None


class DeductionPublic(PublicModel):
    enterprise_id: int | None
    region_code: str
    period: str
    quota: str
    amount: float
    unit: str


class AllocationIn(BaseModel):
    region_code: Annotated[str, Field(min_length=6, max_length=6)]
    enterprise_uscc: Annotated[str | None, Field(max_length=18)] = None
    period: Annotated[str, Field(min_length=4, max_length=32)]
    quota: Annotated[str, Field(pattern="^(output|energy|coal)$")]
    amount: Annotated[float, Field(ge=0)]
    source: Annotated[str, Field(max_length=300)] = ""


class BalancePublic(BaseModel):
    region_code: str
    enterprise_id: int | None
    enterprise_uscc: str | None
    period: str
    quota: str
    unit: str
    allocated: float | None
    deducted: float
    balance: float | None


@router.post("/special", status_code=201)
def create_special(session: SessionDep, principal: PrincipalDep, body: SpecialIn) -> ItemPublic:
    """Open a special supervision from a finding, a complaint, a rectification, an inspection
    visit, a monitoring alert, a meter-operation or retrofit problem (once per source)."""
    item = open_special(
        session, principal, source_code=body.source_code, source_ref=body.source_ref,
        title=body.title, scope=body.scope, due_on=body.due_on, enterprise_id=body.enterprise_id,
        region_code=body.region_code,
    )  # fmt: skip
    return item_public(item)


@router.post("/penalties", status_code=201)
def create_penalty(session: SessionDep, principal: PrincipalDep, body: PenaltyIn) -> ItemPublic:
    """Propose a penalty with its legal basis and the problem it comes from; its deductions
    count once it is decided (``POST /items/{id}/transitions {"action": "decide"}``)."""
    item = propose_penalty(
        session, principal, enterprise_id=body.enterprise_id,
        deduction=Deduction(body.quota, body.amount, body.period, body.city_amount),
        legal_basis=body.legal_basis, grounds=body.grounds,
        source_item_id=body.source_item_id, finding_id=body.finding_id,
    )  # fmt: skip
    return item_public(item)


@router.get("/items/{item_id}/deductions")
def item_deductions(
    session: SessionDep, principal: PrincipalDep, item_id: int
) -> list[DeductionPublic]:
    item = svc.get_item(session, principal, item_id)
    return [DeductionPublic.model_validate(d) for d in deductions_of(session, item.id)]


@router.post("/items/{item_id}/rectifications", status_code=201)
def create_follow_up(
    session: SessionDep, principal: PrincipalDep, item_id: int, body: FollowUpIn
) -> ItemPublic:
    require_regulator(principal)
    item = open_for(session, principal, item_id, title=body.title, due_date=body.due_on,
                    required_action=body.required_action)  # fmt: skip
    return item_public(item)


@router.post("/complaints", status_code=201)
def create_complaint(session: SessionDep, principal: PrincipalDep, body: ComplaintIn) -> ItemPublic:
    """Record a complaint received by phone, letter, e-mail or visit (the public web form is
    ``/complaints/new``; files: ``kilnwatch supervise import-complaints``)."""
    require_regulator(principal)
    item = receive_complaint(session, Complaint(
        subject=body.subject, body=body.body, channel=body.channel, region_code=body.region_code,
        enterprise_uscc=body.enterprise_uscc, complainant=body.complainant, contact=body.contact,
    ), actor=principal.subject)  # fmt: skip
    return item_public(item)


@router.get("/quotas")
def quota_balances(
    session: SessionDep,
    principal: PrincipalDep,
    period: Annotated[str, Query(min_length=4, max_length=32)],
) -> list[BalancePublic]:
    """Allocation, decided deductions and balance of each city and enterprise in scope."""
    return [BalancePublic(**{**b.__dict__, "balance": b.balance})
            for b in balances(session, principal, period)]  # fmt: skip


@router.put("/quotas")
def put_allocation(
    session: SessionDep, principal: PrincipalDep, body: AllocationIn
) -> BalancePublic:
    set_allocation(
        session, principal, region_code=body.region_code, enterprise_uscc=body.enterprise_uscc,
        period=body.period, quota=body.quota, amount=body.amount, source=body.source,
    )  # fmt: skip
    uscc = (body.enterprise_uscc or "").upper() or None
    wanted = next(
        b for b in balances(session, principal, body.period)
        if (b.region_code, b.quota, b.enterprise_uscc) == (body.region_code, body.quota, uscc)
    )  # fmt: skip
    return BalancePublic(**{**wanted.__dict__, "balance": wanted.balance})


class RoundIn(BaseModel):
    """Plan a joint inspection round: ``round`` is a half-year (``2025H1``)."""

    round: Annotated[str, Field(pattern=r"^\d{4}-?H[12]$")]
    groups: Annotated[int | None, Field(ge=1, le=50)] = None
    tolerance_fraction: Annotated[float | None, Field(gt=0, lt=1)] = None
    homes: list[str] | None = None
    replace: bool = False


class RoundPublic(PublicModel):
    code: str
    window_start: date
    window_end: date
    groups: int
    tolerance_fraction: float
    department: str
    status: str
    excluded: list[dict[str, Any]]
    created_by: str
    created_at: datetime


class VisitRow(BaseModel):
    visit_id: int
    group: int
    group_home_city: str
    enterprise_id: int
    enterprise_uscc: str
    enterprise_name: str
    enterprise_city: str
    planned_on: date
    load: float
    status: str


class CheckIn(BaseModel):
    item: Annotated[str, Field(max_length=16)]
    checked_value: float | None = None
    ok: bool = True
    note: Annotated[str, Field(max_length=500)] = ""


class ChecksIn(BaseModel):
    """The inspector's figures of some checklist items; the platform's figures for the round's
    half-year are added by the server."""

    checks: list[CheckIn]
    summary: Annotated[str, Field(max_length=4000)] = ""


class CheckPublic(PublicModel):
    item: str
    unit: str
    platform_value: float | None
    checked_value: float | None
    deviation_fraction: float | None
    ok: bool
    note: str


@router.post("/rounds", status_code=201)
def create_round(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, body: RoundIn
) -> RoundPublic:
    """Plan and keep a round (province or admin); one visit per enterprise, no group in its home
    city, loads within the tolerance (422 naming what cannot be kept)."""
    period = parse_period(body.round, settings.zone, field="round")
    options = default_options(period.label, period, body.groups)
    options = replace(
        options, replace=body.replace, homes=tuple(body.homes or ()),
        tolerance_fraction=body.tolerance_fraction or options.tolerance_fraction,
    )  # fmt: skip
    round_row, _ = plan_and_store(session, principal, options)
    return RoundPublic.model_validate(round_row)


@router.get("/rounds")
def list_rounds(session: SessionDep, principal: PrincipalDep) -> list[RoundPublic]:
    """Every round (the plan is shared; its visits are scoped)."""
    del principal
    return [RoundPublic.model_validate(r) for r in all_rounds(session)]


@router.get("/rounds/{code}/visits")
def round_visits(session: SessionDep, principal: PrincipalDep, code: str) -> list[VisitRow]:
    """The visits of a round to enterprises the caller may see."""
    rows = visit_rows(session, principal, get_round(session, code).id)
    return [VisitRow.model_validate(r) for r in rows]


@router.get("/visits/{visit_id}/checks")
def visit_checks(session: SessionDep, principal: PrincipalDep, visit_id: int) -> list[CheckPublic]:
    visit = get_visit(session, principal, visit_id)
    return [CheckPublic.model_validate(c) for c in checks_of(session, visit.id)]


@router.post("/visits/{visit_id}/checks")
def record_visit_checks(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    visit_id: int,
    body: ChecksIn,
) -> list[CheckPublic]:
    """Record checklist items (each by its department), next to the platform's own figures."""
    visit = get_visit(session, principal, visit_id)
    period = round_period(session, visit.round_id, settings.zone)
    rows = record_checks(
        session, principal, visit.id,
        {c.item: (c.checked_value, c.ok, c.note) for c in body.checks}, period, body.summary,
    )  # fmt: skip
    return [CheckPublic.model_validate(c) for c in rows]
