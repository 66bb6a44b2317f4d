"""Meter operation from the hourly rollups: online rate, silent, stuck, replaced."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kilnwatch.metering import enterprise_operation
from kilnwatch.metering.operation import REPLACED, SILENT, STUCK
from metering._factory import (
    HOURS,
    REPLACED_AT,
    SILENT_HOURS,
    START,
    STUCK_HOURS,
    load_readings,
    load_registry,
)


def test_operation_events_and_figures(session: Session, tmp_path: Path) -> None:
    ent = load_registry(session, tmp_path)
    load_readings(session)
    end = START + timedelta(hours=HOURS)
    op = enterprise_operation(session, [ent.id], START, end, as_of=date(2025, 9, 2))[ent.id]
    meters = {m.meter_code: m for m in op.meters}
    events = sorted((e.code, e.meter_code, e.start, e.end) for e in op.events)
    hour = timedelta(hours=1)
    assert events == sorted([
        (REPLACED, "M-JN-E0", START + (REPLACED_AT - 1) * hour, START + REPLACED_AT * hour),
        (STUCK, "M-JN-E1", START + STUCK_HOURS[0] * hour, START + (STUCK_HOURS[-1] + 1) * hour),
        (SILENT, "M-JN-C0", START + SILENT_HOURS[0] * hour,
         START + (SILENT_HOURS[-1] + 1) * hour),
    ])  # fmt: skip
    assert meters["M-JN-E0"].online_fraction == 1.0
    assert meters["M-JN-C0"].online_fraction == pytest.approx((HOURS - 26) / HOURS)
    assert meters["M-JN-C0"].completeness_fraction == pytest.approx((HOURS - 26) / HOURS)
    assert op.calibration_overdue == 1  # the SO2 analyser, due 2025-09-01
    assert op.anomalies == 3 and op.count(SILENT) == 1
    assert op.online_fraction == pytest.approx((4 * HOURS + HOURS - 26) / (5 * HOURS))


def test_an_enterprise_without_meters(session: Session) -> None:
    load_registry(session)
    op = enterprise_operation(session, [999], START, START + timedelta(hours=2))[999]
    assert op.meters == [] and op.online_fraction == 0.0 and op.anomalies == 0


def test_no_witness_no_stuck_meter(session: Session) -> None:
    """Without the clinker output meter there is no witness that E1 should advance."""
    ent = load_registry(session)
    load_readings(session, with_output=False)
    end = START + timedelta(hours=HOURS)
    op = enterprise_operation(session, [ent.id], START, end)[ent.id]
    assert op.count(STUCK) == 0 and op.count(SILENT) == 1 and op.count(REPLACED) == 1


def test_a_window_past_the_data_stops_at_the_data(session: Session, tmp_path: Path) -> None:
    ent = load_registry(session, tmp_path)
    load_readings(session)
    late = START + timedelta(days=30)
    op = enterprise_operation(session, [ent.id], START, late)[ent.id]
    # the instant SO2 reading at START + HOURS opens one more hour
    assert {m.meter_code: m.hours for m in op.meters}["M-JN-E0"] == HOURS + 1
    assert op.count(SILENT) == 1 and op.count(STUCK) == 1
