"""The MQTT ingest worker: shared subscription, QoS 1, batched commits, acks after commit.

paho-mqtt 2 with MQTT 5 and ``manual_ack=True``: messages are collected into a batch (up to
``batch_readings`` readings, ``max_delay_ms`` after the first message, or ``receive_maximum``
messages), the batch is validated and stored in one transaction, and only after the commit
are its messages acknowledged (PUBACK). A worker killed before the ack gets the messages
again (persistent session: ``clean_start=False`` and a session expiry), and the idempotent
store turns the redelivery into counted duplicates. Several workers with the same share
group split the load; each needs its own client id.

A worker that never comes back: the broker keeps its session and goes on handing it a share
of new messages (Mosquitto, observed, issue 22). So every worker announces itself on a
retained presence topic (``online``; its Will says ``lost`` when the connection dies without a
DISCONNECT), and the first online worker of the group (client ids in order) takes over the
session of a peer lost for ``takeover_after_s``: it connects with the peer's client id,
unsubscribes it from the shared filter (no new share), stores and acknowledges what was queued
for it, then ends the session (``SessionExpiryInterval`` 0). A worker stopping by signal does
the same for itself (unsubscribe, drain, end the session), so nothing is left queued for it.
A peer that was only stuck and comes back later commits at most what the taker already
stored: counted as duplicates, never stored twice.

With an outlet (``--log``: the ingest log) the worker stores nothing itself: it publishes the
batch to JetStream and acknowledges once JetStream holds it; the log's writers store it.

A database that goes away (restart, fail-over) makes the batch's commit fail: the batch is
kept, retried every ``RETRY_DELAY_S`` and acknowledged only once committed. The broker going
away (restart) makes paho reconnect (``reconnect_max_s``); acknowledgements of messages received
on an earlier connection are not sent on the new one (the broker redelivers them, the store
counts them as duplicates), so an ack can never hit a reused packet id.
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

from kilnwatch.counters import RunCounters
from kilnwatch.errors import InputError
from kilnwatch.ingest.gateways import GatewayDirectory
from kilnwatch.ingest.mqtt.parse import (
    DEFAULT_GROUP,
    DEFAULT_PREFIX,
    gateway_of,
    presence_topic,
    shared_filter,
)
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
from kilnwatch.metrics import BATCH_COMMIT_SECONDS, COMMIT_FAILURES, READINGS_RECEIVED

logger = logging.getLogger("kilnwatch.ingest.mqtt")

RETRY_DELAY_S = 1.0
POLL_S = 0.2
PAYLOAD_LOG_BYTES = 2000
BROKER_WAIT_S = 10.0
ONLINE = b"online"
LOST = b"lost"


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
    takeover_after_s: float = 30.0
    """A peer whose Will said ``lost`` this long ago has its session drained by a live worker."""
    drain_quiet_s: float = 1.0
    """A session being drained is done when nothing arrived for this long."""
    reconnect_max_s: int = 10
    """Longest wait between attempts to reconnect to the broker."""


@dataclass
class WorkerStats(RunCounters):
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
    takeovers: int = 0
    """Sessions of lost peers drained and ended by this worker."""
    taken_over_messages: int = 0
    """Messages stored and acknowledged from those sessions."""
    readings: ReadingCounts = field(default_factory=ReadingCounts)


@dataclass
class _Pending:
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)
    readings: int = 0


class MqttIngestWorker:
    """Receive, batch, store, commit, then ack. ``run(stop)`` returns after ``stop`` is set,
    the current batch is committed and acknowledged and the session is drained and ended."""

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
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        self._generation = 0
        self._unsubscribed = threading.Event()
        self._on_ready = on_ready
        self._peers: dict[str, float | None] = {}
        """Peers of the group: None when online, else when their ``lost`` was seen."""
        self._peers_lock = threading.Lock()
        self.client = self._make_client(self.options.client_id)
        will = presence_topic(options.group, options.client_id, options.prefix)
        self.client.will_set(will, LOST, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = lambda *_a: self._unsubscribed.set()
        self.client.on_message = self._on_message

    def _make_client(self, client_id: str) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.reconnect_delay_set(1, self.options.reconnect_max_s)
        return client

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, rc: object,
                    _p: object = None) -> None:  # fmt: skip
        logger.info("mqtt connected: %s", rc)
        self._generation += 1
        o = self.options
        client.publish(presence_topic(o.group, o.client_id, o.prefix), ONLINE, 1, retain=True)
        client.subscribe([
            (shared_filter(o.group, o.prefix), SubscribeOptions(qos=1)),
            (presence_topic(o.group, "+", o.prefix), SubscribeOptions(qos=1)),
        ])  # fmt: skip

    def _on_subscribe(self, *_args: object) -> None:
        if self._on_ready is not None:
            ready, self._on_ready = self._on_ready, None
            ready()

    def _on_message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        peer = self._presence_of(message.topic)
        if peer is None:
            self._inbox.put((self._generation, message))
            return
        client.ack(message.mid, message.qos)
        if peer == self.options.client_id:
            return
        with self._peers_lock:
            if message.payload == ONLINE:
                self._peers[peer] = None
            elif message.payload == LOST:
                if self._peers.get(peer) is None:
                    self._peers[peer] = time.monotonic()
            else:
                self._peers.pop(peer, None)

    def _presence_of(self, topic: str) -> str | None:
        o = self.options
        head = presence_topic(o.group, "", o.prefix)
        return topic[len(head) :] if topic.startswith(head) else None

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
                pending = self._collect(self._inbox, stop)
                if pending.messages:
                    self._process_until_done(pending, stop)
                self._take_over_lost_peers(stop)
            self._leave()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats

    def _collect(
        self, inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]], stop: threading.Event
    ) -> _Pending:
        pending = _Pending()
        try:
            first = inbox.get(timeout=POLL_S)
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
                self._add(pending, inbox.get(timeout=left))
            except queue.Empty:
                break
        return pending

    def _add(self, pending: _Pending, item: tuple[int, mqtt.MQTTMessage]) -> None:
        generation, message = item
        pending.messages.append(message)
        pending.generations.append(generation)
        pending.readings += max(1, message.payload.count(b'"meter_code"'))

    def _store(self, messages: list[mqtt.MQTTMessage], stop: threading.Event) -> bool:
        """Commit ``messages``, retrying while the database is away; False when ``stop`` came
        first (then nothing may be acknowledged)."""
        while True:
            try:
                self.process(messages)
                return True
            except Exception:
                self.stats.commit_failures += 1
                COMMIT_FAILURES.inc()
                logger.exception("mqtt batch of %d messages failed", len(messages))
                if stop.wait(RETRY_DELAY_S):
                    return False

    def _process_until_done(self, pending: _Pending, stop: threading.Event) -> bool:
        if not self._store(pending.messages, stop):
            return False  # not acked: the broker redelivers to the next session
        for message, generation in zip(pending.messages, pending.generations, strict=True):
            if generation == self._generation:  # else redelivered on the new connection
                self.client.ack(message.mid, message.qos)
                self.stats.acked += 1
        return True

    def _leave(self) -> None:
        """Stop taking a share, store and ack what came, end the session. When a batch could
        not be committed (database away), keep the session and say ``lost`` instead, so that a
        peer or this worker's restart takes it over."""
        o = self.options
        clean = False
        if self.client.is_connected():
            self.client.unsubscribe(shared_filter(o.group, o.prefix))
            clean = self._unsubscribed.wait(BROKER_WAIT_S)
        give_up, go_on = threading.Event(), threading.Event()
        give_up.set()  # one attempt per batch: a stopping worker does not wait for the database
        while clean:
            pending = self._collect(self._inbox, go_on)
            if not pending.messages:
                break
            clean = self._process_until_done(pending, give_up) and all(
                g == self._generation for g in pending.generations
            )
        topic = presence_topic(o.group, o.client_id, o.prefix)
        if not clean:  # not connected: the broker has published the Will (lost) already
            _publish_if_connected(self.client, topic, LOST)
            return
        if _publish_if_connected(self.client, topic, b""):
            _end_session(self.client)

    def _take_over_lost_peers(self, stop: threading.Event) -> None:
        now = time.monotonic()
        with self._peers_lock:
            online = [c for c, lost in self._peers.items() if lost is None]
            due = [
                c for c, lost in self._peers.items()
                if lost is not None and now - lost >= self.options.takeover_after_s
            ]  # fmt: skip
        if not due or min([*online, self.options.client_id]) != self.options.client_id:
            return  # the first online worker of the group takes over
        for peer in sorted(due):
            if stop.is_set():
                return
            self._take_over(peer, stop)

    def _take_over(self, peer: str, stop: threading.Event) -> None:
        """Drain and end the session of ``peer`` (see the module docstring). The client is
        looped here, without paho's reconnects: if the peer comes back meanwhile, the broker
        hands the session back to it and this stops."""
        o = self.options
        inbox: queue.Queue[tuple[int, mqtt.MQTTMessage]] = queue.Queue()
        client = self._make_client(peer)
        client.on_message = lambda _c, _u, m: inbox.put((0, m))
        unsubscribed = threading.Event()
        client.on_unsubscribe = lambda *_a: unsubscribed.set()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = o.session_expiry_s  # kept if this worker dies meanwhile
        props.ReceiveMaximum = o.receive_maximum
        logger.warning("mqtt: taking over the session of lost worker %s", peer)
        try:
            client.connect(o.host, o.port, o.keepalive_s, clean_start=False, properties=props)
            if not _loop_until(client, client.is_connected):
                return
            client.unsubscribe(shared_filter(o.group, o.prefix))
            if not _loop_until(client, unsubscribed.is_set):
                return
            quiet_until = time.monotonic() + o.drain_quiet_s
            while time.monotonic() < quiet_until and client.is_connected():
                client.loop(0.05)
                if inbox.empty():
                    continue
                pending = self._collect(inbox, stop)
                if not self._store(pending.messages, stop):
                    return
                for message in pending.messages:
                    client.ack(message.mid, message.qos)
                client.loop(0)
                self.stats.taken_over_messages += len(pending.messages)
                quiet_until = time.monotonic() + o.drain_quiet_s
            if not client.is_connected():
                return
            self.client.publish(presence_topic(o.group, peer, o.prefix), b"", 1, retain=True)
            _end_session(client)
            self.stats.takeovers += 1
            with self._peers_lock:
                self._peers.pop(peer, None)
        except OSError as exc:
            logger.warning("mqtt: take-over of %s failed: %r", peer, exc)
        finally:
            client.disconnect()

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
            with BATCH_COMMIT_SECONDS.time(), self.factory() as session:
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


def _loop_until(client: mqtt.Client, done: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + BROKER_WAIT_S
    while not done() and time.monotonic() < deadline:
        client.loop(0.05)
    return done()


def _publish_if_connected(client: mqtt.Client, topic: str, payload: bytes) -> bool:
    """Publish a retained presence and wait for the broker's ack; False when disconnected."""
    try:
        client.publish(topic, payload, 1, retain=True).wait_for_publish(BROKER_WAIT_S)
    except (RuntimeError, ValueError):  # paho: not connected / queue refused
        return False
    return client.is_connected()


def _end_session(client: mqtt.Client) -> None:
    """Disconnect and have the broker forget the session (MQTT 5 §3.14.2.2.2)."""
    props = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.disconnect(properties=props)
