"""The hourly rollup of monitored analysers (``emission_hours``), kept at ingest.

The emissions figures (HJ 75-2017 valid hours, amounts, substitution, exceedances: pages,
reports, API) need each reading's HJ 212 flag, so the per-meter ``rollups`` (sum, count, min,
max) do not serve them. For the meters of ``reference.emissions.MONITORED_CARRIERS`` the store
keeps one row per meter and clock hour ``(h, h + 1 h]`` with what the hourly rules need
(:func:`kilnwatch.domain.emissions.hour_counts`: readings, valid and stop-flagged ones, the
sums of the valid and of all values added in time order, the spacings within the hour).

Maintenance follows the rollups' recompute (:mod:`kilnwatch.store.rollups.recompute`): a write
touches the hours holding the written readings (a reading's flag, value or a new time stamp
changes its own hour only: the spacings counted are those within the hour), and those hours are
recomputed from the raw rows of just those hours (latest version per time stamp), in the
writing transaction (:func:`refresh_emission_hours`, called by the ingest pipeline after the
rollups). :func:`rebuild_emission_hours` recomputes a meter's whole history (migration
``0063``, ``kilnwatch db emission-hours``).

Hours are UTC clock hours; a period that starts on a whole UTC hour (a local day in a zone
whose offset is a whole number of hours, such as Asia/Shanghai) is a run of them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from kilnwatch.domain.emissions import HOUR_S, HourCounts, hour_counts
from kilnwatch.reference.emissions import MONITORED_CARRIERS
from kilnwatch.store.dialects import PG_EPOCH_S, SQLITE_EPOCH_S, bound_timestamp, sqlite_timestamp
from kilnwatch.store.models import Meter, Reading
from kilnwatch.store.models.base import aware_utc

HourSpan = tuple[int, int]
"""First and last hour start [s since epoch] of a meter's touched hours."""
REBUILD_HOURS = 31 * 24
"""Hours recomputed per step of :func:`rebuild_emission_hours` (bounds the rows in memory)."""

_PG_READ = f"""
SELECT r.meter_id, {PG_EPOCH_S.format(col="r.ts")}, r.value, COALESCE(r.flag, '')
FROM unnest(CAST(%(m)s AS integer[]), CAST(%(lo)s AS timestamptz[]),
            CAST(%(hi)s AS timestamptz[])) AS t(m, lo, hi)
JOIN readings r ON r.meter_id = t.m AND r.ts > t.lo AND r.ts <= t.hi
WHERE r.ts > %(first)s AND r.ts <= %(last)s
ORDER BY r.meter_id, r.ts, r.version
"""
"""Every version of the readings of the touched hours (the constant bounds prune the monthly
partitions)."""
_SQLITE_READ = f"""
SELECT meter_id, {SQLITE_EPOCH_S.format(col="ts")}, value, COALESCE(flag, '')
FROM readings WHERE meter_id = ? AND ts > ? AND ts <= ? ORDER BY ts, version
"""
_DELETE = (
    "DELETE FROM emission_hours WHERE meter_id = :m AND period_start >= :lo AND period_start <= :hi"
)


def monitored(carriers: Mapping[int, str]) -> set[int]:
    """The meters of ``carriers`` (meter id -> carrier) the rollup is kept for."""
    return {m for m, c in carriers.items() if c in MONITORED_CARRIERS}


def _hour_start(epoch_s: int) -> int:
    """Start of the hour ``(h, h + 1 h]`` holding a reading stamped ``epoch_s``."""
    return ((epoch_s - 1) // HOUR_S) * HOUR_S


def touched_hours(lo: datetime, hi: datetime) -> HourSpan:
    """The hours holding readings written between ``lo`` and ``hi`` (a reading's second is
    rounded by the database: both neighbours are taken)."""
    return (
        _hour_start(math.floor(lo.timestamp())),
        _hour_start(math.ceil(hi.timestamp())),
    )


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


Rows = dict[int, tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.object_]]]


def _latest(rows: Sequence[Sequence[Any]]) -> Rows:
    """Per meter: time stamps, values, flags of the latest version per second, from rows
    (meter, epoch second, value, flag) ordered by (meter, ts, version)."""
    if not rows:
        return {}
    meter = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    ts_s = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    value = np.fromiter((r[2] for r in rows), np.float64, len(rows))
    flag = np.array([r[3] for r in rows], dtype=object)
    return _split_latest(meter, ts_s, value, flag)


def _split_latest(
    meter: NDArray[np.int64], ts_s: NDArray[np.int64], value: NDArray[np.float64],
    flag: NDArray[np.object_],
) -> Rows:  # fmt: skip
    """Arrays ordered by (meter, ts, version) split by meter, the last row per second kept."""
    if meter.size == 0:
        return {}
    last = np.ones(meter.size, dtype=bool)
    last[:-1] = (meter[1:] != meter[:-1]) | (ts_s[1:] != ts_s[:-1])
    meter, ts_s, value, flag = meter[last], ts_s[last], value[last], flag[last]
    cuts = np.flatnonzero(np.diff(meter)) + 1
    out: Rows = {}
    for part in np.split(np.arange(meter.size), cuts):
        out[int(meter[part[0]])] = (ts_s[part], value[part], flag[part])
    return out


def _in_memory(rows: pl.DataFrame) -> Rows:
    """The rows of ``FrameOutcome.fresh_flags`` as :data:`Rows` (seconds rounded half up, as
    the database rounds them)."""
    rows = rows.sort("meter_id", "ts")
    micros = rows.get_column("ts").dt.epoch("us").to_numpy().astype(np.int64)
    return _split_latest(
        rows.get_column("meter_id").to_numpy().astype(np.int64),
        (micros + 500_000) // 1_000_000,
        rows.get_column("value").to_numpy().astype(np.float64),
        rows.get_column("flag").fill_null("").to_numpy().astype(object),
    )


def _read(conn: Connection, spans: Mapping[int, HourSpan]) -> Rows:
    """The readings of each meter's touched hours (a second of margin on each side: the
    hour of a reading is found from its rounded second)."""
    bounds = {m: (_at(lo - 1), _at(hi + HOUR_S + 1)) for m, (lo, hi) in spans.items()}
    raw = conn.connection.driver_connection  # plain tuples: no result processing per row
    assert raw is not None
    if conn.dialect.name == "postgresql":
        ids = sorted(bounds)
        params = {
            "m": ids,
            "lo": [bounds[m][0] for m in ids],
            "hi": [bounds[m][1] for m in ids],
            "first": min(b[0] for b in bounds.values()),
            "last": max(b[1] for b in bounds.values()),
        }
        with raw.cursor() as cursor:
            cursor.execute(_PG_READ, params)
            return _latest(cursor.fetchall())
    found: list[Sequence[Any]] = []
    for m in sorted(bounds):
        lo, hi = (sqlite_timestamp(b) for b in bounds[m])
        found += raw.execute(_SQLITE_READ, (m, lo, hi)).fetchall()
    return _latest(found)


def steps_text(counts: HourCounts) -> list[str]:
    """Per hour: its spacings as ``"spacing:count"`` entries, by spacing, comma-separated."""
    out: list[list[str]] = [[] for _ in range(counts.n_hours)]
    for h, step, n in zip(counts.step_hour.tolist(), counts.step_s.tolist(),
                          counts.step_count.tolist(), strict=True):  # fmt: skip
        out[h].append(f"{step}:{n}")
    return [",".join(entries) for entries in out]


COLUMNS = ("meter_id", "period_start", "readings", "valid", "stopped", "valid_sum", "total",
           "steps")  # fmt: skip
"""Columns of an ``emission_hours`` row, in the order of :func:`_rows`."""
_PG_TYPES = ("int4", "timestamptz", "int4", "int4", "int4", "float8", "float8", "text")
_NAMES = ", ".join(COLUMNS)


def _rows(meter_id: int, first_s: int, counts: HourCounts) -> list[tuple[Any, ...]]:
    steps = steps_text(counts)
    readings, valid, stopped = (a.tolist() for a in (counts.readings, counts.valid,
                                                     counts.stopped))  # fmt: skip
    valid_sum, total = counts.valid_sum.tolist(), counts.total.tolist()
    return [
        (meter_id, _at(first_s + i * HOUR_S), readings[i], valid[i], stopped[i], valid_sum[i],
         total[i], steps[i])
        for i in np.flatnonzero(counts.readings > 0).tolist()
    ]  # fmt: skip


def _insert(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: binary ``COPY``; SQLite: ``executemany`` (time stamps as stored text)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            sql = f"COPY emission_hours ({_NAMES}) FROM STDIN (FORMAT binary)"
            with cursor.copy(sql) as copy:
                copy.set_types(_PG_TYPES)
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join("?" for _ in COLUMNS)
    raw.executemany(
        f"INSERT INTO emission_hours ({_NAMES}) VALUES ({marks})",
        [(r[0], sqlite_timestamp(r[1]), *r[2:]) for r in rows],
    )


def _delete(conn: Connection, spans: Mapping[int, HourSpan]) -> None:
    if spans:
        conn.execute(
            text(_DELETE),
            [{"m": m, "lo": bound_timestamp(conn, _at(lo)), "hi": bound_timestamp(conn, _at(hi))}
             for m, (lo, hi) in sorted(spans.items())],
        )  # fmt: skip


def recompute_hours(session: Session, spans: Mapping[int, HourSpan]) -> int:
    """Replace the rows of each meter's hours ``spans[meter]`` (first and last hour start)
    by their recomputation from the readings (no commit); return the rows written."""
    if not spans:
        return 0
    conn = session.connection()
    found = _read(conn, spans)
    _delete(conn, spans)
    rows: list[tuple[Any, ...]] = []
    for m, (lo, hi) in sorted(spans.items()):
        if m in found:
            ts_s, value, flag = found[m]
            n_hours = (hi - lo) // HOUR_S + 1
            rows += _rows(m, lo, hour_counts(ts_s, value, flag, lo, n_hours))
    if rows:
        _insert(conn, rows)
    return len(rows)


def refresh_emission_hours(
    session: Session,
    ranges: Mapping[int, tuple[datetime, datetime]],
    fresh: pl.DataFrame | None = None,
) -> int:
    """Recompute the hours of the written readings: ``ranges[meter]`` is the first and last
    time stamp written (``FrameOutcome.ranges`` of the monitored meters); no commit. Returns
    the rows written.

    ``fresh`` (``FrameOutcome.fresh_flags``): rows just stored as the only readings within
    their meter's [first, last] written time stamps. Such a meter's hours strictly between the
    first and the last hour hold nothing else, so they are computed from these rows in memory;
    only its first and last hour are recomputed from the database (they may hold readings
    stored before, outside that range). A bulk load is not read back.
    """
    spans = {m: touched_hours(lo, hi) for m, (lo, hi) in ranges.items()}
    memory: Rows = {}
    if fresh is not None and spans:
        memory = _in_memory(fresh.filter(pl.col("meter_id").is_in(list(spans))))
    if not memory:
        return recompute_hours(session, spans)
    rows: list[tuple[Any, ...]] = []
    inner: dict[int, HourSpan] = {}
    for m, (ts_s, value, flag) in memory.items():
        lo, hi = spans[m]
        if hi - lo >= 2 * HOUR_S:
            inner[m] = (lo + HOUR_S, hi - HOUR_S)
            n_hours = (hi - lo) // HOUR_S - 1
            rows += _rows(m, lo + HOUR_S, hour_counts(ts_s, value, flag, lo + HOUR_S, n_hours))
    conn = session.connection()
    _delete(conn, inner)
    if rows:
        _insert(conn, rows)
    edges = {m: s for m, s in spans.items() if m not in inner}
    firsts = {m: (spans[m][0], spans[m][0]) for m in inner}
    lasts = {m: (spans[m][1], spans[m][1]) for m in inner}
    return len(rows) + sum(recompute_hours(session, part) for part in (edges, firsts, lasts))


def rebuild_emission_hours(session: Session, meter_ids: Iterable[int] | None = None) -> int:
    """Recompute the whole history of ``meter_ids`` (default: every monitored meter), a month
    of hours at a time (no commit). Returns the rows written."""
    stmt = select(Meter.id).where(Meter.carrier.in_(sorted(MONITORED_CARRIERS)))
    if meter_ids is not None:
        stmt = stmt.where(Meter.id.in_(list(meter_ids)))
    ids = sorted(session.scalars(stmt))
    spans = session.execute(
        select(Reading.meter_id, func.min(Reading.ts), func.max(Reading.ts))
        .where(Reading.meter_id.in_(ids))
        .group_by(Reading.meter_id)
    ).all()
    steps: dict[int, dict[int, HourSpan]] = defaultdict(dict)
    for m, lo, hi in spans:
        first, last = touched_hours(aware_utc(lo), aware_utc(hi))
        for k, start in enumerate(range(first, last + HOUR_S, REBUILD_HOURS * HOUR_S)):
            steps[k][m] = (start, min(last, start + (REBUILD_HOURS - 1) * HOUR_S))
    written = 0
    for k in sorted(steps):
        written += recompute_hours(session, steps[k])
    return written


__all__ = [
    "monitored",
    "rebuild_emission_hours",
    "recompute_hours",
    "refresh_emission_hours",
    "steps_text",
    "touched_hours",
]
