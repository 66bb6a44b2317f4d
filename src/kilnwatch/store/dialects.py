"""Values in each backend's own form: PostgreSQL binary ``COPY`` and array literals, SQLite
timestamp text, and aware UTC datetimes back from either driver.

The bulk paths (:mod:`kilnwatch.store.staging`, :mod:`kilnwatch.store.rollups`) bypass the
ORM for speed; these encodings are what they share.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection

PG_FROM_EPOCH_US = "TIMESTAMPTZ 'epoch' + {} * INTERVAL '1 microsecond'"
"""SQL for a timestamp given as microseconds since the Unix epoch (exact, unlike
``to_timestamp(double)``); format with the expression of the microseconds."""
PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 UTC in µs since the Unix epoch: the zero of PostgreSQL's binary timestamps."""
SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"
"""Polars ``strftime`` format of the text SQLAlchemy stores for a UTC datetime in SQLite."""


def pg_int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, e.g. ``{1,2,3}``, for ``CAST(%s AS bigint[])``.

    Binding a Python list makes psycopg dump it element by element in Python (with a regular
    expression per element for text arrays); one joined string is parsed by the server.
    """
    return "{" + ",".join(str(int(v)) for v in values) + "}"


#: Epoch seconds [s] of a time stamp column ``{col}``, rounded to the second, in SQL: from
#: SQLite's stored text (julianday is computed in C; the 0.5 rounds the double to the nearest
#: second) and on PostgreSQL.
SQLITE_EPOCH_S = "CAST((julianday({col}) - 2440587.5) * 86400 + 0.5 AS INTEGER)"
PG_EPOCH_S = "CAST(EXTRACT(EPOCH FROM {col}) AS BIGINT)"


def sqlite_timestamp(ts: datetime) -> str:
    """The text form SQLAlchemy stores for a UTC datetime in SQLite."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bound_timestamp(conn: Connection, ts: datetime) -> datetime | str:
    """``ts`` as a raw ``text()`` statement must bind it (raw SQL skips the column type): the
    aware datetime on PostgreSQL, SQLAlchemy's stored text on SQLite."""
    return ts if conn.dialect.name == "postgresql" else sqlite_timestamp(ts)


def sqlite_rows(frame: pl.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of ``frame``'s ``columns`` for SQLite ``executemany``: UTC datetimes as text."""
    text = frame.select(columns).with_columns(
        pl.col(c).dt.replace_time_zone(None).dt.strftime(SQLITE_TIMESTAMP_FORMAT)
        for c in columns
        if isinstance(frame.schema[c], pl.Datetime)
    )
    return text.rows()


def _sqlite_literal(series: pl.Series) -> str | None:
    """The SQL literal of a column holding one value throughout (NULL, an integer or a UTC
    timestamp), or None when it is not such a column."""
    if series.len() == 0:
        return None
    if series.null_count() == series.len():
        return "NULL"
    kind_ok = series.dtype.is_integer() or isinstance(series.dtype, pl.Datetime)
    if series.null_count() or not kind_ok:
        return None
    first = series[0]
    if series.n_unique() != 1:
        return None
    if isinstance(first, datetime):
        return f"'{sqlite_timestamp(first)}'"  # digits and separators only: our own format
    return str(int(first))


def sqlite_insert(raw: Any, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
    """Insert ``frame``'s ``columns`` into ``table`` by one ``executemany`` on the sqlite3
    connection ``raw``. A column holding one value in every row (a batch id, the receive
    time, version 1, an absent flag) is written into the statement as a literal: each row
    binds only the values that differ (the bulk path: fewer Python objects, fewer binds)."""
    literals = {c: _sqlite_literal(frame.get_column(c)) for c in columns}
    bound = [c for c in columns if literals[c] is None]
    values = ", ".join(literals[c] or "?" for c in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
    if bound:
        raw.executemany(sql, sqlite_rows(frame, bound))
    else:
        raw.executemany(sql, [()] * frame.height)


# -- PostgreSQL binary COPY of a Polars frame ------------------------------------------------

_PG_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" * 2
_PG_BINARY_TRAILER = b"\xff\xff"
_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "timestamptz": ">i8"}


def _binary_group(
    frame: pl.DataFrame, columns: Sequence[tuple[str, str]], nulls: Mapping[str, bool]
) -> np.ndarray:
    """Rows of ``frame`` sharing one null pattern and one text value per text column, as one
    fixed-width record array (its buffer is the group's COPY rows)."""
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
    return records


def _uniform(frame: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> dict[str, bool] | None:
    """The null pattern of ``frame`` when all its rows share it and one value per text
    column (the usual bulk chunk: one group, no grouping needed), else None."""
    nulls: dict[str, bool] = {}
    for name, kind in columns:
        series = frame.get_column(name)
        missing = series.null_count()
        if 0 < missing < frame.height or (kind == "text" and not missing and series.n_unique() > 1):
            return None
        nulls[name] = missing == frame.height
    return nulls


def pg_binary_copy_parts(
    frame: pl.DataFrame, columns: Sequence[tuple[str, str]]
) -> Iterator[bytes | memoryview]:
    """``COPY … (FORMAT binary)`` data of ``frame``'s ``columns`` (name, PostgreSQL type), in
    parts to write one after the other (no joined copy of the whole payload).

    Types: ``int2``, ``int4``, ``int8``, ``float8``, ``timestamptz`` (a UTC Polars datetime)
    and ``text`` (few distinct values, e.g. flags). Rows are grouped by their null pattern and
    text values (a chunk with one pattern is one group, without grouping), each group one
    fixed-width numpy record array: no per-row Python, and the server parses no text (row
    order within a COPY does not matter).
    """
    yield _PG_BINARY_HEADER
    if frame.height:
        nulls = _uniform(frame, columns)
        if nulls is not None:
            yield _binary_group(frame, columns, nulls).data.cast("B")
        else:
            keys: list[pl.Expr] = []
            for name, kind in columns:
                keys.append(pl.col(name).is_null().alias(f"_null_{name}"))
                if kind == "text":
                    keys.append(pl.col(name).fill_null("").alias(f"_text_{name}"))
            marked = frame.with_columns(keys)
            names = [k.meta.output_name() for k in keys]
            for _, group in marked.group_by(names, maintain_order=True):
                pattern = {name: bool(group.get_column(f"_null_{name}")[0]) for name, _ in columns}
                yield _binary_group(group, columns, pattern).data.cast("B")
    yield _PG_BINARY_TRAILER


def pg_binary_copy_data(frame: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> bytes:
    """The parts of :func:`pg_binary_copy_parts` as one ``bytes``."""
    return b"".join(bytes(part) for part in pg_binary_copy_parts(frame, columns))
