"""Set-based rollup maintenance in SQL (PostgreSQL and SQLite >= 3.28).

The same rules as the row-by-row reference (:mod:`kilnwatch.store.rollups.reference`:
:func:`~kilnwatch.store.rollups.aggregate.hourly_aggregates`, ``counter_delta``,
``Agg.merge``), written as a few statements over all touched meters at once:

1. the touched ranges go into a temporary table ``kw_touched`` (per meter: hours
   ``[hour_lo, hour_hi)``, extended for counters to the hour of the next later reading, the
   raw timestamps ``[ts_lo, ts_hi)`` whose readings fall in those hours, the days and months
   around them, and the counter's previous value: ``last`` of the latest hourly rollup before
   the range);
2. hours: latest version per timestamp (``row_number()``), the previous value by ``lag()``
   (the stored previous value for the first reading), the counter delta with the roll-over /
   reset policy (:class:`~kilnwatch.domain.counters.CounterPolicy`), grouped by hour;
3. days from hours and months from days in the platform zone (PostgreSQL ``AT TIME ZONE``;
   SQLite: a registered function using the same Python period arithmetic).

Each grain is replaced (``DELETE`` + ``INSERT … SELECT``) within its touched range only.

Counter and interval readings close the interval ending at ``ts`` and belong to the period
containing ``ts - 1 µs`` (``shift = 1``;
:func:`~kilnwatch.store.rollups.attribution.reading_period`): their hours are ``(start, end]``,
so ``ts_lo = hour_lo + 1 µs`` and ``ts_hi = hour_hi + 1 µs``. Days and months are built from
hours by the hour's start, which keeps the same attribution.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import polars as pl
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from kilnwatch.domain.counters import CounterPolicy, register_top
from kilnwatch.store.dialects import (
    bound_timestamp,
    pg_binary_copy_data,
    sqlite_rows,
    sqlite_timestamp,
)
from kilnwatch.store.models.base import aware_utc
from kilnwatch.store.rollups.aggregate import PG_ROLLUP_TYPES, ROLLUP_COLUMNS, hour_rollups
from kilnwatch.store.rollups.attribution import (
    COARSER,
    HOUR,
    attribution_offset,
    covering_periods,
    period_start,
    touched_hours,
)

TOUCHED = "kw_touched"
_AGG = '"sum", "count", "min", "max", "first", "last", first_ts, last_ts, resets, rollovers'
_INSERT = f"INSERT INTO rollups (meter_id, grain, period_start, {_AGG})"
_TOUCHED_COLUMNS = ("meter_id", "counter", "shift", "hour_lo", "hour_hi", "ts_lo", "ts_hi",
                    "day_lo", "day_hi", "month_lo", "month_hi", "w_lo", "w_hi",
                    "cand")  # fmt: skip

_TOUCHED_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (
    meter_id integer PRIMARY KEY, counter smallint NOT NULL, shift smallint NOT NULL,
    hour_lo timestamptz, hour_hi timestamptz, ts_lo timestamptz, ts_hi timestamptz,
    day_lo timestamptz, day_hi timestamptz, month_lo timestamptz, month_hi timestamptz,
    w_lo timestamptz, w_hi timestamptz, cand smallint NOT NULL,
    fresh smallint NOT NULL DEFAULT 0, p0 double precision
)
"""
"""One DDL for both backends: SQLite reads the type names by affinity (``timestamptz`` is
NUMERIC like SQLAlchemy's ``DATETIME``, ``double precision`` REAL); PostgreSQL adds
``ON COMMIT DELETE ROWS``."""
_PREVIOUS = f"""
UPDATE {TOUCHED} SET p0 = (
    SELECT r."last" FROM rollups r
    WHERE r.meter_id = {TOUCHED}.meter_id AND r.grain = 'hour'
      AND r.period_start < {TOUCHED}.hour_lo
    ORDER BY r.period_start DESC LIMIT 1
) WHERE counter = 1
"""
_DELETE = """
DELETE FROM rollups WHERE grain = :grain AND EXISTS (
    SELECT 1 FROM {touched} t WHERE t.meter_id = rollups.meter_id
      AND rollups.period_start >= t.{g}_lo AND rollups.period_start < t.{g}_hi
)
"""
_ROLL = "prev >= :high * {top} AND value <= :low * {top}"
_HOURS = """
{insert}
SELECT meter_id, 'hour', hour, SUM(q), COUNT(*), MIN(q), MAX(q),
       MAX(CASE WHEN is_first = 1 THEN value END), MAX(CASE WHEN is_last = 1 THEN value END),
       MIN(ts), MAX(ts), SUM(is_reset), SUM(is_rollover)
FROM (
  SELECT meter_id, ts, value, hour, is_first, is_last,
    CASE WHEN counter = 0 THEN value
         WHEN prev IS NULL THEN 0.0
         WHEN value >= prev THEN value - prev
         WHEN {roll} THEN {top} - prev + value
         ELSE 0.0 END AS q,
    CASE WHEN counter = 1 AND prev IS NOT NULL AND value < prev AND NOT ({roll})
         THEN 1 ELSE 0 END AS is_reset,
    CASE WHEN counter = 1 AND prev IS NOT NULL AND value < prev AND ({roll})
         THEN 1 ELSE 0 END AS is_rollover
  FROM (
    SELECT v.meter_id, v.ts, v.value, v.hour, v.counter,
           COALESCE(lag(v.value) OVER w, v.p0) AS prev,
           CASE WHEN lag(v.hour) OVER w = v.hour THEN 0 ELSE 1 END AS is_first,
           CASE WHEN lead(v.hour) OVER w = v.hour THEN 0 ELSE 1 END AS is_last
    FROM (
      SELECT x.meter_id, x.ts, x.value, x.counter, x.p0, {hour} AS hour
      FROM (
        SELECT r.meter_id, r.ts, r.value, t.counter, t.shift, t.p0,
               row_number() OVER (PARTITION BY r.meter_id, r.ts ORDER BY r.version DESC) AS rn
        FROM readings r
        JOIN {touched} t ON r.meter_id = t.meter_id AND r.ts >= t.ts_lo AND r.ts < t.ts_hi
         AND t.fresh = 0
      ) x WHERE x.rn = 1
    ) v
    WINDOW w AS (PARTITION BY v.meter_id ORDER BY v.ts)
  ) s
) q
GROUP BY meter_id, hour
"""
_COARSE = """
{insert}
SELECT meter_id, :grain, p, SUM("sum"), SUM("count"), MIN("min"), MAX("max"),
       MAX(CASE WHEN rf = 1 THEN "first" END), MAX(CASE WHEN rl = 1 THEN "last" END),
       MIN(first_ts), MAX(last_ts), SUM(resets), SUM(rollovers)
FROM (
  SELECT y.*,
         row_number() OVER (PARTITION BY y.meter_id, y.p ORDER BY y.first_ts) AS rf,
         row_number() OVER (PARTITION BY y.meter_id, y.p ORDER BY y.last_ts DESC) AS rl
  FROM (
    SELECT r.meter_id, r."sum", r."count", r."min", r."max", r."first", r."last",
           r.first_ts, r.last_ts, r.resets, r.rollovers, {period} AS p
    FROM rollups r
    JOIN {touched} t ON r.meter_id = t.meter_id AND r.grain = :finer
     AND r.period_start >= t.{g}_lo AND r.period_start < t.{g}_hi
  ) y
) z
GROUP BY meter_id, p
"""

_PG_TOP = (
    "(CASE WHEN prev <= 0 THEN CAST(1 AS double precision)"
    " ELSE power(CAST(10 AS double precision), floor(log(prev)) + 1) END)"
)
_SQLITE_TOP = "kw_top(prev)"
_PG_HOUR = (
    "date_bin('1 hour', x.ts - x.shift * INTERVAL '1 microsecond',"
    " TIMESTAMPTZ '2000-01-01 00:00:00+00')"
)
_PG_WORK_MEM = "SET LOCAL work_mem = '64MB'"
"""Sorting 10^5..10^6 readings for the window functions in memory, for this transaction."""
_SQLITE_HOUR = (
    "(CASE WHEN x.shift = 1 AND substr(x.ts, 15) = '00:00.000000'"
    " THEN strftime('%Y-%m-%d %H', x.ts, '-1 hour') ELSE substr(x.ts, 1, 13) END"
    " || ':00:00.000000')"
)
"""The hour of ``ts - shift µs`` on SQLAlchemy's text form ``YYYY-MM-DD HH:MM:SS.ffffff``."""


def _pg_period(grain: str) -> str:
    return f"(date_trunc('{grain}', r.period_start AT TIME ZONE :tz) AT TIME ZONE :tz)"


def _sqlite_period(grain: str) -> str:
    return f"kw_period(r.period_start, '{grain}')"


def _register_sqlite_functions(conn: Connection, tz: tzinfo) -> None:
    """``kw_top`` (register capacity) and ``kw_period`` (local day/month start) for SQLite."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)

    def period(ts: str, grain: str) -> str:
        return sqlite_timestamp(period_start(aware_utc(ts), grain, tz))

    raw.create_function("kw_top", 1, register_top, deterministic=True)
    raw.create_function("kw_period", 2, period, deterministic=True)


_PG_NEXT = """
SELECT s.m, (SELECT MIN(r.ts) FROM readings r WHERE r.meter_id = s.m AND r.ts > s.t)
FROM unnest(CAST(%(m)s AS integer[]), CAST(%(t)s AS timestamptz[])) AS s(m, t)
"""
_SQLITE_NEXT = "SELECT MIN(ts) FROM readings WHERE meter_id = ? AND ts > ?"


def _next_readings(conn: Connection, after: Mapping[int, datetime]) -> dict[int, datetime]:
    """Per counter meter: the first stored reading later than ``after[meter]``.

    PostgreSQL: one statement for all meters; SQLite: one indexed query per meter.
    """
    if not after:
        return {}
    if conn.dialect.name == "postgresql":
        params = {"m": list(after), "t": list(after.values())}
        rows = conn.exec_driver_sql(_PG_NEXT, params).all()
        return {int(m): aware_utc(t) for m, t in rows if t is not None}
    found: dict[int, datetime] = {}
    for meter_id, start in after.items():
        value = conn.exec_driver_sql(_SQLITE_NEXT, (meter_id, sqlite_timestamp(start))).scalar()
        if value is not None:
            found[meter_id] = aware_utc(value)
    return found


TouchedRow = tuple[int, int, int, datetime, datetime, datetime, datetime, datetime, datetime,
                   datetime, datetime, datetime, datetime]  # fmt: skip
"""meter, counter, shift, hour_lo, hour_hi, ts_lo, ts_hi, day_lo, day_hi, month_lo, month_hi,
w_lo, w_hi (the written range)"""


def touched_bounds(
    conn: Connection,
    ranges: Mapping[int, tuple[datetime, datetime]],
    measurements: Mapping[int, str],
    tz: tzinfo,
) -> list[TouchedRow]:
    """Per meter: counter and shift flags, hour, raw-timestamp, day and month ranges.

    The hours are those of the written readings' periods
    (:func:`~kilnwatch.store.rollups.attribution.touched_hours`), extended
    for counters to the hour of the next later reading (its difference changed).
    """
    hours = {
        m: touched_hours(lo, hi, measurements.get(m, "instant")) for m, (lo, hi) in ranges.items()
    }
    counters = {m for m in ranges if measurements.get(m) == "counter"}
    # counter hours are (start, end]: the next reading is the first one after ``hour_hi``
    later = _next_readings(conn, {m: hours[m][1] for m in sorted(counters)})
    rows: list[TouchedRow] = []
    for m, (lo, hi) in sorted(hours.items()):
        if m in later:
            hi = max(hi, touched_hours(later[m], later[m], "counter")[1])
        shift = attribution_offset(measurements.get(m, "instant"))
        day, month = (covering_periods(lo, hi, grain, tz) for _, grain in COARSER)
        flags = (int(m in counters), int(shift > timedelta(0)))
        rows.append((m, *flags, lo, hi, lo + shift, hi + shift, *day, *month, *ranges[m]))
    return rows


def _load_touched(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """The touched table; ``rows`` end with ``cand`` (fast-path candidate, 0/1)."""
    pg = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(_TOUCHED_DDL + (" ON COMMIT DELETE ROWS" if pg else ""))
    conn.exec_driver_sql(f"DELETE FROM {TOUCHED}")
    names = ", ".join(_TOUCHED_COLUMNS)
    marks = ", ".join(f":{c}" for c in _TOUCHED_COLUMNS)
    params = [
        {c: (bound_timestamp(conn, v) if isinstance(v, datetime) else v)
         for c, v in zip(_TOUCHED_COLUMNS, row, strict=True)}
        for row in rows
    ]  # fmt: skip
    conn.execute(text(f"INSERT INTO {TOUCHED} ({names}) VALUES ({marks})"), params)
    conn.exec_driver_sql(_PREVIOUS)


def refresh_rollup_ranges(
    session: Session,
    ranges: Mapping[int, tuple[datetime, datetime]],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
    *,
    fresh: pl.DataFrame | None = None,
) -> None:
    """Recompute hour, day and month rollups of meters written within ``ranges[meter]``.

    ``fresh`` (``meter_id``, ``ts``, ``value``; :attr:`FrameOutcome.fresh
    <kilnwatch.store.staging.FrameOutcome.fresh>`): rows just stored as the only version of
    their timestamp. A meter of ``fresh`` whose touched hours hold no other stored reading
    (for counters: no later one either) gets its hours from memory
    (:func:`~kilnwatch.store.rollups.aggregate.hour_rollups`),
    the others are recomputed in SQL; days and months always come from the hours in SQL.
    """
    if not ranges:
        return
    policy = policy or CounterPolicy()
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.exec_driver_sql(_PG_WORK_MEM)
    else:
        _register_sqlite_functions(conn, tz)
    candidates = set() if fresh is None else set(fresh.get_column("meter_id").unique())
    bounds = touched_bounds(conn, ranges, measurements, tz)
    _load_touched(conn, [(*row, int(row[0] in candidates)) for row in bounds])
    if candidates:
        conn.exec_driver_sql(_MARK_FRESH)
    top = _PG_TOP if pg else _SQLITE_TOP
    hours = _HOURS.format(
        insert=_INSERT, roll=_ROLL.format(top=top), top=top, touched=TOUCHED,
        hour=_PG_HOUR if pg else _SQLITE_HOUR,
    )  # fmt: skip
    fractions = {"high": policy.rollover_high_fraction, "low": policy.rollover_low_fraction}
    conn.execute(text(_DELETE.format(touched=TOUCHED, g="hour")), {"grain": HOUR})
    conn.execute(text(hours), fractions)
    if candidates and fresh is not None:
        _insert_fresh_hours(conn, fresh, policy)
    zone = {"tz": getattr(tz, "key", str(tz))} if pg else {}
    for finer, grain in COARSER:
        period = _pg_period(grain) if pg else _sqlite_period(grain)
        coarse = _COARSE.format(insert=_INSERT, period=period, touched=TOUCHED, g=grain)
        conn.execute(text(_DELETE.format(touched=TOUCHED, g=grain)), {"grain": grain})
        conn.execute(text(coarse), {"grain": grain, "finer": finer, **zone})


# -- late data: only the touched hours ---------------------------------------------------

RUN_GAP = timedelta(hours=2)
"""Written readings further apart than this (at least one whole hour between them) are
recomputed as separate runs: the hours between them are not touched."""
MAX_RUNS = 32
"""Runs per meter recomputed one after the other at most; a meter with more (readings
scattered over many hours) is recomputed over its whole written range at once."""

Runs = dict[int, list[tuple[datetime, datetime]]]


def written_runs(written: pl.DataFrame, meters: Sequence[int]) -> Runs:
    """Per meter of ``meters``: its written timestamps (``written``: ``meter_id``, ``ts``) as
    runs ``(first, last)`` in time order, split where two are more than :data:`RUN_GAP` apart
    (one run, the whole range, when there would be more than :data:`MAX_RUNS`)."""
    if not meters or written.height == 0:
        return {}
    gap = pl.col("ts").diff().over("meter_id") > RUN_GAP
    runs = (
        written.filter(pl.col("meter_id").is_in(list(meters)))
        .sort("meter_id", "ts")
        .with_columns(gap.fill_null(False).cast(pl.Int64).cum_sum().over("meter_id").alias("run"))
        .group_by("meter_id", "run")
        .agg(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi"))
        .sort("meter_id", "run")
    )
    found: Runs = {}
    for meter_id, _, lo, hi in runs.iter_rows():
        found.setdefault(int(meter_id), []).append((lo, hi))
    for meter_id, spans in found.items():
        if len(spans) > MAX_RUNS:
            found[meter_id] = [(spans[0][0], spans[-1][1])]
    return found


def refresh_rollup_runs(
    session: Session,
    ranges: Mapping[int, tuple[datetime, datetime]],
    runs: Runs,
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
    *,
    fresh: pl.DataFrame | None = None,
) -> None:
    """:func:`refresh_rollup_ranges` of the touched hours only: a meter whose written
    readings form several runs (:func:`written_runs`) has each run recomputed in time order
    (its hours, then the days and months around them from the hours), not the hours between
    them — a late file for last month recomputes the hours, days and months it touches.

    In time order, every run's previous counter value (the last hourly rollup before it) and
    the next reading after it (a counter's changed difference) are already right when the
    run is recomputed; a day shared by two runs is recomputed after each. Meters with one
    run, or none in ``runs``, take ``ranges`` as before (and ``fresh`` applies to them only).
    """
    split = {m: runs[m] for m in ranges if len(runs.get(m, ())) > 1}
    first = {m: (split[m][0] if m in split else r) for m, r in ranges.items()}
    if fresh is not None and split:
        fresh = fresh.filter(~pl.col("meter_id").is_in(sorted(split)))
    refresh_rollup_ranges(session, first, measurements, tz, policy, fresh=fresh)
    depth = max((len(spans) for spans in split.values()), default=0)
    for k in range(1, depth):
        layer = {m: spans[k] for m, spans in split.items() if len(spans) > k}
        refresh_rollup_ranges(session, layer, measurements, tz, policy)


# -- hours of fresh ranges, from memory ------------------------------------------------------

_MARK_FRESH = f"""
UPDATE {TOUCHED} SET fresh = 1
WHERE cand = 1
  AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = {TOUCHED}.meter_id
                  AND r.ts >= {TOUCHED}.ts_lo AND r.ts < {TOUCHED}.w_lo)
  AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = {TOUCHED}.meter_id
                  AND r.ts > {TOUCHED}.w_hi AND r.ts < {TOUCHED}.ts_hi)
"""
"""A candidate is fresh when its touched hours hold no reading outside the rows just written
(the store found none inside them before writing); a counter's next later reading would lie in
its touched hours (:func:`touched_bounds`), so a fresh counter has none."""
_FRESH_METERS = f"SELECT meter_id, counter, shift, p0 FROM {TOUCHED} WHERE fresh = 1"


def _insert_fresh_hours(conn: Connection, fresh: pl.DataFrame, policy: CounterPolicy) -> None:
    """Insert the hours of the meters marked fresh (they have no hour rollup yet)."""
    marked = conn.exec_driver_sql(_FRESH_METERS).all()
    if not marked:
        return
    meters = pl.DataFrame(
        [tuple(r) for r in marked],
        schema={"meter_id": pl.Int64, "counter": pl.Int32, "shift": pl.Int64, "p0": pl.Float64},
        orient="row",
    )
    readings = fresh.join(meters.select("meter_id"), on="meter_id", how="semi")
    copy_rollups(conn, "rollups", hour_rollups(readings, meters, policy))


def copy_rollups(conn: Connection, table: str, rows: pl.DataFrame) -> None:
    """Insert ``rows`` (:data:`ROLLUP_COLUMNS`) into ``table`` (``rollups`` or a temporary
    table of its shape): PostgreSQL binary ``COPY``, SQLite ``executemany``."""
    names = ", ".join(f'"{c}"' for c in ROLLUP_COLUMNS)
    if conn.dialect.name == "postgresql":
        data = pg_binary_copy_data(rows, list(zip(ROLLUP_COLUMNS, PG_ROLLUP_TYPES, strict=True)))
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)
        return
    marks = ", ".join("?" for _ in ROLLUP_COLUMNS)
    raw_lite = conn.connection.driver_connection
    assert isinstance(raw_lite, sqlite3.Connection)
    values: Sequence[tuple[Any, ...]] = sqlite_rows(rows, ROLLUP_COLUMNS)
    raw_lite.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
