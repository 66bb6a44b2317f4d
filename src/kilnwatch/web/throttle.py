"""Sign-in throttling for the API token endpoint and the sign-in page (OWASP ASVS 4.0.3
V2.2.1): too many failures for one account, or from one address, within
``Settings.sign_in_window_s`` refuse further attempts with 429 until the window frees.

Failures are stored (``sign_in_failures``) so that every web process counts the same attempts,
and recorded in their own transaction: the request's transaction rolls back with the error.
The password is not even checked while refused, so a guess cannot be confirmed by timing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from fastapi import Request
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.errors import RateLimitedError
from kilnwatch.store.engine import unit_of_work
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.sign_in import failures_since, forget_failures, record_failure


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_if_throttled(db: Session, settings: Settings, username: str, address: str) -> None:
    """Raise :class:`RateLimitedError` (429, ``Retry-After``) when over either limit."""
    now = utcnow()
    window = timedelta(seconds=settings.sign_in_window_s)
    by_user, by_address, oldest = failures_since(db, username, address, now - window)
    if by_user < settings.sign_in_max_failures_per_account and (
        by_address < settings.sign_in_max_failures_per_address
    ):
        return
    retry_s = (
        settings.sign_in_window_s if oldest is None else (oldest + window - now).total_seconds()
    )
    raise RateLimitedError(
        "too many failed sign-ins; try again later", retry_after_s=max(1, math.ceil(retry_s))
    )


def note_failure(request: Request, username: str) -> None:
    """Record a failed sign-in, committed now (the request itself will roll back)."""
    with unit_of_work(request.app.state.session_factory) as db:
        record_failure(db, username, client_address(request), utcnow())


def note_success(db: Session, username: str) -> None:
    forget_failures(db, username)
