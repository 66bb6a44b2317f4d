"""Monthly partitions of readings on PostgreSQL (migration 0060, ``store/partitions.py``):
the conversion keeps rows and keys, a month without a partition gets one at ingest (its rows
moved out of DEFAULT), ``db partitions`` creates months ahead, and a writer that cannot get
the locks stores into DEFAULT instead of waiting or failing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store import partitions
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Reading
from kilnwatch.store.staging import FRAME_SCHEMA, store_frame
from pg_support import throwaway_database

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _frame(meter_id: int, stamps: list[datetime], value: float = 1.0) -> pl.DataFrame:
    n = len(stamps)
    return pl.DataFrame(
        {"meter_id": [meter_id] * n, "ts": stamps, "value": [value] * n, "flag": [None] * n,
         "source": [1] * n, "batch_id": [None] * n, "received_at": [NOW] * n, "part": [0] * n},
        schema=FRAME_SCHEMA,
    )  # fmt: skip


def _where(session: Session, meter_id: int) -> dict[str, int]:
    """Rows of ``meter_id`` per partition table (``tableoid``)."""
    rows = session.execute(
        text(
            "SELECT tableoid::regclass::text, count(*) FROM readings WHERE meter_id = :m GROUP BY 1"
        ),
        {"m": meter_id},
    )
    return {str(name): int(n) for name, n in rows}


def test_month_helpers() -> None:
    assert partitions.partition_name(date(2025, 3, 1)) == "readings_2025_03"
    assert partitions.partition_month("readings_2025_12") == date(2025, 12, 1)
    assert partitions.partition_month("readings_default") is None
    assert partitions.is_partition_table("readings_default")
    assert not partitions.is_partition_table("readings")
    assert partitions.next_month(date(2025, 12, 1)) == date(2026, 1, 1)
    assert partitions.add_months(date(2025, 11, 1), 14) == date(2027, 1, 1)


ON_POSTGRESQL = pytest.mark.parametrize(
    "settings", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_sqlite_is_left_alone(session: Session) -> None:
    conn = session.connection()
    assert not partitions.is_partitioned(conn)
    assert partitions.maintain(conn).created == []
    assert partitions.ensure_for_frame(conn, _frame(1, [NOW]).get_column("ts")) == []


@ON_POSTGRESQL
def test_ingest_of_a_new_month_creates_its_partition_moving_default_rows(
    session: Session, engine: Engine
) -> None:
    conn = session.connection()
    assert partitions.is_partitioned(conn)
    month = date(2019, 7, 1)  # far before any other test's data: no partition yet
    with engine.begin() as other:
        other.execute(text("DROP TABLE IF EXISTS readings_2019_07"))
    partitions._TRIED.known.clear()
    t0 = datetime(2019, 7, 3, tzinfo=UTC)
    # a row already in DEFAULT (stored while the month had no partition)
    session.execute(
        text("INSERT INTO readings_default (meter_id, ts, version, value, source, received_at) "
             "VALUES (900001, :ts, 1, 5.0, 1, :ts)"),
        {"ts": t0},
    )  # fmt: skip
    session.commit()
    stamps = [t0 + timedelta(hours=h) for h in range(1, 4)]
    outcome = store_frame(session, _frame(900001, stamps))
    session.commit()
    assert outcome.inserted == 3
    assert month in partitions.monthly_partitions(session.connection())
    assert _where(session, 900001) == {"readings_2019_07": 4}
    # the ON CONFLICT path on the partitioned table: a repeat and a correction
    again = store_frame(session, _frame(900001, [t0, stamps[0]], value=7.0))
    session.commit()
    assert again.inserted == 2 and sum(again.corrections.values()) == 2
    repeat = store_frame(session, _frame(900001, [t0], value=7.0))
    assert repeat.inserted == 0
    session.commit()
    versions = session.scalars(
        select(Reading.version)
        .where(Reading.meter_id == 900001)
        .order_by(Reading.ts, Reading.version)
    ).all()
    assert versions == [1, 2, 1, 2, 1, 1]


@ON_POSTGRESQL
def test_a_writer_that_cannot_lock_stores_into_default(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partitions, "INGEST_LOCK_TIMEOUT", "100ms")
    with engine.begin() as other:
        other.execute(text("DROP TABLE IF EXISTS readings_2019_05"))
    partitions._TRIED.known.clear()
    partitions._TRIED.failed.clear()
    blocker = engine.connect()
    try:  # another transaction writing into DEFAULT holds a lock the attach needs
        blocker.execute(
            text("INSERT INTO readings_default (meter_id, ts, version, value, source, received_at) "
                 "VALUES (900002, '2019-04-10T00:00Z', 1, 1.0, 1, '2019-04-10T00:00Z')")
        )  # fmt: skip
        outcome = store_frame(session, _frame(900003, [datetime(2019, 5, 2, tzinfo=UTC)]))
        session.commit()
    finally:
        blocker.rollback()
        blocker.close()
    assert outcome.inserted == 1
    assert _where(session, 900003) == {"readings_default": 1}
    done = partitions.maintain(session.connection(), ahead=0)  # the timer's pass moves it
    session.commit()
    assert date(2019, 5, 1) in done.created and done.moved_rows >= 1
    assert _where(session, 900003) == {"readings_2019_05": 1}


@pytest.fixture
def old_database() -> Iterator[str]:
    """A database of its own, migrated to 0006 (readings not yet partitioned)."""
    with throwaway_database("kilnwatch_part") as url:
        yield url


@pytest.mark.postgres
def test_migration_converts_the_table_keeping_rows_and_keys(
    pg_database: str, old_database: str
) -> None:
    engine = make_engine(Settings(database_url=old_database, environment="test"))
    try:
        upgrade(engine, "0006")
        stamps = [datetime(2024, 1, 31, 23, tzinfo=UTC), datetime(2024, 2, 1, 1, tzinfo=UTC)]
        with engine.begin() as conn:
            assert not partitions.is_partitioned(conn)
            for n, ts in enumerate(stamps):
                for version in (1, 2):
                    conn.execute(
                        text("INSERT INTO readings (meter_id, ts, version, value, source, "
                             "received_at) VALUES (7, :ts, :v, :x, 1, :ts)"),
                        {"ts": ts, "v": version, "x": float(n * 10 + version)},
                    )  # fmt: skip
        upgrade(engine)
        with make_session_factory(engine)() as s:
            conn = s.connection()
            assert partitions.is_partitioned(conn)
            assert {date(2024, 1, 1), date(2024, 2, 1)} <= set(partitions.monthly_partitions(conn))
            assert _where(s, 7) == {"readings_2024_01": 2, "readings_2024_02": 2}
            assert s.scalar(select(func.sum(Reading.value))) == 1 + 2 + 11 + 12
            # keys kept: the primary key refuses a second (meter, ts, version)
            with pytest.raises(Exception, match="duplicate key"):
                s.execute(
                    text("INSERT INTO readings (meter_id, ts, version, value, source, "
                         "received_at) VALUES (7, :ts, 1, 0, 1, :ts)"),
                    {"ts": stamps[0]},
                )  # fmt: skip
    finally:
        engine.dispose()


runner = CliRunner()


def test_db_partitions_command(settings: Settings, engine: Engine) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(app, ["db", "partitions", "--ahead", "5"], env=env)
    assert r.exit_code == 0, r.output
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert "not partitioned; nothing to do" in r.output
            return
        months = partitions.monthly_partitions(conn)
    first = partitions.month_start(datetime.now(UTC).date())
    ahead = [partitions.add_months(first, n) for n in range(6)]
    assert set(ahead) <= set(months)
    assert "partitions created:" in r.output


@ON_POSTGRESQL
def test_every_partition_has_the_brin_index_on_ts(session: Session, engine: Engine) -> None:
    month = date(2019, 9, 1)
    with engine.begin() as other:
        other.execute(text("DROP TABLE IF EXISTS readings_2019_09"))
    partitions._TRIED.known.clear()
    store_frame(session, _frame(900004, [datetime(2019, 9, 2, tzinfo=UTC)]))
    session.commit()
    assert month in partitions.monthly_partitions(session.connection())
    methods = session.execute(
        text(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = 'readings_2019_09'::regclass"
        )
    ).scalars()
    assert sorted(methods) == ["brin", "btree"]  # the BRIN on ts and the primary key
