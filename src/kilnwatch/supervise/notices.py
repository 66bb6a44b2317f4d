"""Notifications: each user's inbox of item events, kept only for the events the user has not
switched off (:class:`~kilnwatch.store.models.NoticePreference`; default: everything on)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.identity import Role
from kilnwatch.store.models import NoticePreference, SupervisionItem, SupervisionNotice, User
from kilnwatch.store.models.base import utcnow
from kilnwatch.supervise.mailer import queue_notices

EVENTS = (
    "assigned", "opened", "comment", "overdue", "escalated", "de_escalated",
    "respond", "accept", "reject", "escalate", "withdraw", "start", "conclude", "decide",
    "revoke", "triage", "investigate", "reply", "close",
)  # fmt: skip
"""Events a user may choose to hear about (item transitions among them)."""


def enterprise_users(session: Session, enterprise_id: int) -> list[str]:
    stmt = select(User.username).where(
        User.enterprise_id == enterprise_id, User.role == Role.ENTERPRISE.value, User.active
    )
    return list(session.scalars(stmt))


def notify(
    session: Session,
    usernames: Iterable[str],
    item: SupervisionItem,
    event: str,
    skip: str | None = None,
) -> int:
    """Add a notice for each user who wants ``event`` (not the one who caused it)."""
    wanted = sorted({u for u in usernames if u and u != skip})
    if not wanted:
        return 0
    off = set(
        session.scalars(
            select(NoticePreference.username).where(
                NoticePreference.username.in_(wanted),
                NoticePreference.event == event,
                NoticePreference.enabled.is_(False),
            )
        )
    )
    now = utcnow()
    rows = [SupervisionNotice(username=u, item_id=item.id, event=event, at=now)
            for u in wanted if u not in off]  # fmt: skip
    session.add_all(rows)
    session.flush()
    queue_notices(session, [r.username for r in rows], item, event)
    return len(rows)


def inbox(
    session: Session, username: str, unread_only: bool = False, limit: int = 100
) -> list[SupervisionNotice]:
    stmt = select(SupervisionNotice).where(SupervisionNotice.username == username)
    if unread_only:
        stmt = stmt.where(SupervisionNotice.read_at.is_(None))
    return list(session.scalars(stmt.order_by(SupervisionNotice.id.desc()).limit(limit)))


def mark_read(session: Session, username: str) -> None:
    session.execute(
        update(SupervisionNotice)
        .where(SupervisionNotice.username == username, SupervisionNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )


def preferences(session: Session, username: str) -> dict[str, bool]:
    stored = {
        p.event: p.enabled
        for p in session.scalars(
            select(NoticePreference).where(NoticePreference.username == username)
        )
    }
    return {e: stored.get(e, True) for e in EVENTS}


def set_preferences(session: Session, username: str, enabled: dict[str, bool]) -> dict[str, bool]:
    for event, on in enabled.items():
        if event not in EVENTS:
            raise InputError(f"unknown event {event!r}; one of {list(EVENTS)}", field="event")
        row = session.get(NoticePreference, (username, event))
        if row is None:
            session.add(NoticePreference(username=username, event=event, enabled=on))
        else:
            row.enabled = on
    session.flush()
    return preferences(session, username)
