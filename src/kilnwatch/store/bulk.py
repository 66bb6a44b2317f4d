"""Durable bulk writes of readings: dedup and versioning in the database, one statement.

Rows go into a session-local temporary table (PostgreSQL: ``COPY`` with psycopg 3; SQLite:
``executemany``), then one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` moves the
rows that are new or differ from the latest stored version into ``readings``:

* same meter, timestamp and value as the latest version: a repeated delivery, not inserted;
* same meter and timestamp, another value: a correction, inserted as ``version + 1``;
* the primary key (meter, ts, version) makes a racing second insert of the same row a no-op.

A batch that carries several values for one (meter, ts) is written in rounds, one value per
key per round, in the order received, so each becomes its own version. Concurrent writers of
the same meters are serialised by the caller (:func:`lock_meters`), which makes the "latest
version" read and the insert one atomic step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

TEMP_TABLE = "kw_incoming"
ADVISORY_LOCK_CLASS = 7212
"""First key of PostgreSQL advisory locks taken on meter ids (a namespace, any constant)."""

_COLUMNS = ("meter_id", "ts", "value", "flag", "source", "batch_id", "received_at")

_PG_TEMP = f"""
CREATE TEMP TABLE IF NOT EXISTS {TEMP_TABLE} (
    meter_id integer NOT NULL, ts timestamptz NOT NULL, value double precision NOT NULL,
    flag varchar(2), source smallint NOT NULL, batch_id bigint, received_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS
"""
_SQLITE_TEMP = f"""
CREATE TEMP TABLE IF NOT EXISTS {TEMP_TABLE} (
    meter_id INTEGER NOT NULL, ts DATETIME NOT NULL, value FLOAT NOT NULL, flag VARCHAR(2),
    source SMALLINT NOT NULL, batch_id INTEGER, received_at DATETIME NOT NULL
)
"""
_MOVE = f"""
INSERT INTO readings (meter_id, ts, version, value, flag, source, batch_id, received_at)
SELECT i.meter_id, i.ts, COALESCE(l.version, 0) + 1, i.value, i.flag, i.source, i.batch_id,
       i.received_at
FROM {TEMP_TABLE} AS i
LEFT JOIN (
    SELECT r.meter_id, r.ts, r.version, r.value
    FROM readings AS r
    JOIN (
        SELECT r2.meter_id, r2.ts, MAX(r2.version) AS version
        FROM readings AS r2
        JOIN {TEMP_TABLE} AS k ON k.meter_id = r2.meter_id AND k.ts = r2.ts
        GROUP BY r2.meter_id, r2.ts
    ) AS m ON m.meter_id = r.meter_id AND m.ts = r.ts AND m.version = r.version
) AS l ON l.meter_id = i.meter_id AND l.ts = i.ts
WHERE l.version IS NULL OR l.value <> i.value
ON CONFLICT DO NOTHING
RETURNING meter_id, ts, version, value, batch_id
"""


@dataclass(frozen=True, slots=True)
class ReadingRow:
    """A validated reading ready to store (value in the meter's unit, UTC ``ts``)."""

    meter_id: int
    ts: datetime
    value: float
    flag: str | None
    source: int
    batch_id: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A row that was inserted (version 1 = new, > 1 = correction)."""

    meter_id: int
    ts: datetime
    version: int
    value: float
    batch_id: int | None = None


@dataclass
class StoreOutcome:
    inserted: list[StoredReading]
    duplicates: int

    @property
    def corrections(self) -> int:
        return sum(1 for r in self.inserted if r.version > 1)


def pg_int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, e.g. ``{1,2,3}``, for ``CAST(%s AS bigint[])``.

    Binding a Python list makes psycopg dump it element by element in Python (with a regular
    expression per element for text arrays); one joined string is parsed by the server.
    """
    return "{" + ",".join(str(int(v)) for v in values) + "}"


PG_FROM_EPOCH_US = "TIMESTAMPTZ 'epoch' + {} * INTERVAL '1 microsecond'"
"""SQL for a timestamp given as microseconds since the Unix epoch (exact, unlike
``to_timestamp(double)``); format with the expression of the microseconds."""


def sqlite_timestamp(ts: datetime) -> str:
    """The text form SQLAlchemy stores for a UTC datetime in SQLite."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def split_rounds(rows: Iterable[ReadingRow]) -> list[list[ReadingRow]]:
    """Rounds with at most one row per (meter, ts); consecutive equal values collapse."""
    chains: dict[tuple[int, datetime], list[ReadingRow]] = {}
    for row in rows:
        chain = chains.setdefault((row.meter_id, row.ts), [])
        if not chain or chain[-1].value != row.value:
            chain.append(row)
    depth = max((len(c) for c in chains.values()), default=0)
    return [[c[i] for c in chains.values() if len(c) > i] for i in range(depth)]


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


def _load_postgresql(conn: Connection, rows: Sequence[ReadingRow]) -> None:
    conn.exec_driver_sql(_PG_TEMP)
    conn.exec_driver_sql(f"TRUNCATE {TEMP_TABLE}")
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        columns = ", ".join(_COLUMNS)
        with cursor.copy(f"COPY {TEMP_TABLE} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (r.meter_id, r.ts, r.value, r.flag, r.source, r.batch_id, r.received_at)
                )
    conn.exec_driver_sql(f"ANALYZE {TEMP_TABLE}")


def _load_sqlite(conn: Connection, rows: Sequence[ReadingRow]) -> None:
    conn.exec_driver_sql(_SQLITE_TEMP)
    conn.exec_driver_sql(f"DELETE FROM {TEMP_TABLE}")
    params = [
        (
            r.meter_id,
            sqlite_timestamp(r.ts),
            r.value,
            r.flag,
            r.source,
            r.batch_id,
            sqlite_timestamp(r.received_at),
        )
        for r in rows
    ]
    placeholders = ", ".join("?" for _ in _COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO {TEMP_TABLE} ({', '.join(_COLUMNS)}) VALUES ({placeholders})", params
    )


def _store_round(conn: Connection, rows: Sequence[ReadingRow]) -> list[StoredReading]:
    if conn.dialect.name == "postgresql":
        _load_postgresql(conn, rows)
    else:
        _load_sqlite(conn, rows)
    result = conn.exec_driver_sql(_MOVE).all()
    return [
        StoredReading(int(m), _aware(t), int(v), float(x), None if b is None else int(b))
        for m, t, v, x, b in result
    ]


def store_readings(session: Session, rows: Sequence[ReadingRow]) -> StoreOutcome:
    """Insert new readings and corrections; count repeated deliveries. Does not commit."""
    conn = session.connection()
    inserted: list[StoredReading] = []
    for round_rows in split_rounds(rows):
        inserted.extend(_store_round(conn, round_rows))
    return StoreOutcome(inserted=inserted, duplicates=len(rows) - len(inserted))


# -- PostgreSQL binary COPY of a Polars frame ------------------------------------------------

PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 UTC in µs since the Unix epoch: the zero of PostgreSQL's binary timestamps."""
_PG_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" * 2
_PG_BINARY_TRAILER = b"\xff\xff"
_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}


def _binary_group(
    frame: pl.DataFrame, columns: Sequence[tuple[str, str]], nulls: Mapping[str, bool]
) -> bytes:
    """Rows of ``frame`` sharing one null pattern and one text value per text column."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    values: dict[str, Any] = {"n": len(columns)}
    for name, kind in columns:
        fields.append((f"{name}_len", ">i4"))
        if nulls[name]:
            values[f"{name}_len"] = -1
            continue
        series = frame.get_column(name)
        if kind == "text":
            data = str(series[0]).encode()
            values[f"{name}_len"] = len(data)
            if data:
                fields.append((name, f"S{len(data)}"))
                values[name] = data
            continue
        values[f"{name}_len"] = int(np.dtype(_FIXED[kind]).itemsize)
        fields.append((name, _FIXED[kind]))
        if kind == "timestamptz":
            values[name] = series.dt.epoch("us").to_numpy() - PG_EPOCH_US
        else:
            values[name] = series.to_numpy()
    records = np.empty(frame.height, dtype=np.dtype(fields))
    for key, value in values.items():
        records[key] = value
    return records.tobytes()


def pg_binary_copy_data(frame: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> bytes:
    """``COPY … (FORMAT binary)`` data of ``frame``'s ``columns`` (name, PostgreSQL type).

    Types: ``int2``, ``int4``, ``int8``, ``float8``, ``timestamptz`` (a UTC Polars datetime)
    and ``text`` (few distinct values, e.g. flags). Rows are grouped by their null pattern and
    text values, each group one fixed-width numpy record array: no per-row Python, and the
    server parses no text (row order within a COPY does not matter).
    """
    keys: list[pl.Expr] = []
    for name, kind in columns:
        keys.append(pl.col(name).is_null().alias(f"_null_{name}"))
        if kind == "text":
            keys.append(pl.col(name).fill_null("").alias(f"_text_{name}"))
    parts = [_PG_BINARY_HEADER]
    if frame.height:
        marked = frame.with_columns(keys)
        names = [k.meta.output_name() for k in keys]
        for _, group in marked.group_by(names, maintain_order=True):
            nulls = {name: bool(group.get_column(f"_null_{name}")[0]) for name, _ in columns}
            parts.append(_binary_group(group, columns, nulls))
    parts.append(_PG_BINARY_TRAILER)
    return b"".join(parts)
