"""Bulk-load readings into numpy, one query per enterprise and window.

Timestamps become integer epoch seconds computed by the database (no per-row datetime
parsing in Python). For every (meter, timestamp) the latest version is the value; the number
of versions, the first version's value and the delivery lag are kept for the detectors of
corrections and late data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kilnwatch.store.models import Reading

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
    lag_s: I64  # received_at - ts of the latest version [s]
    source: I64  # source code of the latest version (``SOURCE_CODES``)

    @property
    def size(self) -> int:
        return int(self.ts_s.size)


def _epoch(session: Session, column: InstrumentedAttribute[datetime]) -> ColumnElement[int]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), BigInteger)


def empty_series() -> Series:
    f = np.zeros(0, dtype=np.float64)
    i = np.zeros(0, dtype=np.int64)
    return Series(i, f, np.zeros(0, dtype=object), i, f, i, i)


def load_readings(
    session: Session, meter_ids: Sequence[int], start_at: datetime, end_at: datetime
) -> dict[int, Series]:
    """Readings of ``meter_ids`` with ``start_at <= ts <= end_at``, per meter."""
    if not meter_ids:
        return {}
    stmt = (
        select(
            Reading.meter_id,
            _epoch(session, Reading.ts),
            Reading.version,
            Reading.value,
            func.coalesce(Reading.flag, ""),
            _epoch(session, Reading.received_at),
            Reading.source,
        )
        .where(Reading.meter_id.in_(list(meter_ids)), Reading.ts >= start_at, Reading.ts <= end_at)
        .order_by(Reading.meter_id, Reading.ts, Reading.version)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return {}
    schema = {
        "m": pl.Int64,
        "t": pl.Int64,
        "v": pl.Int64,
        "x": pl.Float64,
        "f": pl.Utf8,
        "r": pl.Int64,
        "s": pl.Int64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
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
