"""The append fast path for rollups gives exactly the rollups of the full recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Reading, Rollup
from kilnwatch.store.rollups.append import SMALL_APPEND_ROWS, refresh_after_store
from kilnwatch.store.rollups.attribution import HOUR, MONTH
from kilnwatch.store.rollups.recompute import refresh_rollup_ranges
from kilnwatch.store.rollups.reference import refresh_rollups_python
from kilnwatch.store.staging import FRAME_SCHEMA, store_frame
from zone import POLICY

REGISTRY = Path(__file__).parents[2] / "fixtures" / "registry"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 1, tzinfo=UTC)
T0 = datetime(2025, 3, 31, 13, tzinfo=UTC)  # 21:00 in Beijing: days and a month end ahead
TOP = 100_000.0
COUNTER, INTERVAL, INSTANT = "M-JN-E1", "M-JN-C0", "M-JN-SO2"

# one step: minutes to the next reading (quarters, so many land exactly on hh:00), the
# counter's change (0.25 kWh units; -1 is a reset, 10**6 a roll-over), interval, instant value
STEP = st.tuples(
    st.sampled_from([15, 30, 45, 60, 120, 165]),
    st.sampled_from([0, 1, 10, 1_000, -1, 10**6]),
    st.integers(0, 40),
    st.integers(0, 400),
)


def _snapshot(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(Rollup.meter_id, Rollup.grain, Rollup.period_start, Rollup.sum, Rollup.count,
               Rollup.min, Rollup.max, Rollup.first, Rollup.last, Rollup.first_ts,
               Rollup.last_ts, Rollup.resets, Rollup.rollovers)
        .order_by(Rollup.meter_id, Rollup.grain, Rollup.period_start)
    ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def _rows(steps: list[tuple[int, int, int, int]]) -> list[list[RawReading]]:
    """Readings of the three meters, in time order, one list per step."""
    ts, register, out = T0, 99_000.0, []
    for i, (minutes, change, interval, instant) in enumerate(steps):
        ts += timedelta(minutes=minutes)
        if change == -1:
            register = register / 2  # a reset
        elif change == 10**6:
            register = (TOP - 2.5) if register < 0.9 * TOP else 1.25  # near the top, then over
        else:
            register = (register + change / 4) % TOP
        stamp = ts.isoformat()
        out.append([
            RawReading(COUNTER, stamp, register, "kWh", None, i),
            RawReading(INTERVAL, stamp, interval / 4, "t", None, i),
            RawReading(INSTANT, stamp, instant / 4, "mg/m3", None, i),
        ])  # fmt: skip
    return out


def _recomputed(session: Session, reference: bool) -> list[tuple[object, ...]]:
    ids = dict(session.execute(select(Meter.id, Meter.measurement)).all())
    span = (T0 - timedelta(days=1), T0 + timedelta(days=60))
    session.execute(Rollup.__table__.delete())
    if reference:
        refresh_rollups_python(session, {m: list(span) for m in ids}, ids, SHANGHAI)
    else:
        refresh_rollup_ranges(session, dict.fromkeys(ids, span), ids, SHANGHAI)
    session.commit()
    return _snapshot(session)


def test_append_groups_equal_the_full_recompute(session: Session) -> None:
    """Random append-only groups: the incremental rollups == Python and SQL recomputes."""
    import_registry(session, REGISTRY)
    session.commit()

    @given(
        st.lists(STEP, min_size=1, max_size=24),
        st.lists(st.integers(1, 5), max_size=12),
        st.booleans(),
    )
    @settings(max_examples=16, deadline=None)
    def check(steps: list[tuple[int, int, int, int]], sizes: list[int], polars: bool) -> None:
        session.execute(Rollup.__table__.delete())
        session.execute(Reading.__table__.delete())
        session.commit()
        per_step, start = _rows(steps), 0
        for size in [*sizes, len(per_step)]:
            group = [r for rows in per_step[start : start + size] for r in rows]
            start += size
            if group and polars:  # the large-append path, forced
                triples = [(r.meter_code or "", _aware(r.ts), float(r.value or 0)) for r in group]
                assert len(_store(session, triples, small_rows=0)) == 3
            elif group:  # through the pipeline: small groups, aggregated row by row
                result = ingest_readings(session, group, "file", "append", now=NOW, policy=POLICY)
                assert result.rejected == []
                session.commit()
        appended = _snapshot(session)
        assert len({r[0] for r in appended}) == 3
        assert _recomputed(session, reference=True) == appended
        assert _recomputed(session, reference=False) == appended

    check()


def _frame(session: Session, rows: list[tuple[str, datetime, float]]) -> pl.DataFrame:
    ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    return pl.DataFrame(
        [(ids[c], ts, v, None, 1, None, NOW, None) for c, ts, v in rows],
        schema=FRAME_SCHEMA,
        orient="row",
    )


def _aware(ts: object) -> datetime:
    assert isinstance(ts, str)
    return datetime.fromisoformat(ts)


def _store(
    session: Session, rows: list[tuple[str, datetime, float]], small_rows: int = SMALL_APPEND_ROWS
) -> set[int]:
    """Store and roll up like the pipeline (without validation); the meters appended."""
    measurements = dict(session.execute(select(Meter.id, Meter.measurement)).all())
    outcome = store_frame(session, _frame(session, rows))
    done = refresh_after_store(session, outcome, measurements, SHANGHAI, small_rows=small_rows)
    session.commit()
    return done


def test_only_pure_appends_take_the_fast_path(session: Session) -> None:
    """Appends (also at hh:00) are folded in; late data and corrections are recomputed."""
    import_registry(session, REGISTRY)
    session.commit()
    ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    h = datetime(2025, 4, 30, 15, tzinfo=UTC)  # 23:00 Beijing, the last hour of April
    assert _store(session, [(COUNTER, h + timedelta(minutes=20), 99_990.0)]) == {ids[COUNTER]}
    appended = _store(session, [
        (COUNTER, h + timedelta(hours=1), 99_995.0),  # closes April (period (start, end])
        (COUNTER, h + timedelta(hours=1, minutes=10), 3.0),  # roll-over in May
        (INSTANT, h + timedelta(hours=1), 7.0),  # instant: May
    ])  # fmt: skip
    assert appended == {ids[COUNTER], ids[INSTANT]}
    hours = {(r[0], r[1], r[2]): r[3:] for r in _snapshot(session)}
    assert hours[(ids[COUNTER], HOUR, h)][:2] == (5.0, 2)
    assert hours[(ids[COUNTER], HOUR, h + timedelta(hours=1))][:2] == (8.0, 1)
    assert hours[(ids[COUNTER], MONTH, h + timedelta(hours=1))][-1] == 1  # the roll-over
    late = [(COUNTER, h + timedelta(minutes=40), 99_992.0)]
    assert _store(session, late) == set()  # a later reading exists: full recompute
    corrected = [(INSTANT, h + timedelta(hours=1), 8.0)]
    assert _store(session, corrected) == set()  # a correction: full recompute
    incremental = _snapshot(session)
    assert _recomputed(session, reference=True) == incremental
