"""Aggregates of readings over rollup periods, computed in memory, and their row form.

Row by row (:class:`Agg`, :func:`hourly_aggregates`: the reference, and a live feed's few
rows) and in Polars (:func:`hour_rollups`, :func:`coarse_deltas`: large in-memory chunks),
with the same rules as the SQL recompute (:mod:`kilnwatch.store.rollups.recompute`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import polars as pl

from kilnwatch.store.models import Rollup
from kilnwatch.store.rollups.attribution import (
    HOUR,
    CounterPolicy,
    counter_delta,
    period_start,
    reading_period,
)

ROLLUP_COLUMNS = ("meter_id", "grain", "period_start", "sum", "count", "min", "max", "first",
                  "last", "first_ts", "last_ts", "resets", "rollovers")  # fmt: skip
"""Columns of a ``rollups`` row, in the order of :func:`rollup_values` and the Polars frames."""
PG_ROLLUP_TYPES = ("int4", "text", "timestamptz", "float8", "int4", "float8", "float8",
                   "float8", "float8", "timestamptz", "timestamptz", "int4", "int4")  # fmt: skip
"""PostgreSQL types of :data:`ROLLUP_COLUMNS` for binary ``COPY``."""
AGG_COLUMNS = (Rollup.sum, Rollup.count, Rollup.min, Rollup.max, Rollup.first, Rollup.last,
               Rollup.first_ts, Rollup.last_ts, Rollup.resets, Rollup.rollovers)  # fmt: skip
"""The stored aggregate of a rollup row, in the field order of :class:`Agg`."""


@dataclass
class Agg:
    """Running aggregate of one meter over one period."""

    sum: float = 0.0
    count: int = 0
    min: float = math.inf
    max: float = -math.inf
    first: float = 0.0
    last: float = 0.0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    resets: int = 0
    rollovers: int = 0

    def add(self, ts: datetime, raw: float, quantity: float, event: str | None = None) -> None:
        """One reading (in time order): raw value and its quantity."""
        self.merge(Agg(quantity, 1, quantity, quantity, raw, raw, ts, ts))
        self.resets += event == "reset"
        self.rollovers += event == "rollover"

    def merge(self, other: Agg) -> None:
        """Fold a later-or-earlier aggregate into this one."""
        if other.count == 0 or other.first_ts is None or other.last_ts is None:
            return
        if self.first_ts is None or other.first_ts < self.first_ts:
            self.first, self.first_ts = other.first, other.first_ts
        if self.last_ts is None or other.last_ts >= self.last_ts:
            self.last, self.last_ts = other.last, other.last_ts
        self.sum += other.sum
        self.count += other.count
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.resets += other.resets
        self.rollovers += other.rollovers


def agg_of(values: Sequence[Any]) -> Agg:
    """The :class:`Agg` of a row selected as :data:`AGG_COLUMNS`."""
    return Agg(*values)


def rollup_values(meter_id: int, grain: str, start: datetime, a: Agg) -> tuple[Any, ...]:
    """A ``rollups`` row (:data:`ROLLUP_COLUMNS`) of one meter, grain and period."""
    return (meter_id, grain, start, a.sum, a.count, a.min, a.max, a.first, a.last, a.first_ts,
            a.last_ts, a.resets, a.rollovers)  # fmt: skip


def hourly_aggregates(
    readings: Iterable[tuple[datetime, float]],
    measurement: str,
    previous: float | None,
    policy: CounterPolicy,
) -> dict[datetime, Agg]:
    """Hourly aggregates of one meter's readings (time-ordered, one value per ts).

    Keyed by :func:`~kilnwatch.store.rollups.attribution.reading_period`: counter and
    interval readings at ``hh:00`` close the previous hour.
    """
    hours: dict[datetime, Agg] = {}
    for ts, value in readings:
        quantity, event = value, None
        if measurement == "counter":
            quantity, event = (
                (0.0, None) if previous is None else counter_delta(previous, value, policy)
            )
            previous = value
        hour = reading_period(ts, HOUR, UTC, measurement)
        hours.setdefault(hour, Agg()).add(ts, value, quantity, event)
    return hours


def hour_rollups(
    readings: pl.DataFrame, meters: pl.DataFrame, policy: CounterPolicy
) -> pl.DataFrame:
    """Hour rollups (:data:`ROLLUP_COLUMNS`) of complete hours, computed in Polars.

    ``readings``: ``meter_id``, ``ts`` (UTC), ``value``, one row per (meter, ts), holding every
    reading of the hours they touch; ``meters``: ``meter_id``, ``counter`` and ``shift`` (0/1)
    and ``p0`` (the counter's previous value, or null). The rules are those of
    :func:`hourly_aggregates`.
    """
    value, prev = pl.col("value"), pl.col("prev")
    counter = pl.col("counter") == 1
    top = pl.when(prev <= 0).then(1.0).otherwise(10.0 ** (prev.log10().floor() + 1))
    roll = (prev >= policy.rollover_high_fraction * pl.col("top")) & (
        value <= policy.rollover_low_fraction * pl.col("top")
    )
    down = counter & prev.is_not_null() & (value < prev)
    rows = (
        readings.join(meters, on="meter_id")
        .sort("meter_id", "ts")
        .with_columns(prev=pl.coalesce(value.shift(1).over("meter_id"), pl.col("p0")))
        .with_columns(top=top)
        .with_columns(
            q=pl.when(~counter)
            .then(value)
            .when(prev.is_null())
            .then(0.0)
            .when(value >= prev)
            .then(value - prev)
            .when(roll)
            .then(pl.col("top") - prev + value)
            .otherwise(0.0),
            is_reset=(down & ~roll).cast(pl.Int32),
            is_rollover=(down & roll).cast(pl.Int32),
            period_start=(pl.col("ts") - pl.duration(microseconds=pl.col("shift"))).dt.truncate(
                "1h"
            ),
        )  # fmt: skip
    )
    q = pl.col("q")
    return (
        rows.group_by("meter_id", "period_start", maintain_order=True)
        .agg(
            q.sum().alias("sum"),
            pl.len().cast(pl.Int32).alias("count"),
            q.min().alias("min"),
            q.max().alias("max"),
            value.first().alias("first"),
            value.last().alias("last"),
            pl.col("ts").min().alias("first_ts"),
            pl.col("ts").max().alias("last_ts"),
            pl.col("is_reset").sum().alias("resets"),
            pl.col("is_rollover").sum().alias("rollovers"),
        )  # fmt: skip
        .with_columns(pl.lit(HOUR).alias("grain"))
        .select(ROLLUP_COLUMNS)
    )


def coarse_deltas(hours: pl.DataFrame, grain: str, tz: tzinfo) -> pl.DataFrame:
    """Day or month aggregates (:data:`ROLLUP_COLUMNS`) of hour aggregates, in zone ``tz``."""
    starts = hours.get_column("period_start").unique().to_list()
    mapping = pl.DataFrame(
        {"period_start": starts, "p": [period_start(h, grain, tz) for h in starts]},
        schema={"period_start": hours.schema["period_start"], "p": hours.schema["period_start"]},
    )
    return (
        hours.join(mapping, on="period_start")
        .sort("meter_id", "first_ts")
        .group_by("meter_id", "p", maintain_order=True)
        .agg(
            pl.col("sum").sum(),
            pl.col("count").sum().cast(pl.Int32),
            pl.col("min").min(),
            pl.col("max").max(),
            pl.col("first").first(),
            pl.col("last").last(),
            pl.col("first_ts").min(),
            pl.col("last_ts").max(),
            pl.col("resets").sum().cast(pl.Int32),
            pl.col("rollovers").sum().cast(pl.Int32),
        )  # fmt: skip
        .with_columns(pl.lit(grain).alias("grain"), pl.col("p").alias("period_start"))
        .select(ROLLUP_COLUMNS)
    )
