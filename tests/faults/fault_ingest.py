"""What the fault tests send and count: a gateway and its meter, numbered readings, a QoS 1
publisher that counts the broker's acknowledgements, and the stored rows (each figure a fault
test states: readings sent, acknowledged, stored, doubled)."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select

from kilnwatch.identity import hash_secret
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import Enterprise, Gateway, Meter, Reading
from kilnwatch.store.seed import seed_regions

LONG = os.environ.get("KILNWATCH_FAULTS") == "long"
ROUNDS = 10 if LONG else 1
"""Restarts per fault test: one in ``make test``, ten in ``make soak``
(``KILNWATCH_FAULTS=long``)."""
REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
USCC = "91370100MA3C4XY21E"
SECRET = "fault-test-secret"
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=30)


@dataclass(frozen=True)
class Target:
    """A gateway (its code and secret) and the one interval meter it reports for."""

    gateway: str
    meter_id: int
    meter_code: str


def add_target(engine: Engine, protocol: str, tag: str | None = None) -> Target:
    """Regions, the fixture registry (unless there) and a ``protocol`` gateway with a meter."""
    tag = tag or uuid.uuid4().hex[:8]
    with engine.begin() as conn:
        seed_regions(conn)
    with make_session_factory(engine)() as session:
        if session.scalar(select(Enterprise).where(Enterprise.uscc == USCC)) is None:
            import_registry(session, REGISTRY)
        enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == USCC))
        assert enterprise is not None
        gw = Gateway(code=f"GW-F-{tag}", enterprise_id=enterprise.id, protocol=protocol,
                     secret_hash=hash_secret(SECRET))  # fmt: skip
        session.add(gw)
        session.flush()
        meter = Meter(code=f"M-F-{tag}", enterprise_id=enterprise.id, carrier="water",
                      level="entry", measurement="interval", unit_of_measure="m3",
                      gateway_id=gw.id)  # fmt: skip
        session.add(meter)
        session.commit()
        return Target(gw.code, meter.id, meter.code)


def readings(code: str, first: int, n: int) -> list[dict[str, object]]:
    """Readings number ``first`` … ``first + n - 1`` of a meter: one a minute from ``T0``."""
    return [
        {"meter_code": code, "unit": "m3", "value": 1.0 + k % 7,
         "ts": (T0 + timedelta(minutes=k)).isoformat()}
        for k in range(first, first + n)
    ]  # fmt: skip


def payloads(code: str, first_message: int, messages: int, per_message: int) -> Iterator[bytes]:
    """JSON payloads of ``per_message`` readings each, numbered on from ``first_message``."""
    for m in range(first_message, first_message + messages):
        yield json.dumps({"readings": readings(code, m * per_message, per_message)}).encode()


def stored(engine: Engine, meter_id: int) -> tuple[int, int, int]:
    """Rows stored for the meter, distinct timestamps among them, highest version."""
    with make_session_factory(engine)() as s:
        where = Reading.meter_id == meter_id
        rows = s.scalar(select(func.count()).select_from(Reading).where(where)) or 0
        times = s.scalar(select(func.count(func.distinct(Reading.ts))).where(where)) or 0
        version = s.scalar(select(func.max(Reading.version)).where(where)) or 0
        return rows, times, version


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


NO_MATCHING_SUBSCRIBERS = 0x10
"""MQTT 5 PUBACK reason: the broker took the message but nobody was subscribed (MQTT 5.0
§3.4.2.1): a gateway sends it again. Mosquitto 2.0 answers it after a restart until the
workers have subscribed again: it keeps persistent sessions but not their shared
subscriptions."""
RESEND_AFTER_S = 0.2


class Publisher:
    """A gateway publishing at QoS 1 with a persistent session: what it sent while the
    broker was away is sent again when it is back (paho keeps it), and a message the broker
    answers with "no matching subscribers" is sent again shortly after. ``acked`` holds the
    messages the broker accepted for a subscriber: those must end up stored."""

    def __init__(self, port: int, topic: str) -> None:
        self.topic = topic
        self.acked: set[int] = set()
        self.sent = 0
        self.resent = 0
        self._by_mid: dict[int, tuple[int, bytes]] = {}
        self._early: dict[int, int] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"pub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.on_publish = self._on_publish
        self.client.reconnect_delay_set(1, 2)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 600
        self.client.connect("127.0.0.1", port, 10, clean_start=False, properties=props)
        self.client.loop_start()
        assert wait_for(self.client.is_connected, 10)

    def _send(self, n: int, payload: bytes) -> None:
        info = self.client.publish(self.topic, payload, qos=1)  # queued by paho while away
        with self._lock:  # the PUBACK may have come before publish() returned the mid
            reason = self._early.pop(info.mid, None)
            if reason is None:
                self._by_mid[info.mid] = (n, payload)
                return
        self._settle(n, payload, reason)

    def _on_publish(self, _c: object, _u: object, mid: int, reason: object, _p: object) -> None:
        code = int(getattr(reason, "value", 0))
        with self._lock:
            sent = self._by_mid.pop(mid, None)
            if sent is None:
                self._early[mid] = code
                return
        self._settle(*sent, code)

    def _settle(self, n: int, payload: bytes, code: int) -> None:
        with self._lock:
            if code != NO_MATCHING_SUBSCRIBERS:
                self.acked.add(n)
                return
            self.resent += 1
        threading.Timer(RESEND_AFTER_S, self._send, args=(n, payload)).start()

    def publish(self, items: Iterable[bytes], pause_s: float = 0.0) -> None:
        for p in items:
            self._send(self.sent, p)
            self.sent += 1
            if pause_s:
                time.sleep(pause_s)

    def all_acked(self, timeout_s: float) -> bool:
        return wait_for(lambda: len(self.acked) >= self.sent, timeout_s)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def running(worker: MqttIngestWorker) -> Iterator[threading.Event]:
    ready, stop = threading.Event(), threading.Event()
    worker._on_ready = ready.set
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert ready.wait(10)
        yield stop
    finally:
        stop.set()
        thread.join(20)
        assert not thread.is_alive()
