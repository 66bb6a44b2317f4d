"""Serialising writers of the same meters (PostgreSQL advisory locks)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from kilnwatch.store.dialects import pg_int_array

ADVISORY_LOCK_CLASS = 7212
"""First key of PostgreSQL advisory locks taken on meter ids (a namespace, any constant)."""


def lock_meters(session: Session, meter_ids: Iterable[int]) -> None:
    """Serialise writers of the same meters until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks, taken in id order (no deadlocks).
    SQLite: a database has one writer at a time; the caller's first write takes that lock.
    """
    ids = sorted(set(meter_ids))
    conn = session.connection()
    if conn.dialect.name != "postgresql" or not ids:
        return
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(:cls, k) FROM "
            "(SELECT unnest(CAST(:ids AS integer[])) AS k ORDER BY 1) AS s"
        ),
        {"cls": ADVISORY_LOCK_CLASS, "ids": pg_int_array(ids)},
    )
