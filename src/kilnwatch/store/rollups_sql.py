"""Set-based rollup maintenance in SQL (PostgreSQL and SQLite >= 3.28).

The same rules as the Python reference in :mod:`kilnwatch.store.repos.rollups`
(:func:`~kilnwatch.store.repos.rollups.hourly_aggregates`, ``counter_delta``, ``Agg.merge``),
written as a few statements over all touched meters at once:

1. the touched ranges go into a temporary table ``kw_touched`` (per meter: hours
   ``[hour_lo, hour_hi)``, extended for counters to the hour of the next later reading, the
   days and months around them, and the counter's previous value: ``last`` of the latest
   hourly rollup before the range);
2. hours: latest version per timestamp (``row_number()``), the previous value by ``lag()``
   (the stored previous value for the first reading), the counter delta with the roll-over /
   reset policy (:class:`~kilnwatch.store.repos.rollups.CounterPolicy`), grouped by hour;
3. days from hours and months from days in the platform zone (PostgreSQL ``AT TIME ZONE``;
   SQLite: a registered function using the same Python period arithmetic).

Each grain is replaced (``DELETE`` + ``INSERT … SELECT``) within its touched range only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from kilnwatch.store.bulk import sqlite_timestamp
from kilnwatch.store.repos.rollups import (
    DAY,
    HOUR,
    MONTH,
    CounterPolicy,
    next_period,
    period_start,
    register_top,
)

TOUCHED = "kw_touched"
_ONE_HOUR = timedelta(hours=1)
_TINY = timedelta(microseconds=1)
_AGG = '"sum", "count", "min", "max", "first", "last", first_ts, last_ts, resets, rollovers'
_INSERT = f"INSERT INTO rollups (meter_id, grain, period_start, {_AGG})"
_TOUCHED_COLUMNS = ("meter_id", "counter", "hour_lo", "hour_hi", "day_lo", "day_hi",
                    "month_lo", "month_hi")  # fmt: skip

_PG_TOUCHED = f"""
CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (
    meter_id integer PRIMARY KEY, counter smallint NOT NULL,
    hour_lo timestamptz, hour_hi timestamptz, day_lo timestamptz, day_hi timestamptz,
    month_lo timestamptz, month_hi timestamptz, p0 double precision
) ON COMMIT DELETE ROWS
"""
_SQLITE_TOUCHED = f"""
CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (
    meter_id INTEGER PRIMARY KEY, counter SMALLINT NOT NULL,
    hour_lo DATETIME, hour_hi DATETIME, day_lo DATETIME, day_hi DATETIME,
    month_lo DATETIME, month_hi DATETIME, p0 FLOAT
)
"""
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
        SELECT r.meter_id, r.ts, r.value, t.counter, t.p0,
               row_number() OVER (PARTITION BY r.meter_id, r.ts ORDER BY r.version DESC) AS rn
        FROM readings r
        JOIN {touched} t ON r.meter_id = t.meter_id AND r.ts >= t.hour_lo AND r.ts < t.hour_hi
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
_PG_HOUR = "date_bin('1 hour', x.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
_PG_WORK_MEM = "SET LOCAL work_mem = '64MB'"
"""Sorting 10^5..10^6 readings for the window functions in memory, for this transaction."""
_SQLITE_HOUR = "(substr(x.ts, 1, 13) || ':00:00.000000')"


def _pg_period(grain: str) -> str:
    return f"(date_trunc('{grain}', r.period_start AT TIME ZONE :tz) AT TIME ZONE :tz)"


def _sqlite_period(grain: str) -> str:
    return f"kw_period(r.period_start, '{grain}')"


def _register_sqlite_functions(conn: Connection, tz: tzinfo) -> None:
    """``kw_top`` (register capacity) and ``kw_period`` (local day/month start) for SQLite."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)

    def period(ts: str, grain: str) -> str:
        aware = datetime.fromisoformat(ts).replace(tzinfo=UTC)
        return sqlite_timestamp(period_start(aware, grain, tz))

    raw.create_function("kw_top", 1, register_top, deterministic=True)
    raw.create_function("kw_period", 2, period, deterministic=True)


def _next_readings(conn: Connection, after: Mapping[int, datetime]) -> dict[int, datetime]:
    """Per counter meter: the first stored reading at or after ``after[meter]``."""
    found: dict[int, datetime] = {}
    stmt = text("SELECT MIN(ts) FROM readings WHERE meter_id = :m AND ts >= :t")
    for meter_id, start in after.items():
        value = conn.execute(stmt, {"m": meter_id, "t": _bind(conn, start)}).scalar()
        if value is not None:
            found[meter_id] = _aware(value)
    return found


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bind(conn: Connection, ts: datetime) -> datetime | str:
    return ts if conn.dialect.name == "postgresql" else sqlite_timestamp(ts)


def touched_bounds(
    conn: Connection,
    ranges: Mapping[int, tuple[datetime, datetime]],
    counters: set[int],
    tz: tzinfo,
) -> list[tuple[int, int, datetime, datetime, datetime, datetime, datetime, datetime]]:
    """Per meter: counter flag, hour, day and month ranges to recompute."""
    hours = {
        m: (period_start(lo, HOUR, UTC), period_start(hi, HOUR, UTC) + _ONE_HOUR)
        for m, (lo, hi) in ranges.items()
    }
    later = _next_readings(conn, {m: hours[m][1] for m in hours if m in counters})
    rows = []
    for m, (lo, hi) in sorted(hours.items()):
        if m in later:
            hi = max(hi, period_start(later[m], HOUR, UTC) + _ONE_HOUR)
        day = (period_start(lo, DAY, tz), next_period(period_start(hi - _TINY, DAY, tz), DAY, tz))
        month = (
            period_start(lo, MONTH, tz),
            next_period(period_start(hi - _TINY, MONTH, tz), MONTH, tz),
        )
        rows.append((m, int(m in counters), lo, hi, *day, *month))
    return rows


def _load_touched(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    pg = conn.dialect.name == "postgresql"
    conn.exec_driver_sql(_PG_TOUCHED if pg else _SQLITE_TOUCHED)
    conn.exec_driver_sql(f"DELETE FROM {TOUCHED}")
    names = ", ".join(_TOUCHED_COLUMNS)
    marks = ", ".join(f":{c}" for c in _TOUCHED_COLUMNS)
    params = [
        {c: (_bind(conn, v) if isinstance(v, datetime) else v)
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
) -> None:
    """Recompute hour, day and month rollups of meters written within ``ranges[meter]``."""
    if not ranges:
        return
    policy = policy or CounterPolicy()
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.exec_driver_sql(_PG_WORK_MEM)
    else:
        _register_sqlite_functions(conn, tz)
    counters = {m for m in ranges if measurements.get(m) == "counter"}
    _load_touched(conn, list(touched_bounds(conn, ranges, counters, tz)))
    top = _PG_TOP if pg else _SQLITE_TOP
    hours = _HOURS.format(
        insert=_INSERT, roll=_ROLL.format(top=top), top=top, touched=TOUCHED,
        hour=_PG_HOUR if pg else _SQLITE_HOUR,
    )  # fmt: skip
    fractions = {"high": policy.rollover_high_fraction, "low": policy.rollover_low_fraction}
    conn.execute(text(_DELETE.format(touched=TOUCHED, g="hour")), {"grain": HOUR})
    conn.execute(text(hours), fractions)
    zone = {"tz": getattr(tz, "key", str(tz))} if pg else {}
    for finer, grain in ((HOUR, DAY), (DAY, MONTH)):
        period = _pg_period(grain) if pg else _sqlite_period(grain)
        coarse = _COARSE.format(insert=_INSERT, period=period, touched=TOUCHED, g=grain)
        conn.execute(text(_DELETE.format(touched=TOUCHED, g=grain)), {"grain": grain})
        conn.execute(text(coarse), {"grain": grain, "finer": finer, **zone})
