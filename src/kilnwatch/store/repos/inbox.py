"""The ingest log's inbox: ids of the log messages whose readings are committed.

A writer claims its batch's message ids in the transaction that stores their readings
(:func:`claim_messages`); an id already claimed by a committed transaction is a redelivery
and its message is skipped, whatever was stored since (a correction of the same reading
would make the store's dedup by value take the redelivered value for a new version). Ids
are inserted in sorted order, so two writers holding the same messages (an acknowledgement
deadline passed while the first was still storing) wait for each other in one order and
never deadlock: the second waits for the first's commit, then finds the ids taken (or takes
them itself when the first rolled back). Rows older than the horizon are deleted
(:func:`expire_inbox`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kilnwatch.store.models import LogInbox


def claim_messages(session: Session, msg_ids: Iterable[str], now: datetime) -> set[str]:
    """Record ``msg_ids`` as processed at ``now`` (no commit); return the ids that were not
    recorded yet (the messages to store). Ids already present are left as they are."""
    ids = sorted(set(msg_ids))
    if not ids:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(LogInbox)
        .values([{"msg_id": i, "processed_at": now} for i in ids])
        .on_conflict_do_nothing(index_elements=["msg_id"])
        .returning(LogInbox.msg_id)
    )
    return set(session.scalars(stmt))


def expire_inbox(session: Session, before: datetime) -> int:
    """Delete the ids processed before ``before`` (no commit); return how many."""
    result = session.execute(delete(LogInbox).where(LogInbox.processed_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
