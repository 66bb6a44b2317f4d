"""Day, month and CEMS-hour rollups of a bulk import, written once per file, not per chunk.

A readings file is stored in chunks in one transaction. A time-ordered file of N meters holds a
few rows of every meter in each chunk (5 hourly rows per meter per 250 000-row chunk at 51 000
meters), so the per-chunk maintenance of :mod:`kilnwatch.store.rollups.append` rewrote each
meter's day and month rows, and recomputed its edge hours of ``emission_hours``, in every
chunk: one dead row version per day and month row per chunk in one transaction
(``rollups`` reached 9.6 GB against 5.5 GB of readings at 3 000 enterprises; docs/scaling.md,
"3 000 enterprises, one month").

:class:`DeferredRollups` holds, for the meters of a chunk that are pure appends (the contract
of :func:`~kilnwatch.store.rollups.append.append_rollups`):

* their day and month rows in memory, folded chunk after chunk by the rules of the upsert
  (``_MERGE`` of :mod:`~kilnwatch.store.rollups.append`: ``sum``, ``count``, ``resets``,
  ``rollovers`` add in the same order, ``min``/``max`` combine, ``first``/``last`` by
  timestamp), starting from the stored row when there is one: the row written at the end is
  the one the per-chunk upserts would have left, to the bit;
* the rows (with flags) of their monitored analysers and each one's written range: at the end
  :func:`~kilnwatch.store.rollups.emission_hours.refresh_emission_hours` computes the hours
  between a meter's first and last written hour from memory once, and its two edge hours from
  the stored readings (each appended chunk found no stored reading later than its rows, and
  the writer holds the meter's lock: nothing else lies between two chunks' rows).

Hour rollups stay written per chunk (the rate check and counter recomputes read them). Before
a meter is written any other way (a correction, late data, a repeated timestamp), and before
the transaction commits, :meth:`DeferredRollups.flush` writes what is held.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kilnwatch.store.dialects import pg_int_array, sqlite_rows, sqlite_timestamp
from kilnwatch.store.models.base import aware_utc
from kilnwatch.store.rollups.aggregate import ROLLUP_COLUMNS
from kilnwatch.store.rollups.emission_hours import refresh_emission_hours
from kilnwatch.store.rollups.recompute import copy_rollups

HELD_ROLLUP_ROWS = 2_000_000
"""Day and month rows held at most (about 150 MB) before they are written: a month of every
meter of 3 000 enterprises (51 000 meters x 32 local days and months) fits."""
HELD_EMISSION_ROWS = 4_000_000
"""Analyser readings held at most (about 150 MB) before their hours are computed."""

_KEYS = ["meter_id", "grain", "period_start"]
_UTC_US = pl.Datetime("us", "UTC")
SCHEMA: dict[str, Any] = {
    "meter_id": pl.Int64, "grain": pl.Utf8, "period_start": _UTC_US, "sum": pl.Float64,
    "count": pl.Int32, "min": pl.Float64, "max": pl.Float64, "first": pl.Float64,
    "last": pl.Float64, "first_ts": _UTC_US, "last_ts": _UTC_US, "resets": pl.Int32,
    "rollovers": pl.Int32,
}  # fmt: skip
"""Polars types of :data:`~kilnwatch.store.rollups.aggregate.ROLLUP_COLUMNS`."""

_NAMES = ", ".join(f'"{c}"' for c in ROLLUP_COLUMNS)
DELTA = "kw_rollup_delta"
"""A temporary table of the shape of ``rollups``: rows copied in, then upserted in one
statement (also by :mod:`~kilnwatch.store.rollups.append`)."""
PG_DELTA = f"""
CREATE TEMP TABLE IF NOT EXISTS {DELTA} (
    meter_id integer, grain text, period_start timestamptz, "sum" double precision,
    "count" integer, "min" double precision, "max" double precision, "first" double precision,
    "last" double precision, first_ts timestamptz, last_ts timestamptz, resets integer,
    rollovers integer
) ON COMMIT DELETE ROWS
"""
_REPLACE = " ON CONFLICT (meter_id, grain, period_start) DO UPDATE SET " + ", ".join(
    f'"{c}" = excluded."{c}"' for c in ROLLUP_COLUMNS[3:]
)
_PG_WRITE = f"INSERT INTO rollups ({_NAMES}) SELECT {_NAMES} FROM {DELTA}" + _REPLACE
_SQLITE_WRITE = (
    f"INSERT INTO rollups ({_NAMES}) VALUES ({', '.join('?' for _ in ROLLUP_COLUMNS)})" + _REPLACE
)
_PG_STORED = f"""
SELECT {", ".join(f'r."{c}"' for c in ROLLUP_COLUMNS)}
FROM unnest(CAST(%(m)s AS integer[]), CAST(%(g)s AS text[]), CAST(%(p)s AS timestamptz[]))
     AS k(m, g, p)
JOIN rollups r ON r.meter_id = k.m AND r.grain = k.g AND r.period_start = k.p
"""
_SQLITE_STORED = (
    f"SELECT {_NAMES} FROM rollups WHERE meter_id = ? AND grain = ? AND period_start = ?"
)


def pg_through_delta(conn: Connection, rows: pl.DataFrame, statement: str) -> None:
    """PostgreSQL: ``rows`` (:data:`ROLLUP_COLUMNS`) copied into :data:`DELTA` (binary
    ``COPY``), then ``statement``, which reads them from there."""
    conn.exec_driver_sql(PG_DELTA)
    conn.exec_driver_sql(f"DELETE FROM {DELTA}")
    copy_rollups(conn, DELTA, rows)
    conn.exec_driver_sql(statement)


def combine(held: pl.DataFrame, later: pl.DataFrame) -> pl.DataFrame:
    """``held`` with ``later`` (one row per key each; :data:`SCHEMA`) folded in by the rules of
    the append upsert (``held`` in the stored row's place, ``later`` in the delta's)."""
    j = held.join(later, on=_KEYS, how="full", coalesce=True, suffix="_b")

    def both(c: str) -> pl.Expr:
        return pl.coalesce(pl.col(c) + pl.col(f"{c}_b"), pl.col(c), pl.col(f"{c}_b"))

    first_b = pl.col("first_ts_b") < pl.col("first_ts")
    last_b = pl.col("last_ts_b") > pl.col("last_ts")
    return j.select(
        *_KEYS,
        both("sum").alias("sum"),
        both("count").alias("count"),
        pl.min_horizontal("min", "min_b").alias("min"),
        pl.max_horizontal("max", "max_b").alias("max"),
        pl.when(first_b).then(pl.col("first_b"))
        .otherwise(pl.coalesce("first", "first_b")).alias("first"),
        pl.when(last_b).then(pl.col("last_b"))
        .otherwise(pl.coalesce("last", "last_b")).alias("last"),
        pl.min_horizontal("first_ts", "first_ts_b").alias("first_ts"),
        pl.max_horizontal("last_ts", "last_ts_b").alias("last_ts"),
        both("resets").alias("resets"),
        both("rollovers").alias("rollovers"),
    ).cast(SCHEMA)  # type: ignore[arg-type]  # fmt: skip


def _stored(conn: Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """The stored ``rollups`` rows of ``keys`` (``meter_id``, ``grain``, ``period_start``)."""
    found: list[tuple[Any, ...]] = []
    if keys.height and conn.dialect.name == "postgresql":
        params = {
            "m": pg_int_array(keys.get_column("meter_id").to_list()),
            "g": keys.get_column("grain").to_list(),
            "p": keys.get_column("period_start").to_list(),
        }
        found = [tuple(r) for r in conn.exec_driver_sql(_PG_STORED, params).all()]
    elif keys.height:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        for m, g, p in keys.iter_rows():
            found += raw.execute(_SQLITE_STORED, (m, g, sqlite_timestamp(p))).fetchall()
    stamps = (2, 9, 10)
    rows = [tuple(aware_utc(v) if i in stamps else v for i, v in enumerate(r)) for r in found]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


class DeferredRollups:
    """Day and month rollups and analyser hours of appended meters, held over a file's chunks
    and written by :meth:`flush` (see the module's docstring). One per transaction."""

    def __init__(self) -> None:
        self.coarse = pl.DataFrame(schema=SCHEMA)
        self.emission_rows: list[pl.DataFrame] = []
        self.emission_ranges: dict[int, tuple[datetime, datetime]] = {}
        self._emission_n = 0

    def hold_coarse(self, session: Session, rows: pl.DataFrame) -> None:
        """Fold day and month rows (one per key, :data:`ROLLUP_COLUMNS`) of appended meters
        into those held; a key met for the first time starts from its stored row."""
        rows = rows.select(ROLLUP_COLUMNS).cast(SCHEMA)  # type: ignore[arg-type]
        new = rows.select(_KEYS).join(self.coarse.select(_KEYS), on=_KEYS, how="anti")
        held = pl.concat([self.coarse, _stored(session.connection(), new)])
        self.coarse = combine(held, rows)
        if self.coarse.height > HELD_ROLLUP_ROWS:
            self.flush_coarse(session)

    def hold_emission(
        self,
        session: Session,
        ranges: Mapping[int, tuple[datetime, datetime]],
        fresh: pl.DataFrame | None,
        appended: Collection[int],
    ) -> dict[int, tuple[datetime, datetime]]:
        """Hold the analyser rows of ``fresh`` (``FrameOutcome.fresh_flags``) of the meters of
        ``ranges`` (written range per meter) that were appended; return the ranges of the
        others (their held rows written first), to be refreshed now."""
        held_now = set(appended) & set(ranges)
        if fresh is not None and held_now:
            held_now &= set(fresh.get_column("meter_id").unique().to_list())
        else:
            held_now = set()
        rest = {m: r for m, r in ranges.items() if m not in held_now}
        self.flush_emission(session, rest)
        if held_now and fresh is not None:
            rows = fresh.filter(pl.col("meter_id").is_in(sorted(held_now)))
            self.emission_rows.append(rows)
            self._emission_n += rows.height
            for m in held_now:
                lo, hi = ranges[m]
                old = self.emission_ranges.get(m, (lo, hi))
                self.emission_ranges[m] = (min(old[0], lo), max(old[1], hi))
        if self._emission_n > HELD_EMISSION_ROWS:
            self.flush_emission(session)
        return rest

    def flush(self, session: Session, meters: Iterable[int] | None = None) -> None:
        """Write what is held (of ``meters`` only, when given)."""
        self.flush_coarse(session, meters)
        self.flush_emission(session, meters)

    def flush_coarse(self, session: Session, meters: Iterable[int] | None = None) -> None:
        """Write the held day and month rows (of ``meters`` only, when given)."""
        rows = self.coarse
        if meters is not None:
            ids = sorted(set(meters))
            rows = rows.filter(pl.col("meter_id").is_in(ids))
            self.coarse = self.coarse.filter(~pl.col("meter_id").is_in(ids))
        else:
            self.coarse = self.coarse.clear()
        if rows.height == 0:
            return
        conn = session.connection()
        rows = rows.sort(_KEYS)
        if conn.dialect.name == "postgresql":
            pg_through_delta(conn, rows, _PG_WRITE)
            return
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.executemany(_SQLITE_WRITE, sqlite_rows(rows, ROLLUP_COLUMNS))

    def flush_emission(self, session: Session, meters: Iterable[int] | None = None) -> None:
        """Compute the hours of the held analyser rows (of ``meters`` only, when given)."""
        if not self.emission_ranges:
            return
        ids = set(self.emission_ranges) if meters is None else set(meters)
        ranges = {m: self.emission_ranges.pop(m) for m in sorted(ids & set(self.emission_ranges))}
        if not ranges:
            return
        held = pl.concat(self.emission_rows)
        keep = held.filter(~pl.col("meter_id").is_in(sorted(ranges)))
        self.emission_rows = [keep] if keep.height else []
        self._emission_n = keep.height
        rows = held.filter(pl.col("meter_id").is_in(sorted(ranges)))
        refresh_emission_hours(session, ranges, rows)
