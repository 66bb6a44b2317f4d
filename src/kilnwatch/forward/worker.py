"""The forwarding worker of one target (``kilnwatch forward hj212 --target NAME``).

Every ``poll_s`` it fills the queue from new readings (one transaction); then it takes up to
``window_frames`` due frames, sends them over one connection and waits up to
``ack_timeout_s`` for their data replies. Acknowledged frames are done; the others get their
next attempt after an exponential back-off with jitter, or go to the dead letters after
``max_attempts`` (one transaction per round). A receiver that cannot be reached costs no
attempt: frames are attempted only when sent, and the connection itself is retried with the
same back-off. A frame acknowledged and recorded is never sent again; a frame sent but not
recorded (a crash mid-round) is sent again with the same QN (at least once).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.backoff import backoff_s
from kilnwatch.counters import RunCounters
from kilnwatch.errors import FrameError, NotFoundError
from kilnwatch.forward.frames import Upstream, encode_upload
from kilnwatch.forward.queue import (
    due_frames,
    enqueue_new,
    mark_acked,
    mark_failed,
    next_due_at,
    prune_acked,
    utc_now,
)
from kilnwatch.forward.targets import target_by_name
from kilnwatch.forward.uplink import ConnectionLost, Reply, Uplink
from kilnwatch.ingest.hj212.model import Edition
from kilnwatch.store.models import ForwardDevice, ForwardFrame, ForwardTarget

logger = logging.getLogger("kilnwatch.forward")


@dataclass
class ForwardStats(RunCounters):
    """Counters of one worker run."""

    frames_queued: int = 0
    frames_sent: int = 0
    frames_acked: int = 0
    frames_failed: int = 0
    frames_dead: int = 0
    connect_failures: int = 0
    rounds: int = 0


class ForwardWorker:
    """Fill, send, wait for replies, record; ``run(stop)`` returns once ``stop`` is set."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        target_name: str,
        *,
        poll_s: float = 1.0,
        rng: random.Random | None = None,
        on_ready: Callable[[ForwardTarget], None] | None = None,
    ) -> None:
        self.factory = factory
        self.poll_s = poll_s
        self.rng = rng or random.Random()
        self.stats = ForwardStats()
        self._on_ready = on_ready
        with factory() as session:
            target = target_by_name(session, target_name)
            self.target_id = target.id
            self.uplink = Uplink(target.host, target.port, target.ack_timeout_s)
        self._connect_failures = 0
        self._next_fill = 0.0
        self._blocked_until = 0.0

    def run(self, stop: threading.Event) -> ForwardStats:
        if self._on_ready is not None:
            with self.factory() as session:
                target = session.get(ForwardTarget, self.target_id)
                assert target is not None
                self._on_ready(target)
        try:
            while not stop.is_set():
                if time.monotonic() >= self._next_fill:
                    self.fill()
                    self._next_fill = time.monotonic() + self.poll_s
                if not self.round():
                    stop.wait(self._idle_s())
        finally:
            self.uplink.close()
        return self.stats

    def fill(self, since: datetime | None = None) -> int:
        """Queue frames for new readings and prune old acknowledged ones; commit."""
        now = utc_now()
        with self.factory() as session:
            target = self._target(session)
            queued = enqueue_new(session, target, now, since)
            prune_acked(session, target, now)
            session.commit()
        self.stats.frames_queued += queued
        return queued

    def round(self) -> bool:
        """Send the due frames once and record their outcome; False when nothing was due."""
        if time.monotonic() < self._blocked_until:
            return False
        with self.factory() as session:
            target = self._target(session)
            frames = due_frames(session, target.id, utc_now(), target.window_frames)
            if not frames:
                return False
            if not self.uplink.connected and not self._connect(target):
                return False
            self._exchange(session, target, frames)
            session.commit()
        self.stats.rounds += 1
        return True

    def _connect(self, target: ForwardTarget) -> bool:
        try:
            self.uplink.connect()
        except OSError as exc:
            self._connect_failures += 1
            self.stats.connect_failures += 1
            wait = backoff_s(self._connect_failures, target.backoff_initial_s,
                             target.backoff_max_s, self.rng)  # fmt: skip
            self._blocked_until = time.monotonic() + wait
            logger.warning("forward %s: cannot reach %s:%s (%s); next try in %.1f s",
                           target.name, target.host, target.port, exc, wait)  # fmt: skip
            return False
        self._connect_failures = 0
        logger.info("forward %s: connected to %s:%s", target.name, target.host, target.port)
        return True

    def _exchange(
        self, session: Session, target: ForwardTarget, frames: list[ForwardFrame]
    ) -> None:
        devices = {d.id: d for d in session.scalars(
            select(ForwardDevice).where(ForwardDevice.target_id == target.id))}  # fmt: skip
        now = utc_now()
        payload: list[bytes] = []
        sent: list[tuple[ForwardFrame, str]] = []
        for frame in frames:
            device = devices[frame.device_id]
            upstream = Upstream(device.mn, device.password or target.password, target.st,
                                Edition(target.edition))  # fmt: skip
            try:
                payload.append(encode_upload(upstream, frame.qn, frame.cp))
            except FrameError as exc:
                self._failed(frame, target, now, f"cannot encode: {exc.message}")
                continue
            sent.append((frame, device.mn))
        if not sent:
            return
        replies: list[Reply] = []
        lost: str | None
        try:
            self.uplink.send(payload)
        except ConnectionLost as exc:
            lost = str(exc)
        else:
            deadline = time.monotonic() + target.ack_timeout_s
            replies, lost = self.uplink.replies_until(deadline, {(f.qn, mn) for f, mn in sent})
        self.stats.frames_sent += len(sent)
        self._record(target, sent, replies, lost)

    def _record(self, target: ForwardTarget, sent: list[tuple[ForwardFrame, str]],
                replies: list[Reply], lost: str | None) -> None:  # fmt: skip
        by_key = {(r.qn, r.mn): r for r in replies}
        now = utc_now()
        for frame, mn in sent:
            reply = by_key.get((frame.qn, mn))
            if reply is not None and reply.accepted:
                mark_acked(frame, now)
                self.stats.frames_acked += 1
            elif reply is not None:
                self._failed(frame, target, now, f"refused by the receiver: {reply.detail}")
            elif lost is not None:
                self._failed(frame, target, now, f"connection lost: {lost}")
            else:
                self._failed(frame, target, now, f"no reply within {target.ack_timeout_s:g} s")

    def _failed(
        self, frame: ForwardFrame, target: ForwardTarget, now: datetime, error: str
    ) -> None:
        self.stats.frames_failed += 1
        if mark_failed(frame, target, now, error, self.rng):
            self.stats.frames_dead += 1
            logger.warning("forward %s: frame QN %s dead after %d attempts: %s",
                           target.name, frame.qn, frame.attempts, error)  # fmt: skip

    def _target(self, session: Session) -> ForwardTarget:
        target = session.get(ForwardTarget, self.target_id)
        if target is None:
            raise NotFoundError(f"forwarding target {self.target_id} was removed")
        return target

    def _idle_s(self) -> float:
        waits = [self.poll_s, max(self._next_fill - time.monotonic(), 0.0)]
        if self._blocked_until > time.monotonic():
            waits.append(self._blocked_until - time.monotonic())
        with self.factory() as session:
            due = next_due_at(session, self.target_id)
        if due is not None:
            waits.append(max((due - utc_now()).total_seconds(), 0.0))
        return max(min(waits), 0.01)
