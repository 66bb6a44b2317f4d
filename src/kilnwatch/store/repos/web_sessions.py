"""Signed-in browser sessions: open, look up (with the user), touch, close. Flush, never commit.

The browser holds a random key; the table holds its SHA-256, the user, the language and the
expiry. A session past ``expires_at`` or of a disabled user is not found.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kilnwatch.store.models import User, WebSession
from kilnwatch.store.models.base import utcnow

KEY_BYTES = 32


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(session: Session, user: User, locale: str, ttl_s: int) -> str:
    """Store a new session for ``user``; returns the key to put in the cookie."""
    key = secrets.token_urlsafe(KEY_BYTES)
    now = utcnow()
    session.add(
        WebSession(
            key_hash=key_hash(key),
            user_id=user.id,
            locale=locale,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            last_seen_at=now,
        )
    )
    session.flush()
    return key


def find_session(
    session: Session, key: str, now: datetime | None = None
) -> tuple[WebSession, User] | None:
    """The live session for ``key`` and its active user, or None."""
    now = now or utcnow()
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.key_hash == key_hash(key), WebSession.expires_at > now, User.active)
    ).first()
    return None if row is None else (row[0], row[1])


def set_locale(session: Session, key: str, locale: str) -> None:
    row = session.get(WebSession, key_hash(key))
    if row is not None:
        row.locale = locale
        session.flush()


def close_session(session: Session, key: str) -> None:
    session.execute(delete(WebSession).where(WebSession.key_hash == key_hash(key)))


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete expired sessions; returns how many."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
