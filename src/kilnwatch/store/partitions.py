"""Monthly partitions of ``readings`` on PostgreSQL (native declarative partitioning).

Migration ``0060`` (branch ``scale``) makes ``readings`` a table partitioned by range of
``ts``: one partition per calendar month in UTC (``readings_2025_03`` holds
``[2025-03-01 00:00Z, 2025-04-01 00:00Z)``) and a ``DEFAULT`` partition
(``readings_default``) that takes any row no monthly partition covers, so nothing is ever
refused. Partitions are created ahead:

* whenever the schema is brought up to date (``kilnwatch db upgrade`` and every command;
  :func:`maintain`: this month and :data:`AHEAD_MONTHS` ahead, two catalogue queries when
  they exist);
* by ``kilnwatch db partitions [--ahead N]`` (the same, and every month that has rows in the
  default partition, moving them out; for a timer);
* at ingest (:func:`ensure_for_frame`): a frame with a month that has no partition creates it
  first, in its own short transaction, before the frame is stored; a readings file creates
  every month it spans before its first chunk (:func:`ensure_for_months`), since a month met
  only in a later chunk would wait for the import's own transaction.

A new month's partition is built as a plain table, the default partition's rows of that month
are moved into it, and it is attached (``ATTACH PARTITION``), all in one transaction. The
attach takes an ``ACCESS EXCLUSIVE`` lock on the default partition; at ingest the creation
gives up after :data:`INGEST_LOCK_TIMEOUT` (the frame's rows then go to the default
partition, and the next :func:`maintain` moves them). SQLite keeps one plain table: every
function here is a no-op there.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

PARENT = "readings"
DEFAULT_PARTITION = "readings_default"
_MONTHLY = re.compile(r"^readings_(\d{4})_(\d{2})$")
AHEAD_MONTHS = 3
"""Months created ahead of the current one by ``db upgrade`` (a tunable of operations)."""
INGEST_LOCK_TIMEOUT = "2s"
"""How long a writer waits for the locks of a new partition before storing into DEFAULT."""
RETRY_AFTER_S = 300.0
"""A month whose creation at ingest gave up is not tried again by this process before."""
TS_BRIN_INDEX = "ix_readings_ts_brin"
"""The BRIN index on ``readings.ts`` (migration 0061; PostgreSQL only, so not in the models)."""
PARTITION_LOCK_KEY = 7213
"""Advisory lock serialising partition changes (a namespace, any constant)."""


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return date(day.year, day.month, 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after ``month`` (n ≥ 0)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    """The table name of ``month``'s partition, e.g. ``readings_2025_03``."""
    return f"{PARENT}_{month.year:04d}_{month.month:02d}"


def partition_month(name: str) -> date | None:
    """The month of a monthly partition's table name, None for any other name."""
    found = _MONTHLY.match(name)
    return date(int(found[1]), int(found[2]), 1) if found else None


def is_partition_table(name: str) -> bool:
    """Whether ``name`` is a partition of ``readings`` (monthly or default): tables the
    migrations create at run time, outside the ORM models (schema comparison skips them)."""
    return name == DEFAULT_PARTITION or partition_month(name) is not None


def _utc(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def is_partitioned(conn: Connection) -> bool:
    """Whether ``readings`` is a partitioned table here (PostgreSQL after migration 0060)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(
        text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:t)"), {"t": PARENT}
    ).scalar()
    return kind == "p"


def monthly_partitions(conn: Connection) -> list[date]:
    """The months that have an attached partition, oldest first."""
    if not is_partitioned(conn):
        return []
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": PARENT},
    ).scalars()
    return sorted(m for m in (partition_month(n) for n in names) if m is not None)


def default_months(conn: Connection) -> list[date]:
    """The UTC months of the rows held by the default partition."""
    rows = conn.execute(
        text(f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') FROM {DEFAULT_PARTITION}")
    ).scalars()
    return sorted(month_start(r.date()) for r in rows)


def create_partition(conn: Connection, month: date) -> int:
    """Create and attach ``month``'s partition in the current transaction, moving the default
    partition's rows of that month into it; returns the rows moved. The caller holds
    :data:`PARTITION_LOCK_KEY` (or is the only writer of the schema)."""
    name, lo, hi = partition_name(month), _utc(month), _utc(next_month(month))
    bounds = {"lo": lo, "hi": hi}
    conn.execute(text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    moved = conn.execute(
        text(
            f"WITH m AS (DELETE FROM {DEFAULT_PARTITION} WHERE ts >= :lo AND ts < :hi "
            f"RETURNING *) INSERT INTO {name} SELECT * FROM m"
        ),
        bounds,
    ).rowcount
    # a CHECK matching the bounds lets ATTACH skip its validating scan of the new table
    conn.execute(
        text(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
            f"CHECK (ts IS NOT NULL AND ts >= '{lo.isoformat()}' AND ts < '{hi.isoformat()}')"
        )
    )
    conn.execute(
        text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
        )
    )
    conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))
    return max(int(moved or 0), 0)


@dataclass
class Maintenance:
    """What :func:`maintain` or :func:`ensure_months` did."""

    created: list[date] = field(default_factory=list)
    moved_rows: int = 0
    partitions: list[date] = field(default_factory=list)


def ensure_months(conn: Connection, months: Iterable[date]) -> Maintenance:
    """Create the partitions of ``months`` that are missing (in the current transaction,
    serialised by an advisory lock)."""
    done = Maintenance()
    if not is_partitioned(conn):
        return done
    wanted = sorted({month_start(m) for m in months})
    existing = set(monthly_partitions(conn))
    if all(m in existing for m in wanted):
        done.partitions = sorted(existing)
        return done
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PARTITION_LOCK_KEY})
    existing = set(monthly_partitions(conn))  # another process may have made them meanwhile
    for month in wanted:
        if month not in existing:
            done.moved_rows += create_partition(conn, month)
            done.created.append(month)
            existing.add(month)
    done.partitions = sorted(existing)
    return done


def maintain(
    conn: Connection,
    ahead: int = AHEAD_MONTHS,
    today: date | None = None,
    move_default: bool = True,
) -> Maintenance:
    """Partitions for this month and ``ahead`` months after it and, with ``move_default``,
    for every month with rows in the default partition (moved out: a scan of that
    partition); nothing on SQLite or an unpartitioned table."""
    if not is_partitioned(conn):
        return Maintenance()
    first = month_start(today or datetime.now(UTC).date())
    months = [add_months(first, n) for n in range(ahead + 1)]
    return ensure_months(conn, months + (default_months(conn) if move_default else []))


class _Tried:
    """Per process: the months known to have a partition, and failed attempts (time)."""

    def __init__(self) -> None:
        self.known: dict[str, set[date]] = {}
        self.failed: dict[tuple[str, date], float] = {}


_TRIED = _Tried()


def ensure_for_frame(conn: Connection, ts: pl.Series) -> list[date]:
    """Before storing readings with timestamps ``ts`` (UTC): create the partitions of their
    months that are missing, in a transaction of its own on another connection (committed
    before the frame is stored). Gives up after :data:`INGEST_LOCK_TIMEOUT`: the rows then go
    to the default partition. Returns the months created."""
    if conn.dialect.name != "postgresql" or ts.len() == 0:
        return []
    months = {month_start(d) for d in ts.dt.date().unique().to_list() if d is not None}
    return ensure_for_months(conn, months)


def ensure_for_months(conn: Connection, months: Iterable[date]) -> list[date]:
    """:func:`ensure_for_frame` for ``months`` (any day of each), e.g. every month a file
    spans, created before its first row is stored: a transaction that has stored into (or
    read) ``readings`` holds a lock on the default partition that a later attach waits for,
    so a month first met in a later chunk of the same transaction would go to DEFAULT."""
    if conn.dialect.name != "postgresql":
        return []
    key = conn.engine.url.render_as_string(hide_password=True)
    known = _TRIED.known.setdefault(key, set())
    months = {month_start(m) for m in months}
    now = time.monotonic()
    missing = [
        m
        for m in sorted(months - known)
        if now - _TRIED.failed.get((key, m), -RETRY_AFTER_S) >= RETRY_AFTER_S
    ]
    if not missing:
        return []
    return _create_apart(conn.engine, key, missing)


def forget(month: date) -> None:
    """Drop ``month`` from this process's known partitions (it was archived and dropped)."""
    for known in _TRIED.known.values():
        known.discard(month)


def _create_apart(engine: Engine, key: str, months: list[date]) -> list[date]:
    known = _TRIED.known[key]
    try:
        with engine.begin() as other:
            if not is_partitioned(other):
                known.update(months)  # not partitioned: nothing to do, ever
                return []
            other.execute(text(f"SET LOCAL lock_timeout = '{INGEST_LOCK_TIMEOUT}'"))
            done = ensure_months(other, months)
    except DBAPIError as exc:  # a lock wait gave up (or a deadlock): store into DEFAULT
        log.warning("partitions of %s not created now (%s); rows go to DEFAULT", months, exc)
        for m in months:
            _TRIED.failed[(key, m)] = time.monotonic()
        return []
    known.update(done.partitions)
    return done.created


def include_in_schema_comparison(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic ``include_name`` hook: the partitions of ``readings`` and their indexes are
    made at run time, not by the models, so autogenerate and the schema test skip them; so is
    the PostgreSQL-only BRIN index on ``ts``."""
    if type_ == "table":
        return name is None or not is_partition_table(name)
    if type_ == "index":
        return name != TS_BRIN_INDEX
    return True
