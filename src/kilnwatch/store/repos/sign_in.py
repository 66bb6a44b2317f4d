"""Failed sign-ins: record, count in a window, forget (``SignInFailure``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kilnwatch.store.models import SignInFailure


def record_failure(session: Session, username: str, address: str, at: datetime) -> None:
    session.add(SignInFailure(at=at, username=username[:64], address=address[:64]))
    session.flush()


def failures_since(
    session: Session, username: str, address: str, since: datetime
) -> tuple[int, int, datetime | None]:
    """Failures for ``username`` and from ``address`` since ``since``, and the oldest of them
    (when the window frees again)."""
    recent = SignInFailure.at >= since
    by_user = session.scalar(
        select(func.count()).where(recent, SignInFailure.username == username[:64])
    )
    by_address = session.scalar(
        select(func.count()).where(recent, SignInFailure.address == address[:64])
    )
    oldest = session.scalar(
        select(func.min(SignInFailure.at)).where(
            recent,
            (SignInFailure.username == username[:64]) | (SignInFailure.address == address[:64]),
        )
    )
    return by_user or 0, by_address or 0, oldest


def forget_failures(session: Session, username: str, before: datetime | None = None) -> None:
    """After a successful sign-in (the account's failures), or to purge the expired (all
    failures before ``before``)."""
    stmt = delete(SignInFailure)
    stmt = (
        stmt.where(SignInFailure.at < before)
        if before
        else stmt.where(SignInFailure.username == username[:64])
    )
    session.execute(stmt)
