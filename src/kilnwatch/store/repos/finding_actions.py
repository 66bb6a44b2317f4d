"""Actions on findings (confirm, dismiss, reopen, close, assign) with who, when and why.

Each action adds a :class:`FindingEvent` and, for status actions, sets the finding's status.
The comment is required: an action without a reason is refused. The finding is looked up
through the scoped repository, so nobody acts on a finding outside their jurisdiction.
Flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.identity import Principal
from kilnwatch.store.models import FindingEvent, FindingRecord
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.findings import get_finding

ACTIONS: dict[str, str | None] = {
    "confirm": "confirmed",
    "dismiss": "dismissed",
    "reopen": "open",
    "close": "closed",
    "assign": None,
}
"""Action -> the status it sets (None: status unchanged)."""
STATUS_ACTION = {status: action for action, status in ACTIONS.items() if status}
COMMENT_MIN_CHARS = 2
COMMENT_MAX_CHARS = 2000


def act_on_finding(
    session: Session,
    principal: Principal,
    finding_id: int,
    action: str,
    comment: str,
    assignee: str | None = None,
) -> tuple[FindingRecord, FindingEvent]:
    """Apply ``action`` to a finding the principal may see; record the event."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; one of {sorted(ACTIONS)}", field="action")
    comment = comment.strip()
    if len(comment) < COMMENT_MIN_CHARS:
        raise InputError("a comment is required", field="comment", code="findings.comment")
    if len(comment) > COMMENT_MAX_CHARS:
        raise InputError(f"at most {COMMENT_MAX_CHARS} characters", field="comment")
    if action == "assign" and not (assignee or "").strip():
        raise InputError("name the user to assign", field="assignee")
    record = get_finding(session, principal, finding_id)
    before = record.status
    after = ACTIONS[action] or before
    record.status = after
    event = FindingEvent(
        finding_id=record.id,
        action=action,
        from_status=before,
        to_status=after,
        assignee=(assignee or "").strip() or None,
        comment=comment,
        actor=principal.subject,
        at=utcnow(),
    )
    session.add(event)
    session.flush()
    return record, event


def events_of(session: Session, finding_id: int) -> list[FindingEvent]:
    """The history of one finding, oldest first (caller has checked scope)."""
    stmt = select(FindingEvent).where(FindingEvent.finding_id == finding_id)
    return list(session.scalars(stmt.order_by(FindingEvent.at, FindingEvent.id)))


def assignees_of(session: Session, finding_ids: Sequence[int]) -> dict[int, str]:
    """The current assignee of each finding (its newest ``assign`` event)."""
    if not finding_ids:
        return {}
    newest = (
        select(FindingEvent.finding_id, func.max(FindingEvent.id).label("id"))
        .where(FindingEvent.finding_id.in_(list(finding_ids)), FindingEvent.action == "assign")
        .group_by(FindingEvent.finding_id)
        .subquery()
    )
    stmt = select(FindingEvent.finding_id, FindingEvent.assignee).join(
        newest, FindingEvent.id == newest.c.id
    )
    return {int(f): str(a) for f, a in session.execute(stmt) if a}
