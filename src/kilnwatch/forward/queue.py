"""The durable per-target queue (``forward_frames``): fill, take due frames, record outcomes.

Filling (:func:`enqueue_new`) reads the readings of the target's meters whose ``ts`` lies in
the late window (``late_window_s`` back from now, never before the target's ``start_at``)
along the primary key of ``readings``, leaves out those already marked in ``forward_items``
for this target, and queues the rest as frames (:mod:`kilnwatch.forward.frames`). A reading
is therefore queued once per target, whether it arrived in time, late, or again; a
correction (a new version) is queued as a new frame. Marks of acknowledged frames are pruned
once their readings have left the late window.

Repositories flush; the worker commits (one transaction per fill and per round).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from kilnwatch.backoff import backoff_s
from kilnwatch.forward.frames import ForwardReading, build_drafts, next_qn
from kilnwatch.forward.targets import selected_meters
from kilnwatch.store.models import (
    ForwardFrame,
    ForwardItem,
    ForwardTarget,
    Reading,
)
from kilnwatch.store.models.forward import ACKED, DEAD, FRAME_STATES, PENDING

_IN_CHUNK = 500  # meter ids per IN (...) list: far below every backend's parameter limit


def _window_start(target: ForwardTarget, now: datetime, since: datetime | None) -> datetime:
    if since is not None:
        return since
    return max(target.start_at, now - timedelta(seconds=target.late_window_s))


def _unmarked(
    session: Session, target_id: int, meter_ids: list[int], lo: datetime
) -> list[Reading]:
    marked = exists().where(and_(
        ForwardItem.target_id == target_id, ForwardItem.meter_id == Reading.meter_id,
        ForwardItem.ts == Reading.ts, ForwardItem.version == Reading.version))  # fmt: skip
    stmt = (select(Reading).where(Reading.meter_id.in_(meter_ids), Reading.ts >= lo, ~marked)
            .order_by(Reading.ts, Reading.meter_id, Reading.version))  # fmt: skip
    return list(session.scalars(stmt))


def enqueue_new(
    session: Session, target: ForwardTarget, now: datetime, since: datetime | None = None
) -> int:
    """Queue frames for the target's readings not yet queued; return the number of frames.

    Parameters
    ----------
    since : datetime, optional
        Look back to this instant instead of the late window (an operator's catch-up after a
        long outage of the platform's own inputs).
    """
    meters = selected_meters(session, target.id)
    ids = sorted(meters)
    lo = _window_start(target, now, since)
    rows: list[ForwardReading] = []
    for start in range(0, len(ids), _IN_CHUNK):
        for r in _unmarked(session, target.id, ids[start : start + _IN_CHUNK], lo):
            s = meters[r.meter_id]
            rows.append(ForwardReading(r.meter_id, r.ts, r.version, r.value, r.flag,
                                      s.device_id, s.factor_code, s.meter_unit))  # fmt: skip
    drafts = build_drafts(rows)
    if not drafts:
        return 0
    qn = session.scalar(
        select(func.max(ForwardFrame.qn)).where(ForwardFrame.target_id == target.id)
    )
    items: list[dict[str, object]] = []
    for draft in drafts:
        qn = next_qn(qn, now)
        frame = ForwardFrame(target_id=target.id, device_id=draft.device_id, qn=qn,
                             data_time=draft.data_time, cp=draft.cp, state=PENDING, attempts=0,
                             next_attempt_at=now, created_at=now)  # fmt: skip
        session.add(frame)
        session.flush()
        items += [{"target_id": target.id, "meter_id": m, "ts": ts, "version": v,
                   "frame_id": frame.id} for m, ts, v in draft.keys]  # fmt: skip
    session.execute(insert(ForwardItem), items)
    session.flush()
    return len(drafts)


def due_frames(session: Session, target_id: int, now: datetime, limit: int) -> list[ForwardFrame]:
    """Pending frames whose next attempt is due, oldest first."""
    stmt = (select(ForwardFrame)
            .where(ForwardFrame.target_id == target_id, ForwardFrame.state == PENDING,
                   ForwardFrame.next_attempt_at <= now)
            .order_by(ForwardFrame.id).limit(limit))  # fmt: skip
    return list(session.scalars(stmt))


def next_due_at(session: Session, target_id: int) -> datetime | None:
    """When the earliest pending frame of the target is due, or None."""
    return session.scalar(
        select(func.min(ForwardFrame.next_attempt_at)).where(
            ForwardFrame.target_id == target_id, ForwardFrame.state == PENDING
        )
    )


def mark_acked(frame: ForwardFrame, now: datetime) -> None:
    """The receiver answered: the frame is delivered."""
    frame.attempts += 1
    frame.state, frame.acked_at, frame.last_attempt_at, frame.last_error = ACKED, now, now, None


def mark_failed(
    frame: ForwardFrame, target: ForwardTarget, now: datetime, error: str, rng: random.Random
) -> bool:
    """An attempt without acknowledgement: retry later, or dead letter; True when dead."""
    frame.attempts += 1
    frame.last_attempt_at, frame.last_error = now, error[:300]
    if frame.attempts >= target.max_attempts:
        frame.state = DEAD
        return True
    wait = backoff_s(frame.attempts, target.backoff_initial_s, target.backoff_max_s, rng)
    frame.next_attempt_at = now + timedelta(seconds=wait)
    return False


def requeue_dead(session: Session, target_id: int, now: datetime) -> int:
    """Give the target's dead letters a fresh set of attempts; return how many."""
    result = session.execute(
        update(ForwardFrame)
        .where(ForwardFrame.target_id == target_id, ForwardFrame.state == DEAD)
        .values(state=PENDING, attempts=0, next_attempt_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune_acked(session: Session, target: ForwardTarget, now: datetime) -> int:
    """Drop acknowledged frames (and their marks) whose readings have left the late window.

    A frame acknowledged before ``now - late_window_s`` only carries readings with ``ts``
    before that instant, which the selector no longer looks at.
    """
    cutoff = now - timedelta(seconds=target.late_window_s)
    old = select(ForwardFrame.id).where(
        ForwardFrame.target_id == target.id, ForwardFrame.state == ACKED,
        ForwardFrame.acked_at < cutoff)  # fmt: skip
    session.execute(delete(ForwardItem).where(ForwardItem.frame_id.in_(old)))
    result = session.execute(delete(ForwardFrame).where(ForwardFrame.id.in_(old)))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class QueueSummary:
    """Queue state of one target."""

    target: str
    counts: dict[str, int]
    oldest_pending_at: datetime | None
    next_attempt_at: datetime | None


def queue_summaries(session: Session) -> list[QueueSummary]:
    """Frames per state, the oldest pending DataTime and the next attempt, per target."""
    out = []
    for target in session.scalars(select(ForwardTarget).order_by(ForwardTarget.name)):
        counts = dict.fromkeys(FRAME_STATES, 0)
        for state, n in session.execute(
            select(ForwardFrame.state, func.count()).where(ForwardFrame.target_id == target.id)
            .group_by(ForwardFrame.state)):  # fmt: skip
            counts[state] = n
        pending = (ForwardFrame.target_id == target.id) & (ForwardFrame.state == PENDING)
        oldest = session.scalar(select(func.min(ForwardFrame.data_time)).where(pending))
        out.append(QueueSummary(target.name, counts, oldest, next_due_at(session, target.id)))
    return out


def dead_letters(session: Session, target_id: int | None, limit: int) -> Sequence[ForwardFrame]:
    """Dead frames, newest attempt first."""
    stmt = select(ForwardFrame).where(ForwardFrame.state == DEAD)
    if target_id is not None:
        stmt = stmt.where(ForwardFrame.target_id == target_id)
    return session.scalars(stmt.order_by(ForwardFrame.last_attempt_at.desc()).limit(limit)).all()


def utc_now() -> datetime:
    return datetime.now(UTC)
