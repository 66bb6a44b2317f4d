"""Rollup recompute: the SQL recompute equals the row-by-row reference, late data in any
order equals one delivery, and readings at the hour close the period before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Reading, Rollup
from kilnwatch.store.repos.rollups import carrier_totals, meter_series
from kilnwatch.store.rollups.attribution import DAY, HOUR, MONTH
from kilnwatch.store.rollups.recompute import refresh_rollup_ranges
from kilnwatch.store.rollups.reference import refresh_rollups_python
from zone import POLICY

REGISTRY = Path(__file__).parents[2] / "fixtures" / "registry"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


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
    ingest_readings(session, rows, "file", "all", now=NOW, policy=POLICY)
    session.commit()
    expected = _snapshot(session)
    session.execute(Rollup.__table__.delete())
    session.execute(Reading.__table__.delete())
    session.commit()
    chunks = [rows[i : i + 50] for i in range(0, len(rows), 50)]
    rng.shuffle(chunks)
    for chunk in chunks:
        ingest_readings(session, chunk, "file", "chunk", now=NOW, policy=POLICY)
        session.commit()
    assert _snapshot(session) == expected
    months = carrier_totals(session, MONTH, t0 - timedelta(days=40), t0 + timedelta(days=40))
    assert {g.carrier for g in months} == {"electricity", "raw_coal"}
    e0 = session.scalar(select(Meter.id).where(Meter.code == "M-JN-E0"))
    assert e0 is not None
    hours = meter_series(session, [e0], HOUR, t0, t0 + timedelta(days=30))
    assert sum(p.sum for p in hours) == pytest.approx(register - rows[0].value)  # type: ignore[operator]


def _walk(
    counter: str, t0: datetime, n: int, minutes: int, register: float, steps: list[float]
) -> list[RawReading]:
    """A 5-digit ``counter`` stepping at random (roll-overs at 100 000, resets on a negative
    step), with interval coal and instant SO2 values derived from it, every ``minutes``."""
    rng, rows = random.Random(n), []
    for i in range(n):
        step = rng.choice(steps)
        register = (register + step) % 100_000 if step >= 0 else max(register + step, 0.0)
        ts = (t0 + timedelta(minutes=minutes * i)).isoformat()
        rows += [RawReading(counter, ts, register, "kWh", None, i),
                 RawReading("M-JN-C0", ts, (register % 7) + 1, "t", None, i),
                 RawReading("M-JN-SO2", ts, register % 50, "mg/m3", None, i)]  # fmt: skip
    return rows


def _recomputed_equal(session: Session, expected: list[tuple[object, ...]], t0: datetime) -> None:
    """Both recomputes from scratch over the days after ``t0`` give ``expected``."""
    ids: dict[int, str] = dict(session.execute(select(Meter.id, Meter.measurement)).all())  # type: ignore[arg-type]
    span = (t0, t0 + timedelta(days=4))
    session.execute(Rollup.__table__.delete())
    refresh_rollups_python(session, {m: list(span) for m in ids}, ids, SHANGHAI)
    session.commit()
    assert _snapshot(session) == expected
    session.execute(Rollup.__table__.delete())
    refresh_rollup_ranges(session, dict.fromkeys(ids, span), ids, SHANGHAI)
    session.commit()
    assert _snapshot(session) == expected


def test_sql_rollups_equal_the_python_reference(session: Session) -> None:
    """Counters with roll-overs, resets, corrections: SQL refresh == row-by-row refresh."""
    import_registry(session, REGISTRY)
    session.commit()
    t0 = datetime(2025, 3, 31, 14, tzinfo=UTC)
    rows = _walk("M-JN-E0", t0, 400, 13, 99_000.0, [0.0, 3.5, 250.0, -50.0])
    rows += [RawReading("M-JN-E0", rows[30].ts, 5.0, "kWh", None, 999)]  # a correction
    ingest_readings(session, rows, "file", "all", now=NOW, policy=POLICY)
    session.commit()
    sql = _snapshot(session)
    assert any(r[7] for r in sql)  # resets were seen
    _recomputed_equal(session, sql, t0)


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
    result = ingest_readings(session, rows, "file", "boundary", now=NOW, policy=POLICY)
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
    ingest_readings(session, first, "file", "first", now=NOW, policy=POLICY)
    session.commit()
    late = [
        RawReading("M-JN-C0", (h0 + timedelta(hours=1)).isoformat(), 1.0, "t", None, 1),
        RawReading("M-JN-E1", (h0 + timedelta(hours=1)).isoformat(), 120.0, "kWh", None, 2),
    ]
    ingest_readings(session, late, "file", "late", now=NOW, policy=POLICY)
    session.commit()
    ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    c0 = meter_series(session, [ids["M-JN-C0"]], HOUR, h0, h0 + timedelta(hours=3))
    assert [(p.period_start, p.sum, p.count) for p in c0] == [(h0, 4.0, 4)]
    e1 = meter_series(session, [ids["M-JN-E1"]], HOUR, h0, h0 + timedelta(hours=3))
    assert [(p.period_start, p.sum) for p in e1] == [(h0, 20.0), (h0 + timedelta(hours=1), 10.0)]
    _recomputed_equal(session, _snapshot(session), h0)


def test_hours_from_memory_equal_the_sql_recompute(session: Session) -> None:
    """The fast path (hours of fresh ranges computed in Polars) == the SQL rollups."""
    import_registry(session, REGISTRY)
    session.commit()
    t0 = datetime(2025, 3, 31, 15, tzinfo=UTC)
    rows = _walk("M-JN-E1", t0, 240, 5, 99_500.0, [0.0, 3.5, 120.0, -40.0])
    half = len(rows) // 2
    for part in (rows[:half], rows[half:]):  # the second part continues stored hours
        ingest_readings(session, part, "file", "fast", now=NOW, policy=POLICY)
        session.commit()
    fast = _snapshot(session)
    assert any(r[7] for r in fast)  # resets were seen
    _recomputed_equal(session, fast, t0)
