"""Late data in bulk recomputes only the hours it touches (and their days and months), with
the rollups of a full recompute."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Rollup
from kilnwatch.store.rollups.attribution import DAY, HOUR
from kilnwatch.store.rollups.recompute import (
    MAX_RUNS,
    refresh_rollup_ranges,
    written_runs,
)
from kilnwatch.store.rollups.reference import refresh_rollups_python
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[2] / "fixtures" / "registry"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = datetime(2025, 3, 31, 16, tzinfo=UTC)  # 1 April 00:00 in Shanghai
DAYS = 30
SENTINEL = 123_456.0


def _snapshot(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(Rollup.meter_id, Rollup.grain, Rollup.period_start, Rollup.sum, Rollup.count,
               Rollup.min, Rollup.max, Rollup.first, Rollup.last, Rollup.first_ts,
               Rollup.last_ts, Rollup.resets, Rollup.rollovers)
        .order_by(Rollup.meter_id, Rollup.grain, Rollup.period_start)
    ).all()  # fmt: skip
    return [tuple(round(x, 6) if isinstance(x, float) else x for x in r) for r in rows]


def _month(rng: random.Random) -> list[RawReading]:
    """A month of readings every 20 minutes: a counter (resets, roll-overs), interval coal,
    instant SO2."""
    register, rows = 99_000.0, []
    for i in range(DAYS * 72):
        step = rng.choice([0.0, 2.5, 40.0, 400.0, -30.0])
        register = (register + step) % 100_000 if step >= 0 else max(register + step, 0.0)
        ts = (T0 + timedelta(minutes=20 * i)).isoformat()
        rows += [RawReading("M-JN-E0", ts, register, "kWh", None, i),
                 RawReading("M-JN-C0", ts, (i % 9) * 0.25, "t", None, i),
                 RawReading("M-JN-SO2", ts, (i % 40) * 0.5, "mg/m3", None, i)]  # fmt: skip
    return rows


def _late(rng: random.Random) -> list[RawReading]:
    """A late file: readings inside stored hours on a few days, one at the hour, one at local
    midnight, a correction of a stored value."""
    rows = []
    for day, hour, minute in ((2, 3, 7), (2, 3, 47), (9, 15, 0), (9, 16, 0), (21, 8, 13),
                              (21, 9, 20)):  # fmt: skip
        ts = (T0 + timedelta(days=day, hours=hour, minutes=minute)).isoformat()
        rows += [RawReading("M-JN-E0", ts, rng.uniform(0, 99_999) // 0.25 * 0.25, "kWh", None, 0),
                 RawReading("M-JN-C0", ts, 1.75, "t", None, 0),
                 RawReading("M-JN-SO2", ts, 3.5, "mg/m3", None, 0)]  # fmt: skip
    stored = (T0 + timedelta(days=27, hours=5, minutes=20)).isoformat()
    rows.append(RawReading("M-JN-C0", stored, 9.5, "t", None, 0))  # a correction
    return rows


def test_late_file_recomputes_only_its_hours_and_equals_a_full_recompute(
    session: Session,
) -> None:
    import_registry(session, REGISTRY)
    session.commit()
    rng = random.Random(13)
    ingest_readings(session, _month(rng), "file", "month", now=NOW, policy=POLICY)
    session.commit()
    ids: dict[str, int] = dict(session.execute(select(Meter.code, Meter.id)).all())  # type: ignore[arg-type]
    e0 = ids["M-JN-E0"]
    # an hour of a day the late file does not touch: marked, it must stay as it is
    quiet = T0 + timedelta(days=15, hours=6)
    marked = (Rollup.meter_id == e0) & (Rollup.grain == HOUR) & (Rollup.period_start == quiet)
    original = session.scalar(select(Rollup.sum).where(marked))
    session.execute(update(Rollup).where(marked).values(sum=SENTINEL))
    session.commit()

    late = _late(rng)
    ingest_readings(session, late, "file", "late", now=NOW, policy=POLICY)
    session.commit()
    assert session.scalar(select(Rollup.sum).where(marked)) == SENTINEL  # not recomputed
    session.execute(update(Rollup).where(marked).values(sum=original))
    session.commit()
    incremental = _snapshot(session)
    assert any(r[11] for r in incremental)  # resets were seen
    days_after = {r[2] for r in incremental if r[0] == e0 and r[1] == DAY}
    assert len(days_after) == DAYS + 1  # the last reading closes the interval into May 1st

    measurements: dict[int, str] = dict(session.execute(select(Meter.id, Meter.measurement)).all())  # type: ignore[arg-type]
    span = (T0 - timedelta(days=1), T0 + timedelta(days=DAYS + 1))
    session.execute(Rollup.__table__.delete())
    refresh_rollup_ranges(session, dict.fromkeys(measurements, span), measurements, SHANGHAI)
    session.commit()
    assert _snapshot(session) == incremental
    session.execute(Rollup.__table__.delete())
    refresh_rollups_python(session, {m: list(span) for m in measurements}, measurements, SHANGHAI)
    session.commit()
    assert _snapshot(session) == incremental


def _written(times: list[datetime]) -> pl.DataFrame:
    return pl.DataFrame({"meter_id": [1] * len(times), "ts": times},
                        schema={"meter_id": pl.Int64, "ts": pl.Datetime("us", "UTC")})  # fmt: skip


def test_written_runs_split_at_untouched_hours() -> None:
    t = [T0 + timedelta(minutes=m) for m in (0, 50, 100, 400, 410, 2000)]
    assert written_runs(_written(t), [1]) == {1: [(t[0], t[2]), (t[3], t[4]), (t[5], t[5])]}
    assert written_runs(_written(t), [2]) == {}
    scattered = [T0 + timedelta(hours=3 * i) for i in range(MAX_RUNS + 1)]
    assert written_runs(_written(scattered), [1]) == {1: [(scattered[0], scattered[-1])]}


def test_new_late_readings_of_interval_and_instant_meters_are_folded(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New timestamps inside stored hours (interval, instant meters) are folded into their
    periods without a recompute; counters and corrections are recomputed; the rollups equal a
    full recompute."""
    from kilnwatch.store.rollups import append

    import_registry(session, REGISTRY)
    session.commit()
    rng = random.Random(29)
    ingest_readings(session, _month(rng)[: 3 * 72 * 4], "file", "days", now=NOW, policy=POLICY)
    session.commit()
    ids: dict[str, int] = dict(session.execute(select(Meter.code, Meter.id)).all())  # type: ignore[arg-type]
    recomputed: list[set[int]] = []
    real = append.refresh_rollup_runs

    def spy(session_: Session, ranges, *args, **kwargs):  # type: ignore[no-untyped-def]
        recomputed.append(set(ranges))
        return real(session_, ranges, *args, **kwargs)

    monkeypatch.setattr(append, "refresh_rollup_runs", spy)
    for group in range(6):  # late groups as a receiver's group commits would bring them
        rows = []
        for k in range(rng.randint(1, 12)):
            minute = rng.randrange(4 * 24 * 60 - 5)
            ts = (T0 + timedelta(minutes=minute, seconds=rng.choice([0, 7, 31]))).isoformat()
            coal, so2 = rng.randrange(40) * 0.25, rng.randrange(200) * 0.25
            rows += [RawReading("M-JN-C0", ts, coal, "t", None, k),
                     RawReading("M-JN-SO2", ts, so2, "mg/m3", None, k)]  # fmt: skip
        if group == 3:  # a counter and a correction: recomputed
            stored = (T0 + timedelta(minutes=20 * 5)).isoformat()
            rows += [RawReading("M-JN-E0", (T0 + timedelta(minutes=101)).isoformat(), 99_950.0,
                                "kWh", None, 0),
                     RawReading("M-JN-SO2", stored, 49.75, "mg/m3", None, 0)]  # fmt: skip
        ingest_readings(session, rows, "file", f"late-{group}", now=NOW, policy=POLICY)
        session.commit()
    folded_groups = [r for r in recomputed if not r]
    assert len(folded_groups) >= 4  # the groups without counter or correction: no recompute
    assert {ids["M-JN-E0"], ids["M-JN-SO2"]} <= set().union(*recomputed)
    incremental = _snapshot(session)

    measurements: dict[int, str] = dict(session.execute(select(Meter.id, Meter.measurement)).all())  # type: ignore[arg-type]
    span = (T0 - timedelta(days=1), T0 + timedelta(days=6))
    session.execute(Rollup.__table__.delete())
    refresh_rollup_ranges(session, dict.fromkeys(measurements, span), measurements, SHANGHAI)
    session.commit()
    assert _snapshot(session) == incremental
