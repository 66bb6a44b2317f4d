"""Rollup attribution: counter deltas, grains and the period a reading belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.store.rollups.attribution import (
    DAY,
    MONTH,
    CounterPolicy,
    counter_delta,
    covering_periods,
    next_period,
    period_start,
    reading_period,
    register_top,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 2025-04-01 00:00 Asia/Shanghai
MARCH_START = datetime(2025, 2, 28, 16, tzinfo=UTC)


@given(st.floats(0, 1e9), st.floats(0, 1e9))
@settings(max_examples=200)
def test_counter_delta_is_never_negative(previous: float, value: float) -> None:
    delta, event = counter_delta(previous, value, CounterPolicy())
    assert delta >= 0
    assert (event is None) == (value >= previous)


def test_rollover_and_periods() -> None:
    assert register_top(99_990.0) == 100_000.0
    assert counter_delta(99_990.0, 10.0, CounterPolicy()) == (20.0, "rollover")
    assert counter_delta(50_000.0, 10.0, CounterPolicy()) == (0.0, "reset")
    ts = datetime(2025, 1, 31, 17, 30, tzinfo=UTC)  # 2025-02-01 01:30 in Beijing
    assert period_start(ts, DAY, SHANGHAI) == datetime(2025, 1, 31, 16, tzinfo=UTC)
    assert period_start(ts, MONTH, SHANGHAI) == datetime(2025, 1, 31, 16, tzinfo=UTC)
    feb = period_start(ts, MONTH, SHANGHAI)
    assert next_period(feb, MONTH, SHANGHAI) == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert next_period(feb, DAY, SHANGHAI) == datetime(2025, 2, 1, 16, tzinfo=UTC)


def test_reading_period_shifts_only_interval_ends() -> None:
    assert reading_period(APRIL, MONTH, SHANGHAI, "interval") == MARCH_START
    assert reading_period(APRIL, MONTH, SHANGHAI, "counter") == MARCH_START
    assert reading_period(APRIL, MONTH, SHANGHAI, "instant") == APRIL
    later = APRIL + timedelta(microseconds=1)
    assert reading_period(later, DAY, SHANGHAI, "counter") == APRIL


def test_covering_periods_round_out_to_whole_local_periods() -> None:
    start, end = APRIL - timedelta(hours=1), APRIL + timedelta(hours=1)
    assert covering_periods(start, end, MONTH, SHANGHAI) == (
        MARCH_START, datetime(2025, 4, 30, 16, tzinfo=UTC)
    )  # fmt: skip
    assert covering_periods(start, APRIL, DAY, SHANGHAI) == (APRIL - timedelta(days=1), APRIL)
