"""Targets and the durable queue on SQLite and PostgreSQL: import, selection, each reading
queued once per target (late data and corrections included), outcomes, pruning."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from forward_support import NOW, UPSTREAM_MN, add_readings, load_platform_registry, targets_toml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected
from kilnwatch.forward.queue import (
    due_frames,
    enqueue_new,
    mark_acked,
    mark_failed,
    prune_acked,
    queue_summaries,
    requeue_dead,
)
from kilnwatch.forward.targets import read_targets, save_targets, selected_meters, target_by_name
from kilnwatch.ingest.hj212 import Packet, parse_data_segment
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import ForwardFrame, ForwardItem, Meter
from zone import POLICY


@pytest.fixture
def city(session: Session, tmp_path: Path) -> int:
    load_platform_registry(session, tmp_path)
    save_targets(session, read_targets(targets_toml(tmp_path / "t.toml", 9999)))
    session.commit()
    return target_by_name(session, "city").id


def _cp(frame: ForwardFrame) -> Packet:
    segment = f"QN={frame.qn};ST=31;CN=2011;PW=p;MN={UPSTREAM_MN};CP=&&{frame.cp}&&"
    return parse_data_segment(segment.encode())


def _frames(session: Session) -> list[ForwardFrame]:
    return list(session.scalars(select(ForwardFrame).order_by(ForwardFrame.id)))


def test_import_names_the_bad_field(session: Session, tmp_path: Path) -> None:
    load_platform_registry(session, tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text('[[target]]\nname = "x"\nhost = "h"\nport = 70000\nst = "31"\npassword = "p"\n'
                    '[[target.device]]\ngateway = "GW-NOPE"\n', encoding="utf-8")  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        save_targets(session, read_targets(path))
    assert [e.location.field for e in info.value.errors] == ["target[0].port"]
    path.write_text(path.read_text().replace("70000", "9212"), encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        save_targets(session, read_targets(path), file=str(path))
    assert info.value.errors[0].location.field == "target[0].device[0].gateway"
    assert "unknown gateway 'GW-NOPE'" in info.value.errors[0].message


def test_selection_by_pollutants_and_single_meters(session: Session, city: int,
                                                    tmp_path: Path) -> None:  # fmt: skip
    ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    assert set(selected_meters(session, city)) == {ids["M-JN-SO2"], ids["M-JN-NOX"]}
    path = targets_toml(tmp_path / "t2.toml", 9999)
    path.write_text(path.read_text() + '  pollutants = ["a21002"]\n'
                    '  meters = { "M-JN-E0" = "e01" }\n', encoding="utf-8")  # fmt: skip
    save_targets(session, read_targets(path))
    chosen = selected_meters(session, city)
    assert {m: s.factor_code for m, s in chosen.items()} == {
        ids["M-JN-NOX"]: "a21002", ids["M-JN-E0"]: "e01"}  # fmt: skip


def test_each_reading_is_queued_once_late_data_and_corrections_too(
    session: Session, city: int
) -> None:
    add_readings(session, range(10))
    target = target_by_name(session, "city")
    assert enqueue_new(session, target, NOW) == 10
    assert enqueue_new(session, target, NOW) == 0
    add_readings(session, range(10, 12))  # in time
    add_readings(session, range(-5, -4))  # late: before everything queued so far
    ingest_readings(session, [RawReading("M-JN-SO2", (NOW - timedelta(minutes=30)).isoformat(),
                                         99.0, "mg/m3")], "file", "fix", policy=POLICY)  # fmt: skip
    assert enqueue_new(session, target, NOW) == 4  # 2 in time, 1 late, 1 correction
    frames = _frames(session)
    assert [f.qn for f in frames] == sorted(f.qn for f in frames)  # QN strictly increasing
    first_minute = [f for f in frames if f.data_time == NOW - timedelta(minutes=30)]
    values = [_cp(f).cp_value("a21026-Rtd") for f in first_minute]
    assert values == ["10.0", "99.0"]  # the original, then the correction
    assert _cp(first_minute[1]).cp_value("a21002-Rtd") is None  # only what changed
    assert session.scalar(select(func.count()).select_from(ForwardItem)) == 2 * 13 + 1
    assert enqueue_new(session, target, NOW) == 0


def test_readings_before_the_late_window_need_an_explicit_catch_up(session: Session,
                                                                   city: int) -> None:  # fmt: skip
    target = target_by_name(session, "city")
    target.late_window_s = 600
    add_readings(session, range(30))  # NOW-30 min .. NOW-1 min
    assert enqueue_new(session, target, NOW) == 10
    assert enqueue_new(session, target, NOW, since=NOW - timedelta(hours=1)) == 20


def test_outcomes_requeue_and_prune(session: Session, city: int) -> None:
    add_readings(session, range(3))
    target = target_by_name(session, "city")
    target.max_attempts = 2
    enqueue_new(session, target, NOW)
    first, second, third = due_frames(session, city, NOW, 10)
    rng = random.Random(1)
    mark_acked(first, NOW)
    assert not mark_failed(second, target, NOW, "no reply", rng)
    assert second.next_attempt_at > NOW
    assert mark_failed(third, target, NOW, "no reply", rng) is False
    assert mark_failed(third, target, NOW, "no reply", rng) is True
    session.flush()
    assert due_frames(session, city, NOW, 10) == []
    (summary,) = queue_summaries(session)
    assert summary.counts == {"pending": 1, "acked": 1, "dead": 1}
    assert requeue_dead(session, city, NOW) == 1
    session.flush()
    assert [f.id for f in due_frames(session, city, NOW, 10)] == [third.id]
    later = NOW + timedelta(seconds=target.late_window_s + 1)
    assert prune_acked(session, target, later) == 1
    assert session.scalar(select(func.count()).select_from(ForwardItem)) == 4
