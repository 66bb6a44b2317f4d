"""Reading the hourly rollup of monitored analysers (``emission_hours``) back as
:class:`~kilnwatch.domain.emissions.HourCounts`, hour by hour over a window: what the
emissions figures read instead of the raw readings (``store/rollups/emission_hours.py``).

Rows are read through the driver (epoch seconds computed by the database, no ORM type
processing per row) and scattered into per-meter arrays with NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from kilnwatch.domain.emissions import HOUR_S, HourCounts
from kilnwatch.store.dialects import PG_EPOCH_S, SQLITE_EPOCH_S, sqlite_timestamp

METERS_PER_QUERY = 500
"""Meters per query (bound parameters per statement stay small on every database)."""
_COLUMNS = "meter_id, {epoch}, readings, valid, stopped, valid_sum, total, steps"
_PG = (
    f"SELECT {_COLUMNS.format(epoch=PG_EPOCH_S.format(col='period_start'))} FROM emission_hours"
    " WHERE meter_id = ANY(%(m)s) AND period_start >= %(lo)s AND period_start <= %(hi)s"
    " ORDER BY meter_id, period_start"
)
_SQLITE = (
    f"SELECT {_COLUMNS.format(epoch=SQLITE_EPOCH_S.format(col='period_start'))}"
    " FROM emission_hours WHERE meter_id IN ({ids}) AND period_start >= ? AND period_start <= ?"
    " ORDER BY meter_id, period_start"
)


@cache
def _steps(text: str) -> tuple[tuple[int, int], ...]:
    """``"900:3,1800:1"`` as ((900, 3), (1800, 1)); few distinct texts, so parsed once each."""
    if not text:
        return ()
    return tuple((int(s), int(n)) for s, n in (e.split(":") for e in text.split(",")))


def _query(session: Session, ids: list[int], lo: datetime, hi: datetime) -> list[Any]:
    """The rows as plain tuples from the driver's cursor (no result processing per row)."""
    session.flush()
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(_PG, {"m": ids, "lo": lo, "hi": hi})
        else:
            sql = _SQLITE.format(ids=",".join(str(int(i)) for i in ids))
            cursor.execute(sql, (sqlite_timestamp(lo), sqlite_timestamp(hi)))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_emission_hours(
    session: Session, meter_ids: Sequence[int], start_s: int, n_hours: int
) -> dict[int, HourCounts]:
    """Per meter with rows: its hours ``(start_s + i h, start_s + (i + 1) h]``, i < n_hours
    (hours without a row hold no reading). ``start_s`` is a whole UTC hour [s since epoch]."""
    if start_s % HOUR_S:
        raise ValueError("emission hours start on a whole UTC hour")
    lo = datetime.fromtimestamp(start_s, UTC)
    hi = datetime.fromtimestamp(start_s + (n_hours - 1) * HOUR_S, UTC)
    ids = sorted(set(meter_ids))
    out: dict[int, HourCounts] = {}
    for k in range(0, len(ids), METERS_PER_QUERY):
        rows = _query(session, ids[k : k + METERS_PER_QUERY], lo, hi)
        if not rows:
            continue
        meter, at_s, readings, valid, stopped, valid_sum, total, steps = zip(*rows, strict=True)
        m = np.array(meter, dtype=np.int64)
        at = (np.array(at_s, dtype=np.int64) - start_s) // HOUR_S
        ints = [np.array(c, dtype=np.int64) for c in (readings, valid, stopped)]
        floats = [np.array(c, dtype=np.float64) for c in (valid_sum, total)]
        cuts = np.flatnonzero(np.diff(m)) + 1
        for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), m.size], strict=True):
            out[int(m[a])] = _counts(at[a:b], n_hours, *(c[a:b] for c in ints),
                                     *(c[a:b] for c in floats), steps[a:b])  # fmt: skip
    return out


def _counts(at: np.ndarray[Any, np.dtype[np.int64]], n_hours: int, *columns: Any) -> HourCounts:
    """One meter's rows (hour index ``at``) scattered into arrays of ``n_hours``."""
    readings, valid, stopped, valid_sum, total, steps = columns

    def ints(col: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
        full = np.zeros(n_hours, dtype=np.int64)
        full[at] = col
        return full

    def floats(col: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
        full = np.zeros(n_hours, dtype=np.float64)
        full[at] = col
        return full

    hours: list[int] = []
    spacing: list[int] = []
    counts: list[int] = []
    for h, text in zip(at.tolist(), steps, strict=True):
        for step, n in _steps(text):
            hours.append(h)
            spacing.append(step)
            counts.append(n)
    sparse = [np.array(x, dtype=np.int64) for x in (hours, spacing, counts)]
    return HourCounts(ints(readings), ints(valid), ints(stopped), floats(valid_sum),
                      floats(total), *sparse)  # fmt: skip
