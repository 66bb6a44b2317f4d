"""Serialising writers of the same meters (PostgreSQL advisory locks)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from kilnwatch.store.dialects import pg_int_array

ADVISORY_LOCK_CLASS = 7212
"""First key of PostgreSQL advisory locks taken on meter ids (a namespace, any constant)."""
LOCK_SLOTS = 1024
"""Meters share this many locks (id modulo): a file of a whole province (17 000 meters at 1 000
enterprises) took one lock each and overflowed the server's lock table, which holds
``max_locks_per_transaction`` (64) × ``max_connections`` (100) locks for all sessions together
(PostgreSQL 15 documentation, 20.12 Lock Management). Two writers of different meters in one
slot wait for each other, which costs time, never correctness."""


def lock_meters(session: Session, meter_ids: Iterable[int]) -> None:
    """Serialise writers of the same meters until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks on the meters' slots (:data:`LOCK_SLOTS`),
    taken in slot order (no deadlocks).
    SQLite: a database has one writer at a time; the caller's first write takes that lock.
    """
    ids = sorted({meter_id % LOCK_SLOTS for meter_id in meter_ids})
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
