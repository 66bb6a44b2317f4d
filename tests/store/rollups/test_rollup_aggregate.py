"""Rollup aggregates in memory: merging, hours in Polars, days and months from hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.store.rollups.aggregate import ROLLUP_COLUMNS, Agg, coarse_deltas, hour_rollups
from kilnwatch.store.rollups.attribution import DAY, HOUR, MONTH, CounterPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=40), st.integers(1, 39))
@settings(max_examples=100)
def test_merge_is_additive(values: list[float], cut: int) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    whole, left, right = Agg(), Agg(), Agg()
    for i, v in enumerate(values):
        ts = t0 + timedelta(minutes=i)
        whole.add(ts, v, v)
        (left if i < cut else right).add(ts, v, v)
    right.merge(left)
    assert right.count == whole.count and right.sum == pytest.approx(whole.sum)
    assert (right.first, right.last, right.min, right.max) == (
        whole.first, whole.last, whole.min, whole.max
    )  # fmt: skip


def test_hour_rollups_in_memory() -> None:
    h = datetime(2025, 1, 1, 1, tzinfo=UTC)
    readings = pl.DataFrame(
        {
            "meter_id": [1, 1, 1, 2, 2],
            "ts": [h, h + timedelta(minutes=30), h + timedelta(hours=1), h, h + timedelta(hours=1)],
            "value": [99_990.0, 5.0, 8.0, 4.0, 6.0],
        },
        schema={"meter_id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    meters = pl.DataFrame(
        {"meter_id": [1, 2], "counter": [1, 0], "shift": [1, 0], "p0": [99_980.0, None]},
        schema={"meter_id": pl.Int64, "counter": pl.Int32, "shift": pl.Int64, "p0": pl.Float64},
    )
    out = hour_rollups(readings, meters, CounterPolicy()).sort("meter_id", "period_start")
    got = out.select("meter_id", "period_start", "sum", "count", "rollovers", "last").rows()
    assert got == [
        (1, h - timedelta(hours=1), 10.0, 1, 0, 99_990.0),  # 01:00 closes the hour 00:00-01:00
        (1, h, 18.0, 2, 1, 8.0),  # roll-over 99 990 -> 5 (+15), then +3
        (2, h, 4.0, 1, 0, 4.0),  # instant: its own hour
        (2, h + timedelta(hours=1), 6.0, 1, 0, 6.0),
    ]


UTC_US = pl.Datetime("us", "UTC")
TYPES = (pl.Int64, pl.Utf8, UTC_US, pl.Float64, pl.Int32, pl.Float64, pl.Float64, pl.Float64,
         pl.Float64, UTC_US, UTC_US, pl.Int32, pl.Int32)  # fmt: skip


def test_coarse_deltas_group_hours_by_local_day() -> None:
    h = datetime(2025, 3, 31, 15, tzinfo=UTC)  # 23:00 Beijing
    h2 = h + timedelta(hours=1)
    hours = pl.DataFrame(
        [
            (1, HOUR, h, 2.0, 2, 1.0, 1.0, 10.0, 12.0, h, h + timedelta(minutes=30), 0, 0),
            (1, HOUR, h2, 3.0, 1, 3.0, 3.0, 15.0, 15.0, h2, h2, 1, 0),
        ],
        schema=dict(zip(ROLLUP_COLUMNS, TYPES, strict=True)),
        orient="row",
    )
    days = coarse_deltas(hours, DAY, SHANGHAI).rows()
    assert [d[2:9] for d in days] == [
        (datetime(2025, 3, 30, 16, tzinfo=UTC), 2.0, 2, 1.0, 1.0, 10.0, 12.0),
        (datetime(2025, 3, 31, 16, tzinfo=UTC), 3.0, 1, 3.0, 3.0, 15.0, 15.0),
    ]
    months = coarse_deltas(hours, MONTH, SHANGHAI).rows()
    assert [(m[2], m[3], m[4], m[7], m[8], m[11]) for m in months] == [
        (datetime(2025, 2, 28, 16, tzinfo=UTC), 2.0, 2, 10.0, 12.0, 0),
        (datetime(2025, 3, 31, 16, tzinfo=UTC), 3.0, 1, 15.0, 15.0, 1),
    ]
