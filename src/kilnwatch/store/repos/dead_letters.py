"""Dead letters: rejected values kept with their reason code, listed within jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.store.models import DeadLetter
from kilnwatch.store.repos.registry import Page, paginate
from kilnwatch.store.repos.scope import owned_by_visible_enterprise

MESSAGE_MAX = 500
REF_MAX = 300


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    """One rejected value to keep. ``payload`` is the received row as JSON text."""

    source: int
    source_ref: str
    reason: str
    message: str
    payload: str
    received_at: datetime
    gateway_id: int | None = None
    enterprise_id: int | None = None
    batch_id: int | None = None
    row_no: int | None = None


def add_dead_letters(session: Session, rows: Sequence[DeadLetterRow]) -> None:
    """Insert rejected values (no commit)."""
    if not rows:
        return
    values = [
        {
            "source": r.source,
            "source_ref": r.source_ref[:REF_MAX],
            "reason": r.reason,
            "message": r.message[:MESSAGE_MAX],
            "payload": r.payload,
            "received_at": r.received_at,
            "gateway_id": r.gateway_id,
            "enterprise_id": r.enterprise_id,
            "batch_id": r.batch_id,
            "row_no": r.row_no,
        }
        for r in rows
    ]
    session.execute(insert(DeadLetter), values)


@dataclass(frozen=True)
class DeadLetterFilter:
    reason: str | None = None
    source: int | None = None
    since: datetime | None = None
    batch_id: int | None = None


def list_dead_letters(
    session: Session, principal: Principal, f: DeadLetterFilter, offset: int, limit: int
) -> Page[DeadLetter]:
    """Newest first. Rows without an enterprise (unknown sender) are visible to admins only."""
    stmt = select(DeadLetter)
    if not principal.sees_everything:
        stmt = stmt.where(
            DeadLetter.enterprise_id.is_not(None),
            owned_by_visible_enterprise(DeadLetter.enterprise_id, principal),  # type: ignore[arg-type]
        )
    if f.reason is not None:
        stmt = stmt.where(DeadLetter.reason == f.reason)
    if f.source is not None:
        stmt = stmt.where(DeadLetter.source == f.source)
    if f.since is not None:
        stmt = stmt.where(DeadLetter.received_at >= f.since)
    if f.batch_id is not None:
        stmt = stmt.where(DeadLetter.batch_id == f.batch_id)
    return paginate(session, stmt.order_by(DeadLetter.id.desc()), offset, limit)
