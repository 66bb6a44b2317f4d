"""Backend encodings: SQLite timestamp text, aware UTC datetimes back, PostgreSQL arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl

from kilnwatch.store.dialects import aware_utc, pg_int_array, sqlite_rows, sqlite_timestamp

T0 = datetime(2025, 4, 1, tzinfo=UTC)


def test_sqlite_timestamp_round_trips_through_aware_utc() -> None:
    beijing = T0.astimezone(timezone(timedelta(hours=8)))
    assert sqlite_timestamp(beijing) == "2025-04-01 00:00:00.000000"
    assert aware_utc(sqlite_timestamp(beijing)) == T0
    assert aware_utc(T0.replace(tzinfo=None)) == T0
    assert aware_utc(beijing).tzinfo is UTC


def test_sqlite_rows_write_datetimes_as_sqlalchemy_text() -> None:
    frame = pl.DataFrame(
        {"meter_id": [1], "ts": [T0 + timedelta(microseconds=5)], "value": [2.5]},
        schema={"meter_id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    assert sqlite_rows(frame, ["ts", "meter_id"]) == [("2025-04-01 00:00:00.000005", 1)]


def test_pg_int_array() -> None:
    assert pg_int_array([3, 1, 2]) == "{3,1,2}"
    assert pg_int_array([]) == "{}"
