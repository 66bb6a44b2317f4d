"""Incremental rollups for pure appends (live feeds), without recomputing whole hours.

A meter of :attr:`FrameOutcome.fresh <kilnwatch.store.staging.FrameOutcome.fresh>` whose new
readings all lie after its last stored reading, with no stored reading later than them (no
late data, no correction, nothing that reopens an earlier hour), is an *append*: every hour,
day and month it touches is its stored rollup (if any) followed by the new readings. Its new
readings are aggregated in memory (row by row with
:func:`~kilnwatch.store.rollups.aggregate.hourly_aggregates` for a live feed's few rows, in
Polars with :func:`~kilnwatch.store.rollups.aggregate.hour_rollups` for large appends; the
counter's previous value is its last stored reading) and folded into the stored rows of all
three grains by one upsert: ``sum``, ``count``, ``resets``, ``rollovers`` add up, ``min`` /
``max`` combine, ``last`` / ``last_ts`` are the new ones and ``first`` / ``first_ts`` stay
(the rules of :meth:`Agg.merge <kilnwatch.store.rollups.aggregate.Agg.merge>` for a later
aggregate). A new period is inserted as it is.

Every other meter keeps the full recompute
(:func:`~kilnwatch.store.rollups.recompute.refresh_rollup_ranges`); the result is the same
(tests: ``tests/store/rollups/test_append.py``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from kilnwatch.domain.counters import CounterPolicy, counter_delta
from kilnwatch.store.dialects import sqlite_timestamp
from kilnwatch.store.rollups.aggregate import (
    PG_ROLLUP_TYPES,
    ROLLUP_COLUMNS,
    Agg,
    coarse_deltas,
    hour_rollups,
    hourly_aggregates,
    rollup_values,
)
from kilnwatch.store.rollups.attribution import (
    DAY,
    HOUR,
    MONTH,
    closes_interval,
    period_start,
    reading_period,
)
from kilnwatch.store.rollups.deferred import (
    DELTA,
    PG_DELTA,
    SCHEMA,
    DeferredRollups,
    pg_through_delta,
)
from kilnwatch.store.rollups.recompute import (
    refresh_rollup_runs,
    written_runs,
)
from kilnwatch.store.staging import FrameOutcome, StoredState, probe_ranges, staged_new_rows

SMALL_APPEND_ROWS = 2_000
"""Appends up to this many rows are aggregated row by row (cheaper than Polars' per-call
overhead for the few rows of a live-feed group); a measured tuning value, not a rule."""
_NAMES = ", ".join(f'"{c}"' for c in ROLLUP_COLUMNS)
_MERGE = """
ON CONFLICT (meter_id, grain, period_start) DO UPDATE SET
    "sum" = rollups."sum" + excluded."sum", "count" = rollups."count" + excluded."count",
    "min" = {least}(rollups."min", excluded."min"),
    "max" = {greatest}(rollups."max", excluded."max"),
    "first" = CASE WHEN excluded.first_ts < rollups.first_ts THEN excluded."first"
                   ELSE rollups."first" END,
    first_ts = {least}(rollups.first_ts, excluded.first_ts),
    "last" = CASE WHEN excluded.last_ts > rollups.last_ts THEN excluded."last"
                  ELSE rollups."last" END,
    last_ts = {greatest}(rollups.last_ts, excluded.last_ts),
    resets = rollups.resets + excluded.resets, rollovers = rollups.rollovers + excluded.rollovers
"""
"""Fold a delta into a stored period. Appends come after everything stored (their ``last``
wins, ``first`` stays); new timestamps of interval and instant meters inside stored periods
(:func:`fold_new_rows`) can lie anywhere, so ``first``/``last`` go by timestamp."""
_PG_UPSERT = f"INSERT INTO rollups ({_NAMES}) SELECT {_NAMES} FROM {DELTA}" + _MERGE.format(
    least="LEAST", greatest="GREATEST"
)
_SQLITE_UPSERT = (
    f"INSERT INTO rollups ({_NAMES}) VALUES ({', '.join('?' for _ in ROLLUP_COLUMNS)})"
    + _MERGE.format(least="min", greatest="max")
)


def refresh_after_store(
    session: Session,
    outcome: FrameOutcome,
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
    *,
    small_rows: int = SMALL_APPEND_ROWS,
    deferred: DeferredRollups | None = None,
) -> set[int]:
    """Rollups after a stored frame: appends incrementally, the other meters recomputed.

    ``outcome`` is what :func:`~kilnwatch.store.staging.store_frame` stored (its ``ranges``,
    ``fresh`` rows and ``fresh_state``); the other parameters as
    :func:`~kilnwatch.store.rollups.recompute.refresh_rollup_ranges` and
    :func:`append_rollups`. With ``deferred`` (a bulk import's chunks), the day and month rows
    of appended meters are held there, and what it holds of the other meters is written
    before they are recomputed. Returns the meters updated by the append path.
    """
    policy = policy or CounterPolicy()
    ranges, fresh, state = outcome.ranges, outcome.fresh, outcome.fresh_state
    appended: set[int] = set()
    if fresh is not None and fresh.height:
        appended = append_rollups(
            session, fresh, measurements, tz, policy, state=state, small_rows=small_rows,
            deferred=deferred,
        )  # fmt: skip
    if deferred is not None:
        deferred.flush(session, [m for m in ranges if m not in appended])
    folded = fold_new_rows(
        session, outcome, [m for m in ranges if m not in appended], measurements, tz, policy,
        small_rows=small_rows,
    )  # fmt: skip
    rest = {m: r for m, r in ranges.items() if m not in appended and m not in folded}
    others = None
    if fresh is not None and appended:
        others = fresh.filter(~pl.col("meter_id").is_in(sorted(appended)))
    runs = written_runs(outcome.written, sorted(rest)) if outcome.written is not None else {}
    refresh_rollup_runs(
        session, rest, runs, measurements, tz, policy, fresh=fresh if not appended else others
    )
    return appended


def append_rollups(
    session: Session,
    fresh: pl.DataFrame,
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy,
    *,
    state: Mapping[int, StoredState] | None = None,
    small_rows: int = SMALL_APPEND_ROWS,
    deferred: DeferredRollups | None = None,
) -> set[int]:
    """Fold the appended readings of ``fresh`` into hour, day and month rollups.

    ``fresh``: ``meter_id``, ``ts`` (UTC), ``value`` rows just stored as the only version of
    their timestamp, with no other stored reading within each meter's [min ts, max ts] (the
    contract of ``FrameOutcome.fresh``). Meters with a stored reading later than their new
    ones are left alone; the updated meters are returned. ``state`` is what was stored around
    each meter's new rows (``FrameOutcome.fresh_state``); without it (or when it lacks a
    meter) it is read from ``readings``. Up to ``small_rows`` rows are
    aggregated row by row (:func:`~kilnwatch.store.rollups.aggregate.hourly_aggregates`, no
    per-call Polars overhead), larger inputs in Polars
    (:func:`~kilnwatch.store.rollups.aggregate.hour_rollups`). ``deferred``: the day and month
    rows go there, not to ``rollups`` (:mod:`~kilnwatch.store.rollups.deferred`).
    """
    series: dict[int, list[tuple[datetime, float]]] = {}
    if fresh.height <= small_rows:
        series = _meter_series(fresh)
        bounds = {m: (rows[0][0], rows[-1][0]) for m, rows in series.items()}
    else:
        ranges = fresh.group_by("meter_id").agg(pl.col("ts").min(), pl.col("ts").max().alias("hi"))
        bounds = {m: (lo, hi) for m, lo, hi in ranges.iter_rows()}
    if state is None or not state.keys() >= bounds.keys():
        state = _stored_state(session, bounds)
    previous = {m: state[m][0] for m in bounds if not state[m][1]}
    if not previous:
        return set()
    return _fold(session, fresh, series, previous, measurements, tz, policy, deferred)


def fold_new_rows(
    session: Session,
    outcome: FrameOutcome,
    meters: list[int],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy,
    *,
    small_rows: int = SMALL_APPEND_ROWS,
) -> set[int]:
    """Late data without a recompute: interval and instant meters of ``meters`` whose rows of
    the staging path were all stored as new timestamps (no correction; see
    :attr:`FrameOutcome.staged_new <kilnwatch.store.staging.FrameOutcome.staged_new>`) have
    those rows folded into their hours, days and months like an append (sum and count add,
    min/max combine, ``first``/``last`` by timestamp): a reading of these meters changes
    only its own period's figures. Counters (a new reading changes the next one's difference)
    and corrections keep the recompute. Returns the folded meters."""
    candidates = [
        m for m in meters
        if m in outcome.staged_new and measurements.get(m, "instant") != "counter"
    ]  # fmt: skip
    if not candidates:
        return set()
    rows = staged_new_rows(session, outcome, candidates)
    if rows.height == 0:
        return set()
    previous: dict[int, float | None] = dict.fromkeys(rows.get_column("meter_id").unique(), None)
    series = _meter_series(rows) if rows.height <= small_rows else {}
    return _fold(session, rows, series, previous, measurements, tz, policy)


def _meter_series(rows: pl.DataFrame) -> dict[int, list[tuple[datetime, float]]]:
    """Each meter's ``(ts, value)`` pairs of ``rows`` (``meter_id``, ``ts``, ``value``), in
    time order: the input of the row-by-row path."""
    series: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for m, ts, value in rows.sort("meter_id", "ts").iter_rows():
        series[m].append((ts, value))
    return series


def _fold(
    session: Session,
    rows: pl.DataFrame,
    series: Mapping[int, list[tuple[datetime, float]]],
    previous: Mapping[int, float | None],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy,
    deferred: DeferredRollups | None = None,
) -> set[int]:
    """Fold new readings into the hour, day and month rollups of the meters of ``previous``.

    Parameters
    ----------
    session : Session
        Where the rollups are upserted (flushed, not committed).
    rows : polars.DataFrame
        The new readings (``meter_id``, ``ts`` UTC, ``value``): the Polars path's input.
    series : mapping
        The same readings per meter (:func:`_meter_series`) for the row-by-row path of a small
        input; empty for the Polars path.
    previous : mapping
        Meter -> the value stored before its new readings (None: none), for each meter to
        fold; the meters of ``rows`` not in it are left alone.
    measurements : mapping
        Meter -> ``instant``, ``interval`` or ``counter``.
    tz : tzinfo
        The platform's time zone (local days and months).
    policy : CounterPolicy
        How counter resets and rollovers are told apart.
    deferred : DeferredRollups, optional
        Where the day and month rows are held instead of being upserted (a bulk import).

    Returns
    -------
    set of int
        The folded meters (the keys of ``previous``).
    """
    if series:
        found = _python_rows(series, previous, measurements, tz, policy)
        if deferred is None:
            _upsert(session, found)
            return set(previous)
        _upsert(session, [r for r in found if r[1] == HOUR])
        coarse = [r for r in found if r[1] != HOUR]
        deferred.hold_coarse(session, pl.DataFrame(coarse, schema=SCHEMA, orient="row"))
        return set(previous)
    frame = _polars_rows(rows, previous, measurements, tz, policy)
    if deferred is None:
        _upsert_frame(session, frame)
        return set(previous)
    _upsert_frame(session, frame.filter(pl.col("grain") == HOUR))
    deferred.hold_coarse(session, frame.filter(pl.col("grain") != HOUR))
    return set(previous)


def _python_rows(
    series: Mapping[int, list[tuple[datetime, float]]],
    previous: Mapping[int, float | None],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy,
) -> list[tuple[Any, ...]]:
    """Rows (:data:`ROLLUP_COLUMNS`) of the new readings' hours, days and months."""
    rows: list[tuple[Any, ...]] = []
    local: dict[datetime, tuple[datetime, datetime]] = {}  # hour -> (day, month) in ``tz``
    for m, p0 in sorted(previous.items()):
        measurement = measurements.get(m, "instant")
        if len(series[m]) == 1:  # a live feed's usual case: one new reading of the meter
            ((ts, value),) = series[m]
            quantity, event = value, None
            if measurement == "counter":
                quantity, event = (0.0, None) if p0 is None else counter_delta(p0, value, policy)
            hour = reading_period(ts, HOUR, UTC, measurement)
            day, month = local.get(hour) or local.setdefault(hour, _day_month(hour, tz))
            resets, rollovers = int(event == "reset"), int(event == "rollover")
            rows += [(m, grain, start, quantity, 1, quantity, quantity, value, value, ts, ts,
                      resets, rollovers) for grain, start in ((HOUR, hour), (DAY, day),
                                                              (MONTH, month))]  # fmt: skip
            continue
        hours = hourly_aggregates(series[m], measurement, p0, policy)
        if len(hours) == 1:  # a live feed's usual case: the hour's delta is the day's too
            ((hour, agg),) = hours.items()
            day, month = local.get(hour) or local.setdefault(hour, _day_month(hour, tz))
            rows += [rollup_values(m, HOUR, hour, agg), rollup_values(m, DAY, day, agg),
                     rollup_values(m, MONTH, month, agg)]  # fmt: skip
            continue
        coarse: dict[tuple[str, datetime], Agg] = {}
        for hour, agg in hours.items():
            rows.append(rollup_values(m, HOUR, hour, agg))
            day, month = local.get(hour) or local.setdefault(hour, _day_month(hour, tz))
            coarse.setdefault((DAY, day), Agg()).merge(agg)
            coarse.setdefault((MONTH, month), Agg()).merge(agg)
        rows.extend(rollup_values(m, grain, start, agg) for (grain, start), agg in coarse.items())
    return rows


def _day_month(hour: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    return period_start(hour, DAY, tz), period_start(hour, MONTH, tz)


def _polars_rows(
    fresh: pl.DataFrame,
    previous: Mapping[int, float | None],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy,
) -> pl.DataFrame:
    """The rows of :func:`_python_rows`, computed in Polars (large appends)."""
    meters = pl.DataFrame(
        [
            (m, int(measurements.get(m) == "counter"),
             int(closes_interval(measurements.get(m, "instant"))), p0)
            for m, p0 in sorted(previous.items())
        ],
        schema={"meter_id": pl.Int64, "counter": pl.Int32, "shift": pl.Int64, "p0": pl.Float64},
        orient="row",
    )  # fmt: skip
    readings = fresh.join(meters.select("meter_id"), on="meter_id", how="semi")
    hours = hour_rollups(readings, meters, policy)
    return pl.concat([hours, coarse_deltas(hours, DAY, tz), coarse_deltas(hours, MONTH, tz)])


def _stored_state(
    session: Session, bounds: Mapping[int, tuple[datetime, datetime]]
) -> dict[int, StoredState]:
    """Per meter: the last stored value before its new rows, and whether a later one exists."""
    ids = list(bounds)
    found = probe_ranges(
        session.connection(), ids, [bounds[m][0] for m in ids], [bounds[m][1] for m in ids]
    )
    return {m: state for m, (_, state) in found.items()}


def _upsert(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert new periods, fold the deltas into stored ones (rows of :data:`ROLLUP_COLUMNS`).

    PostgreSQL: binary ``COPY`` of the rows into a temp table, then one upsert (psycopg's
    ``executemany`` would dump and send each row on its own); SQLite: ``executemany``.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(f"{PG_DELTA}; DELETE FROM {DELTA}", prepare=False)
            with cursor.copy(f"COPY {DELTA} ({_NAMES}) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(PG_ROLLUP_TYPES)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_PG_UPSERT)
        return
    stamps = (2, 9, 10)
    as_text = [
        tuple(sqlite_timestamp(v) if i in stamps else v for i, v in enumerate(row)) for row in rows
    ]
    raw_lite = conn.connection.driver_connection
    assert isinstance(raw_lite, sqlite3.Connection)
    raw_lite.executemany(_SQLITE_UPSERT, as_text)


def _upsert_frame(session: Session, rows: pl.DataFrame) -> None:
    """:func:`_upsert` of many rows (PostgreSQL: binary ``COPY`` into a temp table first)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        pg_through_delta(conn, rows, _PG_UPSERT)
        return
    _upsert(session, rows.rows())
