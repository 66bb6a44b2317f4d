"""Backend encodings: SQLite timestamp text, aware UTC datetimes back, PostgreSQL arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl

from kilnwatch.store.dialects import pg_int_array, sqlite_rows, sqlite_timestamp
from kilnwatch.store.models.base import aware_utc

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


def test_sqlite_insert_writes_constant_columns_as_literals() -> None:
    """Rows stored with literals for the constant columns equal those of a plain insert."""
    import sqlite3

    from kilnwatch.store.dialects import sqlite_insert

    frame = pl.DataFrame(
        {"meter_id": [1, 2, 3], "ts": [T0, T0 + timedelta(hours=1), T0],
         "value": [1.5, 1.5, 2.0], "flag": [None, None, None], "batch_id": [7, 7, 7],
         "received_at": [T0, T0, T0], "text": ["a", "a", "a"]},
        schema={"meter_id": pl.Int64, "ts": pl.Datetime("us", "UTC"), "value": pl.Float64,
                "flag": pl.Utf8, "batch_id": pl.Int64, "received_at": pl.Datetime("us", "UTC"),
                "text": pl.Utf8},
    )  # fmt: skip
    columns = frame.columns
    conn = sqlite3.connect(":memory:")
    for table in ("a", "b"):
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    sqlite_insert(conn, "a", columns, frame)
    conn.executemany(f"INSERT INTO b VALUES ({', '.join('?' * len(columns))})",
                     sqlite_rows(frame, columns))  # fmt: skip
    stored = conn.execute("SELECT * FROM a ORDER BY rowid").fetchall()
    assert stored == conn.execute("SELECT * FROM b ORDER BY rowid").fetchall()
    assert stored[0] == (1, "2025-04-01 00:00:00.000000", 1.5, None, 7,
                         "2025-04-01 00:00:00.000000", "a")  # fmt: skip
    sqlite_insert(conn, "a", ["batch_id"], frame.select("batch_id"))  # nothing bound at all
    assert conn.execute("SELECT COUNT(*) FROM a WHERE batch_id = 7").fetchone() == (6,)
