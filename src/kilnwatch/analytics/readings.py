"""Bulk-load readings into numpy, one query per enterprise and window.

Timestamps become integer epoch seconds computed by the database (no per-row datetime
parsing in Python). For every (meter, timestamp) the latest version is the value; the number
of versions, the first version's value and the delivery lag are kept for the detectors of
corrections and late data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from kilnwatch.store.models import SOURCE_CODES

#: Sources that deliver in real time.
REAL_TIME_SOURCES = ("http", "mqtt", "hj212")
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Series:
    """One meter's readings in a window, latest version per timestamp, sorted by time."""

    ts_s: I64  # [s since the epoch]
    value: F64
    flag: NDArray[np.object_]  # HJ 212 flag text, "" when none
    versions: I64  # number of stored versions of the timestamp
    first_value: F64  # value of version 1
    lag_s: I64  # received_at - ts of the latest version [s]; real-time sources only
    source: I64  # source code of the latest version (``SOURCE_CODES``)

    @property
    def size(self) -> int:
        return int(self.ts_s.size)


def empty_series() -> Series:
    f = np.zeros(0, dtype=np.float64)
    i = np.zeros(0, dtype=np.int64)
    return Series(i, f, np.zeros(0, dtype=object), i, f, i, i)


#: Epoch seconds from SQLite's stored text timestamps (julianday is computed in C; the 0.5
#: rounds the double to the nearest second). ``received_at`` is read only for real-time
#: sources (http, mqtt, hj212), the only ones for which a delivery lag means anything.
_SQLITE_EPOCH = "CAST((julianday({col}) - 2440587.5) * 86400 + 0.5 AS INTEGER)"
_SQLITE_SQL = (
    f"SELECT meter_id, {_SQLITE_EPOCH.format(col='ts')}, version, value, flag,"
    f" CASE WHEN source IN ({{live}}) THEN {_SQLITE_EPOCH.format(col='received_at')} ELSE 0 END,"
    " source FROM readings WHERE meter_id IN ({ids}) AND ts >= ? AND ts <= ?"
    " ORDER BY meter_id, ts, version"
)
_POSTGRES_SQL = (
    "SELECT meter_id, CAST(EXTRACT(EPOCH FROM ts) AS BIGINT), version, value, COALESCE(flag, ''),"
    " CAST(EXTRACT(EPOCH FROM received_at) AS BIGINT), source FROM readings"
    " WHERE meter_id = ANY(%s) AND ts >= %s AND ts <= %s ORDER BY meter_id, ts, version"
)


def _sqlite_text(ts: datetime) -> str:
    """The text form SQLAlchemy stores for a UTC datetime in SQLite (see ``UTCDateTime``)."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _fetch(
    session: Session, meter_ids: list[int], start_at: datetime, end_at: datetime
) -> list[Any]:
    """Rows straight from the DB-API cursor: the hot path skips ORM row processing."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if session.get_bind().dialect.name == "sqlite":
            live = ",".join(str(SOURCE_CODES[k]) for k in REAL_TIME_SOURCES)
            sql = _SQLITE_SQL.format(ids=",".join(str(int(i)) for i in meter_ids), live=live)
            cursor.execute(sql, (_sqlite_text(start_at), _sqlite_text(end_at)))
        else:
            cursor.execute(_POSTGRES_SQL, (meter_ids, start_at, end_at))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_readings(
    session: Session, meter_ids: Sequence[int], start_at: datetime, end_at: datetime
) -> dict[int, Series]:
    """Readings of ``meter_ids`` with ``start_at <= ts <= end_at``, per meter."""
    if not meter_ids:
        return {}
    session.flush()
    rows = _fetch(session, [int(i) for i in meter_ids], start_at, end_at)
    if not rows:
        return {}
    schema = {"m": pl.Int64, "t": pl.Int64, "v": pl.Int64, "x": pl.Float64, "f": pl.Utf8,
              "r": pl.Int64, "s": pl.Int64}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.col("f").fill_null(""))
    return frame_to_series(frame)


def frame_to_series(frame: pl.DataFrame) -> dict[int, Series]:
    """Columns m (meter), t (epoch s), v (version), x (value), f (flag), r (received epoch s),
    s (source code)."""
    grouped = (
        frame.with_columns((pl.col("r") - pl.col("t")).alias("lag"))
        .sort(["m", "t", "v"])
        .group_by(["m", "t"], maintain_order=True)
        .agg(
            pl.col("x").last().alias("x"),
            pl.col("f").last().alias("f"),
            pl.len().alias("n"),
            pl.col("x").first().alias("x1"),
            pl.col("lag").last().alias("lag"),
            pl.col("s").last().alias("s"),
        )
    )
    out: dict[int, Series] = {}
    for (meter_id,), part in grouped.partition_by("m", as_dict=True, maintain_order=True).items():
        out[int(meter_id)] = Series(
            part["t"].to_numpy().astype(np.int64),
            part["x"].to_numpy().astype(np.float64),
            part["f"].to_numpy().astype(object),
            part["n"].to_numpy().astype(np.int64),
            part["x1"].to_numpy().astype(np.float64),
            part["lag"].to_numpy().astype(np.int64),
            part["s"].to_numpy().astype(np.int64),
        )
    return out
