"""Rollups: pure parts (counter deltas, periods, merge) and incremental == from-scratch."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.counters import CounterPolicy
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry_load import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Reading, Rollup
from kilnwatch.store.repos.rollups import (
    DAY,
    HOUR,
    MONTH,
    Agg,
    carrier_totals,
    meter_series,
    next_period,
    period_start,
)

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_periods() -> None:
    ts = datetime(2025, 1, 31, 17, 30, tzinfo=UTC)  # 2025-02-01 01:30 in Beijing
    assert period_start(ts, DAY, SHANGHAI) == datetime(2025, 1, 31, 16, tzinfo=UTC)
    assert period_start(ts, MONTH, SHANGHAI) == datetime(2025, 1, 31, 16, tzinfo=UTC)
    feb = period_start(ts, MONTH, SHANGHAI)
    assert next_period(feb, MONTH, SHANGHAI) == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert next_period(feb, DAY, SHANGHAI) == datetime(2025, 2, 1, 16, tzinfo=UTC)


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


def _snapshot(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(Rollup.meter_id, Rollup.grain, Rollup.period_start, Rollup.sum, Rollup.count,
               Rollup.first_ts, Rollup.last_ts, Rollup.resets).order_by(
            Rollup.meter_id, Rollup.grain, Rollup.period_start)
    ).all()  # fmt: skip
    return [tuple(round(x, 6) if isinstance(x, float) else x for x in r) for r in rows]


def test_out_of_order_chunks_equal_one_delivery(session: Session) -> None:
    """Late data in any order gives the same rollups as one in-order delivery."""
    import_registry(session, REGISTRY)
    session.commit()
    t0 = datetime(2025, 3, 31, 12, tzinfo=UTC)
    rng = random.Random(7)
    register, rows = 1000.0, []
    for i in range(300):
        register += rng.choice([0.0, 1.5, 2.0, 7.25])
        ts = (t0 + timedelta(minutes=37 * i)).isoformat()
        rows.append(RawReading("M-JN-E0", ts, register, "kWh", None, i))
        rows.append(RawReading("M-JN-C0", ts, register % 5, "t", None, i))
    ingest_readings(session, rows, "file", "all", now=NOW)
    session.commit()
    expected = _snapshot(session)
    session.execute(Rollup.__table__.delete())
    session.execute(Reading.__table__.delete())
    session.commit()
    chunks = [rows[i : i + 50] for i in range(0, len(rows), 50)]
    rng.shuffle(chunks)
    for chunk in chunks:
        ingest_readings(session, chunk, "file", "chunk", now=NOW)
        session.commit()
    assert _snapshot(session) == expected
    months = carrier_totals(session, MONTH, t0 - timedelta(days=40), t0 + timedelta(days=40))
    assert {g.carrier for g in months} == {"electricity", "raw_coal"}
    e0 = session.scalar(select(Meter.id).where(Meter.code == "M-JN-E0"))
    assert e0 is not None
    hours = meter_series(session, [e0], HOUR, t0, t0 + timedelta(days=30))
    assert sum(p.sum for p in hours) == pytest.approx(register - rows[0].value)  # type: ignore[operator]


def test_sql_rollups_equal_the_python_reference(session: Session) -> None:
    """Counters with roll-overs, resets, corrections: SQL refresh == row-by-row refresh."""
    from kilnwatch.store.repos.rollups import refresh_rollups, refresh_rollups_python

    import_registry(session, REGISTRY)
    session.commit()
    t0 = datetime(2025, 3, 31, 14, tzinfo=UTC)
    rng = random.Random(11)
    register, rows = 99_000.0, []
    for i in range(400):
        step = rng.choice([0.0, 3.5, 250.0, -50.0])
        register = (register + step) % 100_000 if step >= 0 else max(register + step, 0.0)
        ts = (t0 + timedelta(minutes=13 * i)).isoformat()
        rows.append(RawReading("M-JN-E0", ts, register, "kWh", None, i))
        rows.append(RawReading("M-JN-C0", ts, (register % 7) + 1, "t", None, i))
    rows += [RawReading("M-JN-E0", rows[20].ts, 5.0, "kWh", None, 999)]  # a correction
    ingest_readings(session, rows, "file", "all", now=NOW)
    session.commit()
    sql = _snapshot(session)
    assert any(r[7] for r in sql)  # resets were seen
    ids: dict[int, str] = {m: k for m, k in session.execute(select(Meter.id, Meter.measurement))}  # noqa: C416
    changed = {m: [t0, t0 + timedelta(days=4)] for m in ids}
    session.execute(Rollup.__table__.delete())
    refresh_rollups_python(session, changed, ids, SHANGHAI)
    session.commit()
    assert _snapshot(session) == sql
    session.execute(Rollup.__table__.delete())
    refresh_rollups(session, changed, ids, SHANGHAI)
    session.commit()
    assert _snapshot(session) == sql


def _month_sums(session: Session, code: str) -> dict[datetime, tuple[float, int]]:
    meter = session.scalar(select(Meter.id).where(Meter.code == code))
    rows = session.execute(
        select(Rollup.period_start, Rollup.sum, Rollup.count)
        .where(Rollup.meter_id == meter, Rollup.grain == MONTH)
    ).all()  # fmt: skip
    return {p: (round(s, 6), n) for p, s, n in rows}


APRIL = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 2025-04-01 00:00 Asia/Shanghai
MARCH_START = datetime(2025, 2, 28, 16, tzinfo=UTC)


def test_reading_at_local_midnight_on_the_1st_closes_the_previous_month(session: Session) -> None:
    """Counter and interval readings close the interval ending at ``ts``: (start, end]."""
    import_registry(session, REGISTRY)
    session.commit()
    times = [APRIL - timedelta(minutes=15), APRIL, APRIL + timedelta(minutes=15)]
    rows = []
    for i, (ts, register) in enumerate(zip(times, (100.0, 110.0, 125.0), strict=True)):
        rows.append(RawReading("M-JN-E1", ts.isoformat(), register, "kWh", None, i))
        rows.append(RawReading("M-JN-C0", ts.isoformat(), float(i + 1), "t", None, i))
        rows.append(RawReading("M-JN-SO2", ts.isoformat(), float(10 * (i + 1)), "mg/m3", None, i))
    result = ingest_readings(session, rows, "file", "boundary", now=NOW)
    assert result.rejected == [] and result.accepted == 9
    session.commit()
    assert _month_sums(session, "M-JN-C0") == {MARCH_START: (3.0, 2), APRIL: (3.0, 1)}
    assert _month_sums(session, "M-JN-E1") == {MARCH_START: (10.0, 2), APRIL: (15.0, 1)}
    assert _month_sums(session, "M-JN-SO2") == {MARCH_START: (10.0, 1), APRIL: (50.0, 2)}
    e1 = session.scalar(select(Meter.id).where(Meter.code == "M-JN-E1"))
    march = session.execute(
        select(Rollup.first_ts, Rollup.last_ts, Rollup.first, Rollup.last).where(
            Rollup.meter_id == e1, Rollup.grain == DAY, Rollup.period_start < APRIL)
    ).one()  # fmt: skip
    assert tuple(march) == (times[0], times[1], 100.0, 110.0)  # real timestamps and values
    hour = meter_series(session, [e1], HOUR, APRIL - timedelta(hours=1), APRIL)
    assert [(p.period_start, p.sum, p.count) for p in hour] == [
        (APRIL - timedelta(hours=1), 10.0, 2)
    ]


def test_late_reading_at_the_hour_recomputes_the_hour_it_closes(session: Session) -> None:
    """A reading arriving later at exactly hh:00 joins hour hh-1; the next counter step moves."""
    from kilnwatch.store.repos.rollups import refresh_rollups_python

    import_registry(session, REGISTRY)
    session.commit()
    h0 = datetime(2025, 5, 1, 2, tzinfo=UTC)
    first = [
        RawReading("M-JN-C0", (h0 + timedelta(minutes=m)).isoformat(), 1.0, "t", None, m)
        for m in (15, 30, 45)
    ] + [
        RawReading("M-JN-E1", (h0 + timedelta(minutes=30)).isoformat(), 100.0, "kWh", None, 1),
        RawReading("M-JN-E1", (h0 + timedelta(hours=2)).isoformat(), 130.0, "kWh", None, 2),
    ]
    ingest_readings(session, first, "file", "first", now=NOW)
    session.commit()
    late = [
        RawReading("M-JN-C0", (h0 + timedelta(hours=1)).isoformat(), 1.0, "t", None, 1),
        RawReading("M-JN-E1", (h0 + timedelta(hours=1)).isoformat(), 120.0, "kWh", None, 2),
    ]
    ingest_readings(session, late, "file", "late", now=NOW)
    session.commit()
    ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    c0 = meter_series(session, [ids["M-JN-C0"]], HOUR, h0, h0 + timedelta(hours=3))
    assert [(p.period_start, p.sum, p.count) for p in c0] == [(h0, 4.0, 4)]
    e1 = meter_series(session, [ids["M-JN-E1"]], HOUR, h0, h0 + timedelta(hours=3))
    assert [(p.period_start, p.sum) for p in e1] == [(h0, 20.0), (h0 + timedelta(hours=1), 10.0)]
    incremental = _snapshot(session)
    measurements = dict(session.execute(select(Meter.id, Meter.measurement)).all())
    session.execute(Rollup.__table__.delete())
    changed = {m: [h0, h0 + timedelta(hours=3)] for m in (ids["M-JN-C0"], ids["M-JN-E1"])}
    refresh_rollups_python(session, changed, measurements, SHANGHAI)
    session.commit()
    assert _snapshot(session) == incremental


def test_reading_period_shifts_only_interval_ends() -> None:
    from kilnwatch.store.repos.rollups import reading_period

    assert reading_period(APRIL, MONTH, SHANGHAI, "interval") == MARCH_START
    assert reading_period(APRIL, MONTH, SHANGHAI, "counter") == MARCH_START
    assert reading_period(APRIL, MONTH, SHANGHAI, "instant") == APRIL
    later = APRIL + timedelta(microseconds=1)
    assert reading_period(later, DAY, SHANGHAI, "counter") == APRIL


def test_hours_from_memory_equal_the_sql_recompute(session: Session) -> None:
    """The fast path (hours of fresh ranges computed in Polars) == the SQL rollups."""
    from kilnwatch.store.repos.rollups import refresh_rollups

    import_registry(session, REGISTRY)
    session.commit()
    t0 = datetime(2025, 3, 31, 15, tzinfo=UTC)
    rng = random.Random(5)
    register, rows = 99_500.0, []
    for i in range(240):
        step = rng.choice([0.0, 3.5, 120.0, -40.0])
        register = (register + step) % 100_000 if step >= 0 else max(register + step, 0.0)
        ts = (t0 + timedelta(minutes=5 * i)).isoformat()
        rows.append(RawReading("M-JN-E1", ts, register, "kWh", None, i))
        rows.append(RawReading("M-JN-C0", ts, (register % 7) + 1, "t", None, i))
        rows.append(RawReading("M-JN-SO2", ts, register % 50, "mg/m3", None, i))
    half = len(rows) // 2
    for part in (rows[:half], rows[half:]):  # the second part continues stored hours
        ingest_readings(session, part, "file", "fast", now=NOW)
        session.commit()
    fast = _snapshot(session)
    assert any(r[7] for r in fast)  # resets were seen
    ids = dict(session.execute(select(Meter.id, Meter.measurement)).all())
    session.execute(Rollup.__table__.delete())
    refresh_rollups(session, {m: [t0, t0 + timedelta(days=1)] for m in ids}, ids, SHANGHAI)
    session.commit()
    assert _snapshot(session) == fast


def test_hour_rollups_in_memory() -> None:
    import polars as pl

    from kilnwatch.store.rollups_sql import hour_rollups

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
