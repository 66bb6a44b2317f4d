"""Write and check the hash-chained audit trail (model: ``store/models/audit.py``).

Every ORM flush records its inserts, updates and deletes of audited models (all models but the
ones marked ``__audited__ = False``: raw readings — immutable, a correction is a new version —,
rollups, queues, sessions and other rows derived or operational) as audit entries in the same
transaction, so a change and its entry commit or roll back together. Fields a model lists in
``__audit_ignore__`` (bookkeeping such as ``last_seen_at``) are left out; an update that changes
only those writes no entry; fields in ``__audit_secret__`` (password hashes) are logged as
changed, never by value.

The chain: ``entry_hash = SHA-256(prev_hash ‖ canonical JSON of the entry)``, the first entry's
``prev_hash`` being 64 zeros. Writers are serialised (a transaction-scoped advisory lock on
PostgreSQL; SQLite has one writer at a time), so ``seq`` runs 1, 2, 3... without gaps.

The chain proves that nothing was edited, inserted or deleted *inside* the log. Someone who can
write the database could rewrite the whole tail consistently: keep the head (``kilnwatch audit
head``) somewhere else, e.g. in the daily backup's manifest, and check against it with
``kilnwatch audit verify --head SEQ:HASH``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import get_history

from kilnwatch.store.models.audit import AuditEntry
from kilnwatch.store.models.base import utcnow

GENESIS = "0" * 64
ACTOR_KEY = "actor"
"""``session.info[ACTOR_KEY]``: who is changing things (set at the edge: the signed-in user, the
CLI's operating-system user); ``system`` when nobody set it."""
SECRET = "(secret changed)"
"""Logged for a field a model lists in ``__audit_secret__`` (password hashes), not the value."""
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('kilnwatch.audit_log'))"


def _plain(value: Any) -> Any:
    """A JSON value for ``value``: bytes by their SHA-256 (report files), times in ISO 8601."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest(), "bytes": len(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


class EntryFields(Protocol):
    """What an entry's hash covers: an :class:`AuditEntry` or a row of its table."""

    seq: int
    at: datetime
    actor: str
    action: str
    table_name: str
    row_key: str
    changes: dict[str, Any]


def canonical(entry: EntryFields) -> str:
    """The text an entry's hash covers: every field but the hashes, as canonical JSON."""
    fields = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "table": entry.table_name,
        "key": entry.row_key,
        "changes": entry.changes,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, entry: EntryFields) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(entry)}".encode()).hexdigest()


def _audited(obj: Any) -> bool:
    return bool(getattr(type(obj), "__audited__", True))


def _row_key(obj: Any) -> str:
    state = inspect(obj)
    mapper = state.mapper
    key = [state.dict.get(mapper.get_property_by_column(c).key) for c in mapper.primary_key]
    return json.dumps([_plain(v) for v in key], ensure_ascii=False)


def _changes(obj: Any, action: str) -> dict[str, Any]:
    """Values of an insert or delete; ``[old, new]`` of each changed field of an update."""
    ignore = set(getattr(type(obj), "__audit_ignore__", ()))
    secret = set(getattr(type(obj), "__audit_secret__", ()))
    state = inspect(obj)
    mapper = state.mapper
    out: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        if attr.key in ignore:
            continue
        if action != "update":
            value = _plain(state.dict.get(attr.key))  # no lazy load inside a flush
            out[attr.key] = SECRET if attr.key in secret and value is not None else value
            continue
        hist = get_history(obj, attr.key)
        if not hist.has_changes():
            continue
        old = _plain(hist.deleted[0]) if hist.deleted else None
        new = _plain(hist.added[0]) if hist.added else None
        if old != new:
            out[attr.key] = SECRET if attr.key in secret else [old, new]
    return out


def _pending(session: Session) -> Iterator[tuple[str, Any]]:
    for action, objs in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objs:
            if _audited(obj) and (action != "update" or session.is_modified(obj)):
                yield action, obj


def _record_changes(session: Session, _flush_context: Any) -> None:
    """``after_flush`` hook: append one chained entry per changed audited row."""
    found = [(action, obj, _changes(obj, action)) for action, obj in _pending(session)]
    found = [(a, o, c) for a, o, c in found if c or a != "update"]
    if not found:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(_LOCK))
    last = connection.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    actor = str(session.info.get(ACTOR_KEY, "system"))[:80]
    now = utcnow()
    rows = []
    for action, obj, changes in found:
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=now,
            actor=actor,
            action=action,
            table_name=inspect(obj).mapper.persist_selectable.name,
            row_key=_row_key(obj),
            changes=changes,
        )
        entry.prev_hash, entry.entry_hash = prev, chain_hash(prev, entry)
        prev = entry.entry_hash
        rows.append({c: getattr(entry, c) for c in _COLUMNS})
    connection.execute(insert(AuditEntry), rows)


ENTRY_COLUMNS = ("seq", "at", "actor", "action", "table_name", "row_key", "changes")
"""The columns an entry's hash covers (with ``prev_hash``; :func:`canonical`)."""
_COLUMNS = (*ENTRY_COLUMNS, "prev_hash", "entry_hash")


_INSTALLED = "_kilnwatch_audit_installed"


def install_audit(factory: sessionmaker[Session]) -> None:
    """Record the changes of every session ``factory`` makes.

    Marked on the factory itself: ``event.contains`` keys its registry by ``id()``, and a new
    factory at the address of a collected one was taken for it and left unaudited (entries
    lost on about one call in four in a loop of short-lived factories).
    """
    if not getattr(factory, _INSTALLED, False):
        event.listen(factory, "after_flush", _record_changes)
        setattr(factory, _INSTALLED, True)


@dataclass(frozen=True)
class ChainBreak:
    """The first entry where the chain does not hold, and why (a stable dotted code)."""

    seq: int
    code: str
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(session: Session, *, expected_head: tuple[int, str] | None = None) -> ChainCheck:
    """Walk the log in ``seq`` order and recompute every hash.

    Codes: ``audit.entry_edited`` (an entry's text no longer matches its hash),
    ``audit.entry_missing`` (a ``seq`` is skipped: deleted), ``audit.chain_broken`` (an entry does
    not follow the one before it: inserted, reordered or replaced), ``audit.head_missing`` (the
    head kept elsewhere is no longer in the log: the tail was cut or rewritten).
    """
    prev, expected_seq, count = GENESIS, 1, 0
    head_ok = expected_head is None
    table = AuditEntry.__table__
    stmt = select(table).order_by(table.c.seq).execution_options(yield_per=5000)
    broken: ChainBreak | None = None
    result = session.execute(stmt)
    for entry in result:
        count += 1
        if entry.seq != expected_seq:
            broken = ChainBreak(
                expected_seq,
                "audit.entry_missing",
                f"entry {expected_seq} is missing (next is {entry.seq})",
            )
            break
        if entry.prev_hash != prev:
            broken = ChainBreak(
                entry.seq,
                "audit.chain_broken",
                f"entry {entry.seq} does not follow entry {entry.seq - 1}",
            )
            break
        if chain_hash(prev, entry) != entry.entry_hash:
            broken = ChainBreak(
                entry.seq,
                "audit.entry_edited",
                f"entry {entry.seq} was changed after it was written",
            )
            break
        if expected_head and (entry.seq, entry.entry_hash) == expected_head:
            head_ok = True
        prev, expected_seq = entry.entry_hash, entry.seq + 1
    result.close()  # a server-side cursor on PostgreSQL: close it when stopping early
    if broken is None and not head_ok:
        assert expected_head is not None
        broken = ChainBreak(
            expected_head[0],
            "audit.head_missing",
            f"the kept head {expected_head[0]}:{expected_head[1][:12]}… is not in the log",
        )
    return ChainCheck(count, expected_seq - 1, prev, broken)
