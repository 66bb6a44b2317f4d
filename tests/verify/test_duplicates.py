"""Repeated deliveries: recorded at ingestion (``delivery_repeats``), found by
``verify.timeseries.duplicates`` only when they come in bursts or systematically."""

from __future__ import annotations

import numpy as np
import pytest
from _verify_factory import MARCH, Plant, store
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Meter, Reading
from kilnwatch.store.models.ingest import DeliveryRepeat
from kilnwatch.verify.detectors.timeseries import busy_windows, repeat_episodes
from kilnwatch.verify.run import verify_period
from zone import POLICY

CODE = "E-K1-COAL"


def _redeliver(session: Session, positions: list[int]) -> int:
    """Send the stored readings at ``positions`` (hour index) again, unchanged."""
    meter_id = session.scalar(select(Meter.id).where(Meter.code == CODE))
    stored = session.execute(
        select(Reading.ts, Reading.value).where(Reading.meter_id == meter_id).order_by(Reading.ts)
    ).all()
    rows = [RawReading(CODE, stored[i][0], stored[i][1], "t") for i in positions]
    result = ingest_readings(session, rows, "http", "test", policy=POLICY)
    assert (result.accepted, result.duplicates) == (0, len(positions))
    return int(meter_id or 0)


def _codes(session: Session) -> list[str]:
    return sorted(f.rule_code for f in verify_period(session, MARCH).findings)


def test_repeats_scattered_over_a_day_are_found(session: Session) -> None:
    store(session, Plant())
    meter_id = _redeliver(session, [100, 104, 109, 113, 118])
    n = session.scalar(
        select(func.count()).select_from(DeliveryRepeat).where(DeliveryRepeat.meter_id == meter_id)
    )
    assert n == 5
    assert _codes(session) == ["verify.timeseries.duplicates"]


def test_one_resent_batch_and_an_odd_repeat_are_normal(session: Session) -> None:
    store(session, Plant())
    _redeliver(session, [100, 101, 102, 103, 104, 105])  # one timeout: a batch sent again
    _redeliver(session, [200, 400])  # now and then
    assert _codes(session) == []


@pytest.mark.parametrize("gap_h", [1, 2, 7])
def test_episodes_merge_consecutive_timestamps(gap_h: int) -> None:
    step = 3600
    ts = np.array([0, 3600, 7200, 7200 + gap_h * 3600], dtype=np.int64)
    episodes = repeat_episodes(ts, step)
    assert episodes.size == (1 if gap_h == 1 else 2)
    assert busy_windows(episodes, 86_400, 3) == []
    assert busy_windows(np.array([0, 10, 20, 90_000]), 86_400, 3) == [(0, 20)]
