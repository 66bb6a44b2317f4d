"""Supervision by e-mail: each user may give an address and receive their notices there as
well as in the inbox, and a complaint's reply goes back to the complainant when the contact
they left is an e-mail address (issue 15).

Mail is queued in ``supervision_outbox`` in the same transaction as the event it reports and
sent by :func:`send_pending` (``kilnwatch supervise send-mail``, run every few minutes like the
report schedules): an SMTP refusal leaves the row queued with its error for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.mail import MailError, deliver, new_message
from kilnwatch.store.models import NoticeContact, OutboxMail, SupervisionItem
from kilnwatch.store.models.base import utcnow

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
"""A plausible address (local part, @, a dotted domain): enough to tell an e-mail contact from
a telephone number; delivery is the proof."""


def is_email(text: str | None) -> bool:
    return bool(text) and EMAIL.match((text or "").strip()) is not None


def contact_of(session: Session, username: str) -> NoticeContact | None:
    return session.get(NoticeContact, username)


def set_contact(session: Session, username: str, email: str, by_email: bool) -> NoticeContact:
    """Record a user's address for notices (empty: remove it)."""
    email = email.strip()
    row = session.get(NoticeContact, username)
    if not email:
        if row is not None:
            session.delete(row)
            session.flush()
        return NoticeContact(username=username, email="", by_email=False)
    if not is_email(email):
        raise InputError(f"{email!r} is not an e-mail address", field="email")
    if row is None:
        row = NoticeContact(username=username, email=email, by_email=by_email)
        session.add(row)
    row.email, row.by_email, row.updated_at = email, by_email, utcnow()
    session.flush()
    return row


def _item_line(item: SupervisionItem) -> str:
    return f"#{item.id} {item.title}"


def queue_notices(
    session: Session, usernames: Iterable[str], item: SupervisionItem, event: str
) -> int:
    """Queue an e-mail of the notice for each of ``usernames`` who asked for notices by e-mail."""
    wanted = sorted(set(usernames))
    if not wanted:
        return 0
    contacts = session.scalars(
        select(NoticeContact).where(NoticeContact.username.in_(wanted), NoticeContact.by_email)
    ).all()
    for c in contacts:
        session.add(OutboxMail(
            item_id=item.id, kind="notice", to_address=c.email, attempts=0,
            subject=f"[kilnwatch] {event}: {_item_line(item)}"[:300],
            body=f"督查整改事项 / supervision item {_item_line(item)}\n事件 / event: {event}\n"
                 f"状态 / status: {item.status}\n期限 / due: {item.due_on or '-'}\n"
                 f"/supervision/items/{item.id}\n",
        ))  # fmt: skip
    session.flush()
    return len(contacts)


def queue_reply(session: Session, item: SupervisionItem) -> OutboxMail | None:
    """Queue the reply of a complaint to its complainant when the contact is an e-mail
    address; None otherwise (the reply is then given by the channel the complaint came by)."""
    if item.kind != "complaint" or not is_email(item.complainant_contact):
        return None
    row = OutboxMail(
        item_id=item.id, kind="reply", to_address=(item.complainant_contact or "").strip(),
        subject=f"关于您的举报的答复 / Reply to your complaint #{item.id}", attempts=0,
        body=f"{item.complainant or ''}：\n\n您反映的问题（{item.title}）答复如下：\n\n"
             f"{item.response}\n\n-- \nReply to your complaint #{item.id}: see above.\n",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0


def send_pending(session: Session, settings: Settings, limit: int = 500) -> SendReport:
    """Send the queued mail through SMTP; a refusal keeps the row queued with its error."""
    if not settings.smtp_configured:
        raise InputError("no SMTP server configured (KILNWATCH_SMTP_HOST)", field="smtp_host")
    report = SendReport()
    rows = session.scalars(
        select(OutboxMail).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.id).limit(limit)
    ).all()
    for row in rows:
        row.attempts += 1
        try:
            deliver(settings, new_message(settings, row.to_address, row.subject, row.body))
        except MailError as exc:
            row.last_error = exc.message
            report.failed += 1
            continue
        row.sent_at, row.last_error = utcnow(), None
        report.sent += 1
    session.flush()
    return report


def deliveries(session: Session, item_id: int) -> list[OutboxMail]:
    """The mail queued for an item, oldest first."""
    stmt = select(OutboxMail).where(OutboxMail.item_id == item_id).order_by(OutboxMail.id)
    return list(session.scalars(stmt))


__all__ = [
    "SendReport",
    "contact_of",
    "deliveries",
    "is_email",
    "queue_notices",
    "queue_reply",
    "send_pending",
    "set_contact",
]
