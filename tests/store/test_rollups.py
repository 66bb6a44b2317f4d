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

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry_load import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Reading, Rollup
from kilnwatch.store.repos.rollups import (
    DAY,
    HOUR,
    MONTH,
    Agg,
    CounterPolicy,
    carrier_totals,
    counter_delta,
    meter_series,
    next_period,
    period_start,
    register_top,
)

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, tzinfo=UTC)


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
