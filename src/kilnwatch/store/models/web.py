"""What the web application keeps: signed-in sessions and the history of actions on findings.

A session row is keyed by the SHA-256 of the random value in the browser's cookie, so a copy
of the table cannot be replayed as cookies. A finding event records each status change or
assignment with who did it, when and why (the comment is required): the status history of a
finding is its events in order, and the finding row keeps only the current status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow
from kilnwatch.store.models.ingest import Rollup

COARSE_GRAINS = text("grain IN ('day', 'month')")
ROLLUPS_BY_PERIOD = Index(
    "ix_rollups_coarse_period",
    Rollup.grain,
    Rollup.period_start,
    postgresql_where=COARSE_GRAINS,
    sqlite_where=COARSE_GRAINS,
)
"""Pages aggregate day and month rollups of many meters over a period (a province's month);
the primary key (meter, grain, period) serves one meter's series but not that. Partial: the
hour rows, which ingestion rewrites most, are not indexed (migration 0011)."""


class WebSession(Base):
    """A signed-in browser session (server-side; the cookie holds only a random key)."""

    __tablename__ = "web_sessions"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FindingEvent(Base):
    """One action on a finding: confirm, dismiss, reopen, close or assign, with a comment."""

    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    assignee: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
