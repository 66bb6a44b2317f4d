"""The collector loop: poll what is due, buffer it, send what is buffered.

Points are polled in groups of one device and one interval, each group on its own schedule
(a late poll does not bunch up: the next one is one interval after it was due, or now).
Every poll's readings, the counters' new last values and the events go into the buffer in
one transaction. Sending takes the oldest buffered readings in batches; a batch the platform
did not acknowledge stays buffered and sending pauses with an exponential back-off with
jitter, while polling goes on. ``ts`` of a reading is the instant its device answered (UTC,
millisecond resolution).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from kilnwatch.backoff import backoff_s
from kilnwatch.collect.buffer import Buffer, BufferedReading, Event
from kilnwatch.collect.checks import check_value
from kilnwatch.collect.config import CollectorConfig, PointConfig
from kilnwatch.collect.modbus import ModbusDevice
from kilnwatch.collect.senders import NotAcknowledged, Sender, make_sender
from kilnwatch.counters import RunCounters

logger = logging.getLogger("kilnwatch.collect")


@dataclass
class CollectStats(RunCounters):
    """Counters of one collector run."""

    polls: int = 0
    readings_buffered: int = 0
    read_errors: int = 0
    values_refused: int = 0
    counter_events: int = 0
    batches_sent: int = 0
    readings_sent: int = 0
    send_failures: int = 0


@dataclass
class _Group:
    device: ModbusDevice
    interval_s: float
    points: list[PointConfig]
    next_due: float = 0.0


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Collector:
    """Poll, buffer, send; ``run(stop)`` returns once ``stop`` is set."""

    def __init__(self, config: CollectorConfig, sender: Sender | None = None,
                 rng: random.Random | None = None) -> None:  # fmt: skip
        assert config.buffer is not None, "read_config resolves the buffer path"
        self.config = config
        self.buffer = Buffer(config.buffer)
        self.sender = sender or make_sender(config.platform)
        self.rng = rng or random.Random()
        self.stats = CollectStats()
        self.groups = self._groups()
        self._last_counter = self.buffer.last_counters()
        self._send_failures = 0
        self._send_blocked_until = 0.0

    def _groups(self) -> list[_Group]:
        groups = []
        for device_config in self.config.devices:
            device = ModbusDevice(device_config)
            by_interval: dict[float, list[PointConfig]] = defaultdict(list)
            for point in device_config.points:
                by_interval[point.interval_s or device_config.interval_s].append(point)
            groups += [_Group(device, s, points) for s, points in by_interval.items()]
        return groups

    def run(self, stop: threading.Event) -> CollectStats:
        try:
            while not stop.is_set():
                self.poll_due()
                self.flush()
                stop.wait(self._sleep_s())
            self.flush()
        finally:
            self.close()
        return self.stats

    def run_once(self) -> CollectStats:
        """Poll every point once and send what the buffer holds (commissioning)."""
        try:
            self.poll_all()
            self.flush()
        finally:
            self.close()
        return self.stats

    def poll_all(self) -> None:
        """Poll every group of points now, whatever its schedule."""
        for group in self.groups:
            self._poll(group)

    def close(self) -> None:
        for group in self.groups:
            group.device.close()
        self.sender.close()
        self.buffer.close()

    def poll_due(self) -> None:
        for group in self.groups:
            now = time.monotonic()
            if now >= group.next_due:
                self._poll(group)
                group.next_due = max(group.next_due + group.interval_s, now)

    def _poll(self, group: _Group) -> None:
        values = group.device.read(group.points)
        ts = _now_ms()
        readings: list[BufferedReading] = []
        counters: list[BufferedReading] = []
        events: list[Event] = []
        for pv in values:
            point = pv.point
            if pv.value is None:
                self.stats.read_errors += 1
                logger.warning("%s %s: %s", group.device.config.name, point.meter, pv.error)
                continue
            verdict = check_value(point.kind, pv.value, self._last_counter.get(point.meter))
            if verdict.code is not None:
                events.append(Event(ts, verdict.code, point.meter, verdict.message))
                logger.warning("%s: %s %s", point.meter, verdict.code, verdict.message)
            if not verdict.send:
                self.stats.values_refused += 1
                continue
            reading = BufferedReading(point.meter, ts, pv.value, point.unit)
            readings.append(reading)
            if point.kind == "counter":
                counters.append(reading)
        self.buffer.add(readings, counters, events)
        for c in counters:
            self._last_counter[c.meter_code] = c.value
        self.stats.polls += 1
        self.stats.readings_buffered += len(readings)
        self.stats.counter_events += sum(e.code.startswith("collect.counter.") for e in events)

    def flush(self) -> int:
        """Send buffered readings until the buffer is empty or the platform does not answer."""
        sent = 0
        while time.monotonic() >= self._send_blocked_until:
            batch = self.buffer.oldest(self.config.platform.batch_max)
            if not batch:
                break
            try:
                self.sender.send([r for _, r in batch])
            except NotAcknowledged as exc:
                self._pause_sending(str(exc))
                break
            self.buffer.delete([i for i, _ in batch])
            self._send_failures = 0
            self.stats.batches_sent += 1
            self.stats.readings_sent += len(batch)
            sent += len(batch)
        return sent

    def _pause_sending(self, reason: str) -> None:
        platform = self.config.platform
        self._send_failures += 1
        self.stats.send_failures += 1
        wait = backoff_s(self._send_failures, platform.retry_initial_s, platform.retry_max_s,
                         self.rng)  # fmt: skip
        self._send_blocked_until = time.monotonic() + wait
        logger.warning("platform did not acknowledge (%s); %d reading(s) buffered, next try in "
                       "%.1f s", reason, self.buffer.count(), wait)  # fmt: skip

    def _sleep_s(self) -> float:
        now = time.monotonic()
        waits = [g.next_due - now for g in self.groups]
        if self._send_blocked_until > now and self.buffer.count():
            waits.append(self._send_blocked_until - now)
        return max(min(waits), 0.01)
