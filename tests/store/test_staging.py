"""Storing frames of readings: dedup, versioning, rounds, repeats, and two concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import Meter, Reading
from kilnwatch.store.models.ingest import DeliveryRepeat
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.rollups.attribution import HOUR
from kilnwatch.store.staging import FRAME_SCHEMA, split_frame_rounds, store_frame
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 4, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def meter(session: Session) -> int:
    import_registry(session, REGISTRY)
    session.commit()
    found = session.scalar(select(Meter.id).where(Meter.code == "M-JN-C0"))
    assert found is not None
    return found


def _frame(meter_id: int, items: list[tuple[int, float]], batch: int | None = None) -> pl.DataFrame:
    """Rows of one meter at ``T0 + minutes`` with the given values, in the order given."""
    return pl.DataFrame(
        {
            "meter_id": [meter_id] * len(items),
            "ts": [T0 + timedelta(minutes=m) for m, _ in items],
            "value": [v for _, v in items],
            "flag": [None] * len(items),
            "source": [1] * len(items),
            "batch_id": [batch] * len(items),
            "received_at": [NOW] * len(items),
            "part": [0] * len(items),
        },
        schema=FRAME_SCHEMA,
    )


def test_split_rounds_orders_versions() -> None:
    rounds = split_frame_rounds(_frame(1, [(0, 1.0), (0, 1.0), (0, 2.0), (5, 3.0)]))
    assert [r.get_column("value").to_list() for r in rounds] == [[1.0, 3.0], [2.0]]


def _versions(session: Session, meter: int, minutes: int) -> list[tuple[int, float]]:
    stored = session.execute(
        select(Reading.version, Reading.value).where(Reading.meter_id == meter)
        .where(Reading.ts == T0 + timedelta(minutes=minutes)).order_by(Reading.version)
    ).all()  # fmt: skip
    return [tuple(r) for r in stored]  # type: ignore[misc]


def test_store_new_duplicate_and_correction(session: Session, meter: int) -> None:
    first = store_frame(session, _frame(meter, [(i, float(i)) for i in range(100)]))
    assert (first.inserted, first.corrections[0]) == (100, 0)
    second = store_frame(session, _frame(meter, [(5, 5.0), (6, 60.0), (6, 61.0)]))
    assert (second.inserted, second.corrections[0]) == (2, 2)  # 3 rows, 1 duplicate
    session.commit()
    assert _versions(session, meter, 6) == [(1, 6.0), (2, 60.0), (3, 61.0)]
    assert _versions(session, meter, 5) == [(1, 5.0)]
    assert session.scalar(select(func.count()).select_from(Reading)) == 102


def test_two_workers_delivering_the_same_data(engine: Engine, meter: int) -> None:
    """Concurrent identical deliveries: every reading stored once, rollups exact."""
    rows = [
        RawReading("M-JN-C0", (T0 + timedelta(minutes=i)).isoformat(), 1.0 + i % 3, "t", None, i)
        for i in range(600)
    ]
    factory = make_session_factory(engine)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with factory() as s:
                barrier.wait()
                r = ingest_readings(s, rows, "mqtt", "race", now=NOW, policy=POLICY)
                s.commit()
                results.append(r.accepted)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(results) == [0, 600]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 600
        # the interval reading at T0 closes the hour before T0 (periods are (start, end])
        since = T0 - timedelta(hours=1)
        total = meter_totals(s, [meter], HOUR, since, T0 + timedelta(days=1))[meter]
    assert (total.count, total.sum) == (600, sum(1.0 + i % 3 for i in range(600)))


def test_store_frame_fast_path_staging_and_versions(session: Session, meter: int) -> None:
    """Direct insert when the range is empty; staging for repeats, corrections, rounds."""
    first = store_frame(session, _frame(meter, [(i, float(i)) for i in range(50)]))
    assert (first.inserted, first.direct_rows) == (50, 50)
    again = store_frame(
        session, _frame(meter, [(5, 5.0), (6, 60.0), (6, 60.0), (6, 61.0), (100, 1.0)])
    )
    assert (again.inserted, again.corrections[0], again.direct_rows) == (3, 2, 0)
    session.commit()
    assert _versions(session, meter, 6) == [(1, 6.0), (2, 60.0), (3, 61.0)]
    assert session.scalar(select(func.count()).select_from(Reading)) == 53
    assert again.ranges[meter] == (T0 + timedelta(minutes=6), T0 + timedelta(minutes=100))


def test_direct_copy_keeps_flags_nulls_and_timestamps(session: Session, meter: int) -> None:
    """The binary COPY (PostgreSQL) / executemany (SQLite) stores every column exactly."""
    frame = _frame(meter, [(i, i / 3) for i in range(6)])
    frame = frame.with_columns(
        flag=pl.Series(["N", None, "D", "", "N", None], dtype=pl.Utf8),
        batch_id=pl.Series([None, 7, 7, None, 8, 8], dtype=pl.Int64),
    )
    assert store_frame(session, frame).direct_rows == 6
    stored = session.execute(
        select(Reading.ts, Reading.value, Reading.flag, Reading.batch_id, Reading.version)
        .where(Reading.meter_id == meter)
        .order_by(Reading.ts)
    ).all()  # fmt: skip
    flags, batches = ["N", None, "D", "", "N", None], [None, 7, 7, None, 8, 8]
    assert [tuple(r) for r in stored] == [
        (T0 + timedelta(minutes=i), i / 3, f, b, 1)
        for i, f, b in zip(range(6), flags, batches, strict=True)
    ]


def test_repeated_deliveries_leave_their_record(session: Session, meter: int) -> None:
    """A repeat of a stored value, or within one frame, is not stored but recorded."""
    first = store_frame(session, _frame(meter, [(0, 1.0), (1, 2.0), (1, 2.0), (2, 3.0)], batch=1))
    assert (first.inserted, first.repeats_in_frame) == (3, 1)
    again = store_frame(session, _frame(meter, [(0, 1.0), (2, 3.5), (5, 4.0)], batch=2))
    assert again.inserted == 2  # a correction and a new value; the repeat is only recorded
    session.commit()
    rows = session.execute(
        select(DeliveryRepeat.ts, DeliveryRepeat.batch_id, DeliveryRepeat.received_at)
        .where(DeliveryRepeat.meter_id == meter)
        .order_by(DeliveryRepeat.ts)
    ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (T0, 2, NOW),
        (T0 + timedelta(minutes=1), 1, NOW),
    ]
    assert session.scalar(select(func.count()).select_from(Reading)) == 5
