"""Set-based storage of a validated frame of readings (the vectorised bulk path).

A Polars frame (:data:`FRAME_SCHEMA`) is written in as few statements as the data allows:

* **rounds**: several values for one (meter, ts) in one frame become versions in the order
  received (consecutive equal values collapse), one value per key per round;
* **fast path**: the meters of the first round whose time range in the frame holds no stored
  reading yet (most bulk loads) go straight into ``readings`` as version 1 (PostgreSQL
  ``COPY``, SQLite ``executemany``): no join, nothing to compare;
* **staging**: the other rows are loaded into a temporary table (``COPY`` / ``executemany``)
  and one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` stores what is new (version 1) or
  differs from the latest stored version (version = latest + 1); exact duplicates are left
  out. The counts come back per (batch, meter), not per row;
* **repeats**: a row equal to the one before it for its (meter, ts) in the frame, or to the
  latest stored version, is not stored as a reading but leaves a row in
  ``delivery_repeats`` (meter, ts, batch, received_at), the evidence of the repeated
  delivery for ``verify.timeseries.duplicates``. On the staging path the same statement
  that moves the changed rows writes them (PostgreSQL: one data-modifying ``WITH``); the
  fast path has no stored row to repeat, so it does no extra work.

The caller serialises writers of the same meters (:func:`kilnwatch.store.locks.lock_meters`):
under those locks the "no stored reading in the range" check and the insert are one atomic
step, and the primary key (meter, ts, version) stops any remaining race on the staging path.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from kilnwatch.store.dialects import (
    PG_FROM_EPOCH_US,
    pg_binary_copy_parts,
    pg_int_array,
    sqlite_insert,
    sqlite_timestamp,
)
from kilnwatch.store.models.base import aware_utc
from kilnwatch.store.partitions import ensure_for_frame

STAGE_TABLE = "kw_staged"
UTC_US = pl.Datetime("us", "UTC")
FRAME_SCHEMA: dict[str, Any] = {
    "meter_id": pl.Int64,
    "ts": UTC_US,
    "value": pl.Float64,
    "flag": pl.Utf8,
    "source": pl.Int64,
    "batch_id": pl.Int64,
    "received_at": UTC_US,
    "part": pl.Int64,
}
_KEYS = ["meter_id", "ts"]
_STAGE_COLUMNS = ("meter_id", "ts", "value", "flag", "source", "batch_id", "received_at",
                  "part")  # fmt: skip
_READING_COLUMNS = ("meter_id", "ts", "version", "value", "flag", "source", "batch_id",
                    "received_at")  # fmt: skip
_REPEAT_COLUMNS = ("meter_id", "ts", "batch_id", "received_at")
REPEATS_TABLE = "delivery_repeats"

_PG_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} (
    meter_id integer NOT NULL, ts timestamptz NOT NULL, value double precision NOT NULL,
    flag varchar(2), source smallint NOT NULL, batch_id bigint, received_at timestamptz NOT NULL,
    part bigint
) ON COMMIT DELETE ROWS
"""
_SQLITE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} (
    meter_id INTEGER NOT NULL, ts DATETIME NOT NULL, value FLOAT NOT NULL, flag VARCHAR(2),
    source SMALLINT NOT NULL, batch_id INTEGER, received_at DATETIME NOT NULL, part INTEGER
)
"""
_SQLITE_MOVED = """
CREATE TEMP TABLE IF NOT EXISTS kw_moved (
    meter_id INTEGER NOT NULL, ts DATETIME NOT NULL, version INTEGER NOT NULL,
    value FLOAT NOT NULL, flag VARCHAR(2), source SMALLINT NOT NULL, batch_id INTEGER,
    received_at DATETIME NOT NULL, part INTEGER, same INTEGER NOT NULL
)
"""
#: Every staged row with its next version and whether it equals the latest stored version.
_SELECT_STAGED = f"""
SELECT i.meter_id, i.ts, COALESCE(l.version, 0) + 1 AS version, i.value, i.flag, i.source,
       i.batch_id, i.received_at, i.part,
       CASE WHEN l.version IS NOT NULL AND l.value = i.value THEN 1 ELSE 0 END AS same
FROM {STAGE_TABLE} AS i
LEFT JOIN (
    SELECT r.meter_id, r.ts, r.version, r.value
    FROM readings AS r
    JOIN (
        SELECT r2.meter_id, r2.ts, MAX(r2.version) AS version
        FROM readings AS r2
        JOIN {STAGE_TABLE} AS k ON k.meter_id = r2.meter_id AND k.ts = r2.ts
        GROUP BY r2.meter_id, r2.ts
    ) AS m ON m.meter_id = r.meter_id AND m.ts = r.ts AND m.version = r.version
) AS l ON l.meter_id = i.meter_id AND l.ts = i.ts
"""
_COLS = ", ".join(_READING_COLUMNS)
_REPEAT_COLS = ", ".join(_REPEAT_COLUMNS)
_PG_MOVE = f"""
WITH c AS MATERIALIZED ({_SELECT_STAGED}),
rep AS (
    INSERT INTO {REPEATS_TABLE} ({_REPEAT_COLS})
    SELECT {_REPEAT_COLS} FROM c WHERE c.same = 1
),
ins AS (
    INSERT INTO readings ({_COLS})
    SELECT {_COLS} FROM c WHERE c.same = 0
    ON CONFLICT DO NOTHING
    RETURNING meter_id, ts, version
)
SELECT p.part, ins.meter_id, COUNT(*), SUM(CASE WHEN ins.version > 1 THEN 1 ELSE 0 END),
       MIN(ins.ts), MAX(ins.ts)
FROM ins JOIN {STAGE_TABLE} AS p ON p.meter_id = ins.meter_id AND p.ts = ins.ts
GROUP BY p.part, ins.meter_id
"""
_SQLITE_MOVE = (
    f"INSERT INTO kw_moved ({_COLS}, part, same) {_SELECT_STAGED}",
    f"INSERT INTO {REPEATS_TABLE} ({_REPEAT_COLS}) SELECT {_REPEAT_COLS} FROM kw_moved "
    "WHERE same = 1",
    f"INSERT INTO readings ({_COLS}) SELECT {_COLS} FROM kw_moved WHERE same = 0 "
    "ON CONFLICT DO NOTHING",
)
_SQLITE_COUNT = """
SELECT part, meter_id, COUNT(*), SUM(CASE WHEN version > 1 THEN 1 ELSE 0 END),
       MIN(ts), MAX(ts)
FROM kw_moved WHERE same = 0 GROUP BY part, meter_id
"""
_PG_PROBE = f"""
SELECT s.m,
       EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = s.m AND r.ts >= s.lo
               AND r.ts <= s.hi),
       (SELECT r.value FROM readings r WHERE r.meter_id = s.m AND r.ts < s.lo
        ORDER BY r.ts DESC, r.version DESC LIMIT 1),
       EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = s.m AND r.ts > s.hi)
FROM (
    SELECT u.m, {PG_FROM_EPOCH_US.format("u.lo")} AS lo, {PG_FROM_EPOCH_US.format("u.hi")} AS hi
    FROM unnest(CAST(%(m)s AS integer[]), CAST(%(lo)s AS bigint[]),
                CAST(%(hi)s AS bigint[])) AS u(m, lo, hi)
) AS s
"""
_SQLITE_OVERLAP = "SELECT 1 FROM readings WHERE meter_id = ? AND ts >= ? AND ts <= ? LIMIT 1"
_SQLITE_PREVIOUS = (
    "SELECT value FROM readings WHERE meter_id = ? AND ts < ? ORDER BY ts DESC, version DESC "
    "LIMIT 1"
)
_SQLITE_LATER = "SELECT 1 FROM readings WHERE meter_id = ? AND ts > ? LIMIT 1"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

StoredState = tuple[float | None, bool]
"""Of a meter before a write: the latest value stored before the new rows' first timestamp
(None: nothing before), and whether a reading later than their last one is stored."""


@dataclass
class FrameOutcome:
    """What :func:`store_frame` stored: counts per ``part``, time range per meter."""

    accepted: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    corrections: dict[int | None, int] = field(default_factory=lambda: defaultdict(int))
    ranges: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    direct_rows: int = 0
    repeats_in_frame: int = 0
    """Rows equal to the one before them for their (meter, ts) within the frame (recorded
    in ``delivery_repeats`` like repeats of stored values)."""
    fresh: pl.DataFrame | None = None
    """Rows (``meter_id``, ``ts``, ``value``) stored as version 1 by the fast path, of meters
    with no other row in this frame: their rollups can be computed from memory
    (:func:`kilnwatch.store.rollups.recompute.refresh_rollup_ranges`)."""
    staged_new: dict[int, int] = field(default_factory=dict)
    """Meters of the staging path whose stored rows are all new timestamps (version 1, no
    correction; frames with one value per key only): how many. Their rows are read back by
    :func:`staged_new_rows` while the transaction lasts (the late-insert fold of rollups)."""
    written: pl.DataFrame | None = None
    """``meter_id``, ``ts`` of every row of the frame (stored or repeated): which hours late
    data touched (:func:`kilnwatch.store.rollups.recompute.written_runs`)."""
    fresh_flags: pl.DataFrame | None = None
    """The rows of :attr:`fresh` with their flags (``meter_id``, ``ts``, ``value``, ``flag``):
    the hourly rollup of monitored analysers is computed from them
    (:func:`kilnwatch.store.rollups.emission_hours.refresh_emission_hours`)."""
    fresh_state: dict[int, StoredState] = field(default_factory=dict)
    """For each meter of :attr:`fresh`: what was stored around its new rows before the write
    (read by the same statement that found the range free; the write does not change it)."""

    @property
    def inserted(self) -> int:
        """Rows written to ``readings`` (new values and corrections)."""
        return sum(self.accepted.values())

    def add(self, part: int | None, meter_id: int, n: int, corrected: int,
            lo: datetime, hi: datetime) -> None:  # fmt: skip
        """Count ``n`` rows of ``meter_id`` stored for ``part`` within [lo, hi]."""
        self.accepted[part] += n
        self.corrections[part] += corrected
        old = self.ranges.get(meter_id)
        self.ranges[meter_id] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


def empty_frame() -> pl.DataFrame:
    """A frame of :data:`FRAME_SCHEMA` with no rows."""
    return pl.DataFrame(schema=FRAME_SCHEMA)


def split_frame_rounds(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Rounds with at most one row per (meter, ts); consecutive equal values collapse."""
    return _split_rounds(frame)[0]


def _split_rounds(frame: pl.DataFrame) -> tuple[list[pl.DataFrame], pl.DataFrame | None]:
    """The rounds of :func:`split_frame_rounds` and the rows collapsed (repeats), if any."""
    if frame.height == 0:
        return [], None
    if not frame.select(pl.struct(_KEYS).is_duplicated().any()).item():
        return [frame], None
    previous = pl.col("value").shift(1).over(_KEYS)
    marked = frame.with_columns((previous.is_null() | (pl.col("value") != previous)).alias("_new"))
    kept = marked.filter(pl.col("_new")).drop("_new")
    repeats = marked.filter(~pl.col("_new")).drop("_new")
    numbered = kept.with_columns(pl.int_range(pl.len()).over(_KEYS).alias("_round"))
    depth = numbered.height and int(numbered.get_column("_round").max()) + 1  # type: ignore[arg-type]
    rounds = [numbered.filter(pl.col("_round") == i).drop("_round") for i in range(depth)]
    return rounds, repeats if repeats.height else None


def _record_repeats(conn: Connection, repeats: pl.DataFrame) -> None:
    """Rows of the frame that repeat the value before them: evidence in delivery_repeats."""
    if conn.dialect.name == "postgresql":
        _pg_copy(conn, REPEATS_TABLE, _REPEAT_COLUMNS, repeats)
    else:
        _sqlite_insert(conn, REPEATS_TABLE, _REPEAT_COLUMNS, repeats)


def _meter_ranges(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("meter_id").agg(
        pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
    )


def _probe(conn: Connection, frame: pl.DataFrame) -> dict[int, tuple[bool, StoredState]]:
    """:func:`probe_ranges` of each meter's time range in ``frame``."""
    ranges = _meter_ranges(frame)
    return probe_ranges(
        conn, ranges["meter_id"].to_list(), ranges["lo"].to_list(), ranges["hi"].to_list()
    )


def probe_ranges(
    conn: Connection, ids: Sequence[int], los: Sequence[datetime], his: Sequence[datetime]
) -> dict[int, tuple[bool, StoredState]]:
    """Per meter ``ids[i]``: whether a stored reading lies in [``los[i]``, ``his[i]``], and
    its :data:`StoredState` around that range (one statement on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        params = {
            "m": pg_int_array(ids),
            "lo": pg_int_array((t - _EPOCH) // _MICROSECOND for t in los),
            "hi": pg_int_array((t - _EPOCH) // _MICROSECOND for t in his),
        }
        rows = conn.exec_driver_sql(_PG_PROBE, params).all()
        return {
            int(m): (bool(busy), (None if prev is None else float(prev), bool(later)))
            for m, busy, prev, later in rows
        }
    found: dict[int, tuple[bool, StoredState]] = {}
    for m, lo, hi in zip(ids, los, his, strict=True):
        lo_text, hi_text = sqlite_timestamp(lo), sqlite_timestamp(hi)
        busy = conn.exec_driver_sql(_SQLITE_OVERLAP, (m, lo_text, hi_text)).first() is not None
        prev = conn.exec_driver_sql(_SQLITE_PREVIOUS, (m, lo_text)).scalar()
        later = conn.exec_driver_sql(_SQLITE_LATER, (m, hi_text)).first() is not None
        found[int(m)] = (busy, (None if prev is None else float(prev), later))
    return found


_PG_TYPES = {"meter_id": "int4", "ts": "timestamptz", "version": "int2", "value": "float8",
             "flag": "text", "source": "int2", "batch_id": "int8", "received_at": "timestamptz",
             "part": "int8"}  # fmt: skip


def _pg_copy(conn: Connection, table: str, columns: tuple[str, ...], frame: pl.DataFrame) -> None:
    """``COPY (FORMAT binary)``: no text formatting here, no text parsing in the server."""
    parts = pg_binary_copy_parts(frame, [(c, _PG_TYPES[c]) for c in columns])
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
        with cursor.copy(sql) as copy:
            for part in parts:
                copy.write(part)


def _sqlite_insert(conn: Connection, table: str, columns: tuple[str, ...],
                   frame: pl.DataFrame) -> None:  # fmt: skip
    raw = conn.connection.driver_connection
    assert raw is not None
    sqlite_insert(raw, table, columns, frame)


def _insert_direct(conn: Connection, frame: pl.DataFrame, outcome: FrameOutcome) -> None:
    """Rows of meters with no stored reading in range: version 1, straight into readings."""
    rows = frame.with_columns(pl.lit(1, pl.Int64).alias("version"))
    if conn.dialect.name == "postgresql":
        _pg_copy(conn, "readings", _READING_COLUMNS, rows)
    else:
        _sqlite_insert(conn, "readings", _READING_COLUMNS, rows)
    counts = frame.group_by("part", "meter_id").agg(
        pl.len().alias("n"), pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")
    )
    for part, meter_id, n, lo, hi in counts.iter_rows():
        outcome.add(part, meter_id, n, 0, lo, hi)
    outcome.direct_rows += frame.height


def _move_staged(conn: Connection, frame: pl.DataFrame, outcome: FrameOutcome) -> None:
    """Stage ``frame`` (one round) and move what is new or changed into readings."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_STAGE)
        conn.exec_driver_sql(f"TRUNCATE {STAGE_TABLE}")
        _pg_copy(conn, STAGE_TABLE, _STAGE_COLUMNS, frame)
        conn.exec_driver_sql(f"ANALYZE {STAGE_TABLE}")
        rows = conn.exec_driver_sql(_PG_MOVE).all()
    else:
        conn.exec_driver_sql(_SQLITE_STAGE)
        conn.exec_driver_sql(_SQLITE_MOVED)
        conn.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")
        conn.exec_driver_sql("DELETE FROM kw_moved")
        _sqlite_insert(conn, STAGE_TABLE, _STAGE_COLUMNS, frame)
        for statement in _SQLITE_MOVE:
            conn.exec_driver_sql(statement)
        rows = conn.exec_driver_sql(_SQLITE_COUNT).all()
    corrected_by_meter: dict[int, int] = defaultdict(int)
    for part, meter_id, n, corrected, lo, hi in rows:
        key = None if part is None else int(part)
        outcome.add(key, int(meter_id), int(n), int(corrected or 0), aware_utc(lo), aware_utc(hi))
        outcome.staged_new[int(meter_id)] = outcome.staged_new.get(int(meter_id), 0) + int(n)
        corrected_by_meter[int(meter_id)] += int(corrected or 0)
    for meter_id, corrected_n in corrected_by_meter.items():
        if corrected_n:
            del outcome.staged_new[meter_id]


_PG_STAGED_NEW = f"""
SELECT s.meter_id, s.ts, s.value FROM {STAGE_TABLE} s
JOIN readings r ON r.meter_id = s.meter_id AND r.ts = s.ts AND r.version = 1
 AND r.batch_id = s.batch_id AND r.received_at = s.received_at
WHERE s.meter_id = ANY(CAST(%(m)s AS integer[]))
"""
_SQLITE_STAGED_NEW = (
    "SELECT meter_id, ts, value FROM kw_moved WHERE same = 0 AND version = 1 AND meter_id IN "
    "(SELECT value FROM json_each(?))"
)


def staged_new_rows(session: Session, outcome: FrameOutcome, meters: Sequence[int]) -> pl.DataFrame:
    """``meter_id``, ``ts``, ``value`` of the rows the staging path just stored as new
    timestamps for ``meters`` (of :attr:`FrameOutcome.staged_new`); a meter whose rows are not
    all found (e.g. without a batch id) is left out, so its rollups are recomputed."""
    conn = session.connection()
    wanted = sorted(m for m in meters if m in outcome.staged_new)
    if not wanted:
        return empty_frame().select("meter_id", "ts", "value")
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(_PG_STAGED_NEW, {"m": pg_int_array(wanted)}).all()
    else:
        found = conn.exec_driver_sql(_SQLITE_STAGED_NEW, (json.dumps(wanted),)).all()
    rows = pl.DataFrame(
        [(int(m), aware_utc(ts), float(v)) for m, ts, v in found],
        schema={"meter_id": pl.Int64, "ts": UTC_US, "value": pl.Float64}, orient="row",
    )  # fmt: skip
    counts = dict(rows.group_by("meter_id").len().iter_rows())
    complete = [m for m in wanted if counts.get(m) == outcome.staged_new[m]]
    return rows.filter(pl.col("meter_id").is_in(complete))


def store_frame(session: Session, frame: pl.DataFrame) -> FrameOutcome:
    """Store validated readings (:data:`FRAME_SCHEMA`): new values, corrections; no commit.

    Exact repeats of the latest stored version are not stored (``frame.height -
    outcome.inserted`` is the number of duplicates, rows collapsed within the frame included);
    each leaves a row in ``delivery_repeats``.
    ``part`` (default: ``batch_id``) is the key the counts are returned by; it is not stored.
    """
    conn = session.connection()
    outcome = FrameOutcome()
    if "part" not in frame.columns:
        frame = frame.with_columns(pl.col("batch_id").alias("part"))
    frame = frame.select(list(FRAME_SCHEMA)).cast(FRAME_SCHEMA)  # type: ignore[arg-type]
    outcome.written = frame.select("meter_id", "ts")
    ensure_for_frame(conn, frame.get_column("ts"))  # PostgreSQL: a month's partition first
    rounds, repeats = _split_rounds(frame)
    if repeats is not None:
        _record_repeats(conn, repeats)
        outcome.repeats_in_frame = repeats.height
    for number, part in enumerate(rounds):
        staged = part
        if number == 0:
            probe = _probe(conn, part)
            busy = [m for m, (overlaps, _) in probe.items() if overlaps]
            fresh = part.filter(~pl.col("meter_id").is_in(busy)) if busy else part
            if fresh.height:
                _insert_direct(conn, fresh, outcome)
                again = (
                    pl.concat([r.select("meter_id") for r in rounds[1:]]) if rounds[1:] else None
                )
                only = fresh if again is None else fresh.join(again, on="meter_id", how="anti")
                outcome.fresh = only.select("meter_id", "ts", "value")
                outcome.fresh_flags = only.select("meter_id", "ts", "value", "flag")
                outcome.fresh_state = {
                    m: probe[m][1] for m in outcome.fresh.get_column("meter_id").unique()
                }
            staged = part.filter(pl.col("meter_id").is_in(busy)) if busy else part.clear()
        if staged.height:
            _move_staged(conn, staged, outcome)
    if len(rounds) > 1:  # later rounds are versions of the same keys: no new-row fold
        outcome.staged_new.clear()
    return outcome
