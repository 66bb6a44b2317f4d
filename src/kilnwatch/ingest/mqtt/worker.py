"""The MQTT ingest worker: shared subscription, QoS 1, batched commits, acks after commit.

paho-mqtt 2 with MQTT 5 and ``manual_ack=True``: messages are collected into a batch (up to
``batch_readings`` readings, ``max_delay_ms`` after the first message, or ``receive_maximum``
messages), the batch is validated and stored in one transaction, and only after the commit
are its messages acknowledged (PUBACK). A worker killed before the ack gets the messages
again (persistent session: ``clean_start=False`` and a session expiry), and the idempotent
store turns the redelivery into counted duplicates. Several workers with the same share
group split the load; each needs its own client id. With an outlet (``--log``: the ingest
log) the worker stores nothing itself: it publishes the batch to JetStream and acknowledges
once JetStream holds it; the log's writers store it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.errors import InputError
from kilnwatch.ingest.gateways import GatewayDirectory
from kilnwatch.ingest.mqtt.parse import DEFAULT_GROUP, DEFAULT_PREFIX, gateway_of, shared_filter
from kilnwatch.ingest.payloads import parse_json_readings
from kilnwatch.ingest.pipeline import (
    Delivery,
    Outlet,
    ReadingCounts,
    RejectedDelivery,
    count_stored,
    ingest_deliveries,
    reject_deliveries,
)
from kilnwatch.ingest.validate import GatewayInfo, ValidationPolicy
from kilnwatch.metrics import COMMIT_FAILURES, READINGS_RECEIVED

logger = logging.getLogger("kilnwatch.ingest.mqtt")

RETRY_DELAY_S = 1.0
POLL_S = 0.2
PAYLOAD_LOG_BYTES = 2000


@dataclass(frozen=True)
class MqttOptions:
    """Connection and batching settings of one worker."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "kilnwatch-ingest-1"
    group: str = DEFAULT_GROUP
    prefix: str = DEFAULT_PREFIX
    batch_readings: int = 5000
    max_delay_ms: int = 200
    receive_maximum: int = 1000
    session_expiry_s: int = 3600
    keepalive_s: int = 30


@dataclass
class WorkerStats:
    """Counters of one worker: messages and batches, and the readings they carried."""

    messages: int = 0
    """Messages of committed batches."""
    batches: int = 0
    """Committed batches (one transaction each)."""
    messages_rejected: int = 0
    """Messages dead-lettered whole (unknown gateway, unreadable payload)."""
    commit_failures: int = 0
    """Batch commits that failed (retried; never acknowledged before a commit)."""
    acked: int = 0
    """Messages acknowledged to the broker, each after its batch committed."""
    readings: ReadingCounts = field(default_factory=ReadingCounts)


@dataclass
class _Pending:
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    readings: int = 0


class MqttIngestWorker:
    """Receive, batch, store, commit, then ack. ``run(stop)`` returns after ``stop`` is set
    and the current batch is committed and acknowledged."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        options: MqttOptions,
        policy: ValidationPolicy,
        on_ready: Callable[[], None] | None = None,
        outlet: Outlet | None = None,
    ) -> None:
        self.factory = factory
        self.outlet = outlet
        self.options = options
        self.policy = policy
        self.stats = WorkerStats()
        self.gateways = GatewayDirectory(factory, "mqtt")
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._subscribed = threading.Event()
        self._on_ready = on_ready
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.options.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, rc: object,
                    _p: object = None) -> None:  # fmt: skip
        logger.info("mqtt connected: %s", rc)
        topic = shared_filter(self.options.group, self.options.prefix)
        client.subscribe(topic, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, *_args: object) -> None:
        self._subscribed.set()
        if self._on_ready is not None:
            self._on_ready()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(message)

    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.options.session_expiry_s
        props.ReceiveMaximum = self.options.receive_maximum
        self.client.connect(
            self.options.host, self.options.port, self.options.keepalive_s,
            clean_start=False, properties=props,
        )  # fmt: skip
        self.client.loop_start()

    def run(self, stop: threading.Event) -> WorkerStats:
        """Process batches until ``stop`` is set; always ends with a committed, acked batch."""
        self.connect()
        try:
            while not stop.is_set():
                pending = self._collect(stop)
                if pending.messages:
                    self._process_until_done(pending, stop)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats

    def _collect(self, stop: threading.Event) -> _Pending:
        pending = _Pending()
        try:
            first = self._inbox.get(timeout=POLL_S)
        except queue.Empty:
            return pending
        self._add(pending, first)
        deadline = time.monotonic() + self.options.max_delay_ms / 1000
        while (
            pending.readings < self.options.batch_readings
            and len(pending.messages) < self.options.receive_maximum
            and not stop.is_set()
        ):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._add(pending, self._inbox.get(timeout=left))
            except queue.Empty:
                break
        return pending

    def _add(self, pending: _Pending, message: mqtt.MQTTMessage) -> None:
        pending.messages.append(message)
        pending.readings += max(1, message.payload.count(b'"meter_code"'))

    def _process_until_done(self, pending: _Pending, stop: threading.Event) -> None:
        while True:
            try:
                self.process(pending.messages)
                break
            except Exception:
                self.stats.commit_failures += 1
                COMMIT_FAILURES.inc()
                logger.exception("mqtt batch of %d messages failed", len(pending.messages))
                if stop.wait(RETRY_DELAY_S):
                    return  # not acked: the broker redelivers to the next session
        for message in pending.messages:
            self.client.ack(message.mid, message.qos)
        self.stats.acked += len(pending.messages)

    def process(self, messages: list[mqtt.MQTTMessage]) -> None:
        """Validate and store the messages in one transaction and commit, or with an outlet
        (the ingest log) hand them over and return once it holds them (no ack here)."""
        now = datetime.now(UTC)
        deliveries: list[Delivery] = []
        rejected: list[RejectedDelivery] = []
        for m in messages:
            item = self._delivery(m)
            if isinstance(item, Delivery):
                deliveries.append(item)
                READINGS_RECEIVED.labels("mqtt").inc(len(item.rows))
            else:
                rejected.append(item)
        if self.outlet is not None:
            self.outlet(deliveries, rejected)
        else:
            with self.factory() as session:
                reject_deliveries(session, rejected, now=now)
                results = ingest_deliveries(session, deliveries, policy=self.policy, now=now)
                session.commit()
            for r in results:
                self.stats.readings.add(r)
                count_stored("mqtt", r)
        self.stats.messages_rejected += len(rejected)
        self.stats.messages += len(messages)
        self.stats.batches += 1

    def _delivery(self, message: mqtt.MQTTMessage) -> Delivery | RejectedDelivery:
        topic = message.topic
        code = gateway_of(topic, self.options.prefix)
        entry = self.gateways.lookup(code) if code is not None else None
        gateway = entry.gateway if entry is not None else None
        if gateway is None:
            reason = f"no active mqtt gateway for topic {topic!r}"
            return self._reject(topic, "ingest.unknown_gateway", reason, message, None)
        try:
            rows = parse_json_readings(bytes(message.payload))
        except InputError as exc:
            return self._reject(topic, exc.code, exc.message, message, gateway)
        return Delivery("mqtt", topic, rows, gateway)

    @staticmethod
    def _reject(topic: str, code: str, reason: str, message: mqtt.MQTTMessage,
                gateway: GatewayInfo | None) -> RejectedDelivery:  # fmt: skip
        payload = message.payload[:PAYLOAD_LOG_BYTES].decode("utf-8", "replace")
        return RejectedDelivery("mqtt", topic, code, reason, payload, gateway)
