"""Supervision items: create, find (scoped), move through their workflow, and the notes every
item takes (comment, acknowledge, assign, evidence). Every change is a
:class:`~kilnwatch.store.models.SupervisionEvent` with who, when and why. Flushes, never
commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import (
    Enterprise,
    Region,
    SupervisionEvent,
    SupervisionEvidence,
    SupervisionItem,
    User,
)
from kilnwatch.store.models.base import utcnow
from kilnwatch.supervise import notices
from kilnwatch.supervise.access import (
    acts_for_department,
    department_of,
    is_enterprise_of,
    item_scope,
    sees,
    writes_on,
)
from kilnwatch.supervise.catalogue import check_department, check_source, lead_department
from kilnwatch.supervise.mailer import queue_reply
from kilnwatch.supervise.workflows import (
    INITIAL,
    KINDS,
    deadline_states,
    pending_states,
    transition_for,
)

COMMENT_MIN_CHARS = 2
TEXT_MAX_CHARS = 4000
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
"""Largest evidence file accepted (a phone photo or a scanned document)."""


@dataclass(frozen=True)
class NewItem:
    """What every item needs at creation."""

    kind: str
    title: str
    source_code: str
    region_code: str
    body: str = ""
    enterprise_id: int | None = None
    source_ref: str | None = None
    department: str | None = None
    due_on: date | None = None
    assignee: str | None = None
    parent_id: int | None = None


def _reason(comment: str, field: str = "comment") -> str:
    comment = comment.strip()
    if len(comment) < COMMENT_MIN_CHARS:
        raise InputError("a reason is required", field=field, code="supervise.reason_required")
    if len(comment) > TEXT_MAX_CHARS:
        raise InputError(f"at most {TEXT_MAX_CHARS} characters", field=field)
    return comment


def city_of(region_code: str) -> str:
    return region_code[:4] + "00"


def default_assignee(session: Session, region_code: str, fallback: str) -> str:
    """The supervisor who gets an item nobody was named for: a user of the item's county, else
    of its city, else of its province; ``fallback`` (the creator) when there is none."""
    for code in (region_code, city_of(region_code), region_code[:2] + "0000"):
        found = session.scalar(
            select(User.username)
            .where(User.region_code == code, User.active, User.role != Role.AUDITOR.value)
            .order_by(User.username)
            .limit(1)
        )
        if found:
            return found
    return fallback


def _check_assignee(session: Session, username: str) -> str:
    username = username.strip()
    if not session.scalar(select(User.id).where(User.username == username, User.active)):
        raise InputError(f"unknown user {username!r}", field="assignee")
    return username


def existing(session: Session, kind: str, source_code: str, source_ref: str | None) -> Any:
    if source_ref is None:
        return None
    return session.scalar(
        select(SupervisionItem).where(
            SupervisionItem.kind == kind,
            SupervisionItem.source_code == source_code,
            SupervisionItem.source_ref == source_ref,
        )
    )


def create_item(
    session: Session, new: NewItem, *, actor: str, **extra: Any
) -> tuple[SupervisionItem, bool]:
    """Create an item in its initial state, or return the one already recorded for the same
    ``(kind, source_code, source_ref)``; the flag says whether it is new."""
    if new.kind not in KINDS:
        raise InputError(f"unknown kind {new.kind!r}; one of {list(KINDS)}", field="kind")
    check_source(new.source_code)
    found = existing(session, new.kind, new.source_code, new.source_ref)
    if found is not None:
        return found, False
    title = new.title.strip()
    if not title:
        raise InputError("a title is required", field="title")
    if len(title) > 300:
        raise InputError("at most 300 characters", field="title")
    if session.get(Region, new.region_code) is None:
        raise InputError(f"unknown region {new.region_code}", field="region_code")
    department = check_department(new.department or lead_department())
    assignee = (
        _check_assignee(session, new.assignee)
        if new.assignee
        else default_assignee(session, new.region_code, actor)
    )
    item = SupervisionItem(
        kind=new.kind, status=INITIAL[new.kind], title=title, body=new.body.strip(),
        response="", enterprise_id=new.enterprise_id, region_code=new.region_code,
        department=department, source_code=new.source_code, source_ref=new.source_ref,
        parent_id=new.parent_id, due_on=new.due_on, assignee=assignee, escalation_level=0,
        team=[], created_by=actor, created_at=utcnow(), updated_at=utcnow(), **extra,
    )  # fmt: skip
    session.add(item)
    session.flush()
    _event(session, item, "create", item.status, actor, "", {"assignee": assignee})
    notices.notify(session, [assignee], item, "assigned")
    if item.enterprise_id is not None and item.kind != "complaint":
        notices.notify(session, notices.enterprise_users(session, item.enterprise_id), item,
                       "opened")  # fmt: skip
    return item, True


def enterprise_region(session: Session, enterprise_id: int) -> str:
    region = session.scalar(select(Enterprise.region_code).where(Enterprise.id == enterprise_id))
    if region is None:
        raise InputError(f"unknown enterprise {enterprise_id}", field="enterprise_id")
    return region


def _event(
    session: Session,
    item: SupervisionItem,
    action: str,
    before: str,
    actor: str,
    comment: str,
    detail: dict[str, Any] | None = None,
) -> SupervisionEvent:
    event = SupervisionEvent(
        item_id=item.id, action=action, from_status=before, to_status=item.status, actor=actor,
        comment=comment, detail=detail or {}, at=utcnow(),
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def get_item(session: Session, principal: Principal, item_id: int) -> SupervisionItem:
    item = session.get(SupervisionItem, item_id)
    if item is None or not sees(principal, item):
        raise NotFoundError(f"supervision item {item_id} not found")
    return item


@dataclass(frozen=True)
class ItemFilter:
    kind: str | None = None
    status: str | None = None
    enterprise_id: int | None = None
    assignee: str | None = None
    department: str | None = None
    overdue_on: date | None = None
    """Only items past their deadline on this day and still pending."""
    escalated: bool = False
    open_only: bool = False


def is_overdue(item: SupervisionItem, today: date) -> bool:
    """Past its deadline in a state where the deadline runs (:data:`DEADLINE_STATES`)."""
    return bool(item.due_on and item.due_on < today and item.status in deadline_states(item.kind))


def overdue_condition(today: date) -> Any:
    return or_(
        *[
            (SupervisionItem.kind == kind)
            & SupervisionItem.status.in_(sorted(deadline_states(kind)))
            & (SupervisionItem.due_on < today)
            for kind in KINDS
        ]
    )


def items_query(principal: Principal, f: ItemFilter) -> Select[Any]:
    stmt = select(SupervisionItem).where(item_scope(principal))
    if f.kind:
        stmt = stmt.where(SupervisionItem.kind == f.kind)
    if f.status:
        stmt = stmt.where(SupervisionItem.status == f.status)
    if f.enterprise_id:
        stmt = stmt.where(SupervisionItem.enterprise_id == f.enterprise_id)
    if f.assignee:
        stmt = stmt.where(SupervisionItem.assignee == f.assignee)
    if f.department:
        stmt = stmt.where(SupervisionItem.department == f.department)
    if f.overdue_on is not None:
        stmt = stmt.where(overdue_condition(f.overdue_on))
    if f.escalated:
        stmt = stmt.where(SupervisionItem.escalation_level > 0)
    if f.open_only:
        stmt = stmt.where(
            or_(
                *[
                    (SupervisionItem.kind == k)
                    & SupervisionItem.status.in_(sorted(pending_states(k)))
                    for k in KINDS
                ]
            )  # fmt: skip
        )
    return stmt


def list_items(
    session: Session, principal: Principal, f: ItemFilter, offset: int = 0, limit: int = 50
) -> tuple[list[SupervisionItem], int]:
    stmt = items_query(principal, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ordered = stmt.order_by(
        SupervisionItem.due_on.is_(None), SupervisionItem.due_on, SupervisionItem.id
    )
    return list(session.scalars(ordered.offset(offset).limit(limit))), int(total)


def transition(
    session: Session,
    principal: Principal,
    item_id: int,
    action: str,
    comment: str,
    *,
    response: str | None = None,
    due_on: date | None = None,
    team: Sequence[str] | None = None,
) -> SupervisionItem:
    """Take ``action`` on an item if its workflow documents it from the item's state and the
    principal is the actor the transition names; record it. Anything else is refused."""
    item = get_item(session, principal, item_id)
    rule = transition_for(item.kind, item.status, action)
    if rule is None:
        raise InputError(
            f"{item.kind} #{item.id} cannot '{action}' from '{item.status}'",
            field="action", code="supervise.transition.not_allowed",
        )  # fmt: skip
    _check_actor(session, principal, item, rule.actor)
    reason = _reason(comment)
    detail: dict[str, Any] = {}
    if "response" in rule.needs:
        item.response = _reason(response or "", "response")
    if "due_on" in rule.needs:
        if due_on is None or due_on <= utcnow().date():
            raise InputError("a new deadline after today is required", field="due_on")
        detail["due_on"] = due_on.isoformat()
        item.due_on = due_on
    if "team" in rule.needs:
        members = [m.strip() for m in (team or []) if m.strip()]
        if not members:
            raise InputError("name the team's members", field="team")
        item.team = members
        detail["team"] = members
    before = item.status
    item.status = rule.target
    item.updated_at = utcnow()
    if rule.target not in pending_states(item.kind):
        item.closed_at = utcnow()
    if item.escalation_level and item.status not in deadline_states(item.kind):
        detail["escalation_level"] = 0  # met: back to the owner's level
        item.escalation_level = 0
    _event(session, item, action, before, principal.subject, reason, detail)
    recipients = [item.assignee]
    if rule.actor == "regulator" and item.enterprise_id is not None and item.kind != "complaint":
        recipients += notices.enterprise_users(session, item.enterprise_id)
    notices.notify(session, recipients, item, action, skip=principal.subject)
    if item.kind == "complaint" and "response" in rule.needs:
        queue_reply(session, item)  # the reply goes back to the complainant (e-mail contact)
    return item


def _check_actor(session: Session, principal: Principal, item: SupervisionItem, actor: str) -> None:
    if actor == "enterprise":
        if not (is_enterprise_of(principal, item) or principal.sees_everything):
            raise PermissionDeniedError("only the enterprise answers this item")
        return
    if not acts_for_department(principal, department_of(session, principal), item):
        raise PermissionDeniedError(f"only the {item.department} department acts on this item")


def check_writer(session: Session, principal: Principal, item: SupervisionItem) -> None:
    """Refuse a write on the item's record by anybody but its writers (:func:`writes_on`):
    another department of the same jurisdiction reads the item, but does not write on it."""
    if principal.role is Role.AUDITOR:
        raise PermissionDeniedError("an auditor reads only")
    if not writes_on(session, principal, item):
        raise PermissionDeniedError(
            f"only the {item.department} department, the enterprise or the assignee writes on "
            "this item"
        )


def comment(session: Session, principal: Principal, item_id: int, text: str) -> SupervisionEvent:
    item = get_item(session, principal, item_id)
    check_writer(session, principal, item)
    event = _event(session, item, "comment", item.status, principal.subject, _reason(text))
    notices.notify(session, [item.assignee], item, "comment", skip=principal.subject)
    return event


def acknowledge(session: Session, principal: Principal, item_id: int) -> SupervisionItem:
    """The assignee (or the enterprise, for its items) says it has seen the item."""
    item = get_item(session, principal, item_id)
    if principal.subject != item.assignee and not is_enterprise_of(principal, item):
        raise PermissionDeniedError("only the assignee or the enterprise acknowledges")
    if item.acknowledged_at is None or item.acknowledged_by != principal.subject:
        item.acknowledged_by = principal.subject
        item.acknowledged_at = utcnow()
        _event(session, item, "acknowledge", item.status, principal.subject, "")
    return item


def assign(
    session: Session, principal: Principal, item_id: int, assignee: str, text: str
) -> SupervisionItem:
    item = get_item(session, principal, item_id)
    _check_actor(session, principal, item, "regulator")
    reason = _reason(text)
    item.assignee = _check_assignee(session, assignee)
    item.acknowledged_by = None
    item.acknowledged_at = None
    item.updated_at = utcnow()
    _event(session, item, "assign", item.status, principal.subject, reason,
           {"assignee": item.assignee})  # fmt: skip
    notices.notify(session, [item.assignee], item, "assigned", skip=principal.subject)
    return item


def events_of(session: Session, item_id: int) -> list[SupervisionEvent]:
    stmt = select(SupervisionEvent).where(SupervisionEvent.item_id == item_id)
    return list(session.scalars(stmt.order_by(SupervisionEvent.at, SupervisionEvent.id)))


def attach_evidence(
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    evidence_dir: Path,
    filename: str,
    content_type: str,
    data: bytes,
    note: str = "",
) -> SupervisionEvidence:
    """Keep a file for an item under ``evidence_dir/<sha256>`` (content-addressed, so the same
    photo sent twice is stored once) and record it in the item's history."""
    item = get_item(session, principal, item_id)
    check_writer(session, principal, item)
    name = Path(filename or "").name.strip()
    if not name:
        raise InputError("the file needs a name", field="file")
    if not data:
        raise InputError(f"{name} is empty", field="file")
    if len(data) > EVIDENCE_MAX_BYTES:
        raise InputError(f"{name} is larger than {EVIDENCE_MAX_BYTES} bytes", field="file")
    digest = hashlib.sha256(data).hexdigest()
    evidence_dir.mkdir(parents=True, exist_ok=True)
    path = evidence_dir / digest
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    row = SupervisionEvidence(
        item_id=item.id, filename=name[:200], content_type=(content_type or "")[:100]
        or "application/octet-stream", size_bytes=len(data), sha256=digest,
        note=note.strip()[:500], uploaded_by=principal.subject, at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    _event(session, item, "attach", item.status, principal.subject, row.note,
           {"evidence_id": row.id, "filename": row.filename, "sha256": digest})  # fmt: skip
    return row


def evidence_of(session: Session, item_id: int) -> list[SupervisionEvidence]:
    stmt = select(SupervisionEvidence).where(SupervisionEvidence.item_id == item_id)
    return list(session.scalars(stmt.order_by(SupervisionEvidence.id)))


def evidence_file(
    session: Session, principal: Principal, evidence_id: int, evidence_dir: Path
) -> tuple[SupervisionEvidence, bytes]:
    row = session.get(SupervisionEvidence, evidence_id)
    if row is None:
        raise NotFoundError(f"evidence {evidence_id} not found")
    get_item(session, principal, row.item_id)
    return row, (evidence_dir / row.sha256).read_bytes()


def evidence_dir_of(var_dir: Path) -> Path:
    return var_dir / "supervise" / "evidence"
