"""Rollup attribution: grains and the period a reading belongs to (counter deltas are tested
in tests/domain/test_counters.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kilnwatch.store.rollups.attribution import (
    DAY,
    MONTH,
    covering_periods,
    next_period,
    period_start,
    reading_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 2025-04-01 00:00 Asia/Shanghai
MARCH_START = datetime(2025, 2, 28, 16, tzinfo=UTC)


def test_periods() -> None:
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
