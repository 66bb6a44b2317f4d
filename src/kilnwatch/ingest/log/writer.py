"""A stateless writer of the ingest log: pull, store through the pipeline, commit, then ack.

A writer holds no state of its own: it fetches up to ``batch`` messages from the durable
consumer shared by all writers, decodes them, stores their deliveries in **one**
transaction through :func:`~kilnwatch.ingest.pipeline.ingest_frame` (the validation,
meter locks, staging and group commit of every other path) with their whole-delivery
rejections as dead letters, commits, and only then acknowledges each message. Any number of
writers can run on any hosts; add one to take more load, kill one at any moment:

* killed before its commit: nothing of the batch is stored; JetStream delivers the
  unacknowledged messages again after ``ack_wait_s``, to whichever writer fetches next;
* killed after its commit but before its acks: the messages come again and are skipped: the
  transaction that stored them also recorded their ids (``Nats-Msg-Id``) in the inbox
  (:mod:`kilnwatch.store.repos.inbox`), so a redelivery is recognised whatever was stored
  since — a correction of the same reading in between included, which the store's dedup by
  value would take for a new version (counted as ``already_stored``). Inbox rows older than
  ``LogOptions.inbox_horizon_s`` are deleted by the writers every ``INBOX_PURGE_S``.

A batch whose commit fails is tried message by message, so that one message the store
refuses cannot hold up the others; a message that fails alone is handed back (``nak`` with a
delay) and counted. A message that cannot be decoded is dead-lettered
(``ingest.log_malformed``) and acknowledged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.counters import RunCounters
from kilnwatch.errors import InputError
from kilnwatch.ingest.log.codec import MALFORMED, DecodedMessage, decode
from kilnwatch.ingest.log.stream import LogOptions, connect, consumer_config, ensure_stream
from kilnwatch.ingest.meters import MeterCache
from kilnwatch.ingest.pipeline import (
    DeliveryMeta,
    ReadingCounts,
    RejectedDelivery,
    count_stored,
    ingest_frame,
    reject_deliveries,
)
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.ingest.vectorised import raw_frame_from_readings
from kilnwatch.metrics import (
    BATCH_COMMIT_SECONDS,
    COMMIT_FAILURES,
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    MESSAGES_IN_FLIGHT,
    REDELIVERIES,
)
from kilnwatch.store.models import SOURCE_CODES
from kilnwatch.store.repos.inbox import claim_messages, expire_inbox

logger = logging.getLogger("kilnwatch.ingest.log")

NAK_DELAY_S = 5.0
LAG_POLL_S = 5.0
METER_RELOAD_S = 60.0
RETRY_S = 0.5
INBOX_PURGE_S = 600.0
"""How often a writer deletes the inbox rows older than the horizon [s]."""
MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True)
class WriterOptions:
    """How a writer fetches.

    Parameters
    ----------
    batch : int
        Most messages per fetch, stored in one transaction.
    fetch_timeout_s : float
        Longest wait for a fetch when the log is empty [s].
    """

    batch: int = 200
    fetch_timeout_s: float = 1.0


@dataclass
class WriterStats(RunCounters):
    """Counters of one writer: ``messages`` by outcome (``stored``: committed, then
    acknowledged; ``redelivered``: received more than once; ``already_stored``: skipped, its
    id in the inbox (a redelivery of a committed message; also counted in ``stored``);
    ``malformed``: dead-lettered unread; ``failed``: in a commit that failed), committed
    ``batches``, and the readings."""

    messages: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    readings: ReadingCounts = field(default_factory=ReadingCounts)


_SOURCE = re.compile(rb'"source":"([a-z0-9]+)"')


def _unreadable(m: Msg, stream: str, exc: InputError) -> RejectedDelivery:
    """The dead letter of a message that cannot be decoded (source as far as it is legible)."""
    found = _SOURCE.search(m.data[:4000])
    source = found.group(1).decode() if found else ""
    ref = f"log {stream}:{m.metadata.sequence.stream}"
    payload = m.data[:2000].decode("utf-8", "replace")
    return RejectedDelivery(source if source in SOURCE_CODES else "file", ref, MALFORMED,
                            exc.message, payload)  # fmt: skip


_Item = tuple[Msg, DecodedMessage | RejectedDelivery]


def message_id(m: Msg) -> str:
    """The message's ``Nats-Msg-Id`` (the publisher's content hash), or the SHA-256 of its
    body when it has none (published by another tool)."""
    given = (m.headers or {}).get(MSG_ID)
    return given if given else hashlib.sha256(m.data).hexdigest()


async def _acknowledge(msgs: Sequence[Msg]) -> None:
    """Acknowledge committed messages. An acknowledgement that cannot be sent (the node went
    away) is not retried: the message comes again and the store finds its readings stored."""
    done = await asyncio.gather(*(m.ack() for m in msgs), return_exceptions=True)
    lost = [r for r in done if isinstance(r, BaseException)]
    if lost:
        logger.warning("%d acknowledgements not sent (%r): redelivery expected", len(lost),
                       lost[0])  # fmt: skip


class LogWriter:
    """Pull from the writers' consumer, store, commit, ack; ``run(stop)`` until ``stop``."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        log: LogOptions,
        options: WriterOptions,
        policy: ValidationPolicy,
        name: str = "kilnwatch-writer",
    ) -> None:
        self.factory = factory
        self.log = log
        self.options = options
        self.policy = policy
        self.name = name
        self.stats = WriterStats()
        self.client: Client | None = None
        self._cache = MeterCache(policy)
        self._cache_at = time.monotonic()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="log-writer")
        self._purged_at: float | None = None

    @property
    def connected(self) -> bool:
        """Whether the writer's connection to a server is up (for ``/healthz``)."""
        return self.client is not None and self.client.is_connected

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> WriterStats:
        """Fetch and store until ``stop`` is set; the current batch is committed and acked."""
        self.client = await connect(self.log, self.name)
        try:
            js = await ensure_stream(self.client, self.log)
            sub = await self._subscribe(js)
            lag = asyncio.create_task(self._watch_lag(sub, stop))
            if ready is not None:
                ready.set()
            try:
                while not stop.is_set():
                    await self._step(sub, stop)
            finally:
                lag.cancel()
        finally:
            await self._close()
            self._executor.shutdown(wait=True)
        return self.stats

    async def _close(self) -> None:
        """Send the last acknowledgements, then close (a drain would wait for the pull
        subscription's outstanding request until its timeout)."""
        assert self.client is not None
        try:
            await self.client.flush(timeout=5)
        except (TimeoutError, nats.errors.Error) as exc:
            logger.warning("flushing the last acknowledgements: %r", exc)
        await self.client.close()

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        for _ in range(120):
            try:
                return await js.pull_subscribe(self.log.consumer_subject, durable=self.log.consumer,
                                               stream=self.log.stream,
                                               config=consumer_config(self.log))  # fmt: skip
            except (TimeoutError, nats.errors.Error) as exc:
                logger.warning("consumer %s not ready: %r", self.log.consumer, exc)
                await asyncio.sleep(RETRY_S)
        raise RuntimeError(f"consumer {self.log.consumer!r} unavailable")

    async def _step(self, sub: JetStreamContext.PullSubscription, stop: asyncio.Event) -> None:
        try:
            msgs = await sub.fetch(self.options.batch, timeout=self.options.fetch_timeout_s)
        except (TimeoutError, nats.errors.TimeoutError):
            return
        except nats.errors.Error as exc:  # a node went away: the client reconnects
            logger.warning("fetch failed: %r", exc)
            await asyncio.sleep(RETRY_S)
            return
        MESSAGES_IN_FLIGHT.set(len(msgs))
        try:
            await self._handle(msgs, stop)
        finally:
            MESSAGES_IN_FLIGHT.set(0)

    async def _handle(self, msgs: list[Msg], stop: asyncio.Event) -> None:
        again = sum(1 for m in msgs if m.metadata.num_delivered > 1)
        self.stats.messages["redelivered"] += again
        REDELIVERIES.inc(again)
        items = self._decode(msgs)
        try:
            await self._store_items(items)
        except Exception:
            self._failed(len(items))
            if len(items) > 1 and not stop.is_set():
                await self._one_by_one(items)
            else:
                await asyncio.gather(*(m.nak(delay=NAK_DELAY_S) for m in msgs))
            return
        await _acknowledge(msgs)
        self.stats.messages["stored"] += len(msgs)
        self.stats.batches += 1

    def _decode(self, msgs: Sequence[Msg]) -> list[_Item]:
        items: list[_Item] = []
        for m in msgs:
            try:
                items.append((m, decode(m.data)))
            except InputError as exc:
                self.stats.messages["malformed"] += 1
                items.append((m, _unreadable(m, self.log.stream, exc)))
        return items

    def store(self, msgs: Sequence[Msg]) -> None:
        """Decode and store ``msgs`` in one transaction and commit, without acknowledging
        them: what the writer does with a fetch before its acknowledgements (blocking)."""
        self._store([(message_id(m), d) for m, d in self._decode(msgs)])

    async def _store_items(self, items: Sequence[_Item]) -> None:
        loop = asyncio.get_running_loop()
        content = [(message_id(m), d) for m, d in items]
        await loop.run_in_executor(self._executor, self._store, content)

    async def _one_by_one(self, items: Sequence[_Item]) -> None:
        for item in items:
            try:
                await self._store_items([item])
            except Exception:
                self._failed(1)
                await item[0].nak(delay=NAK_DELAY_S)
                continue
            await _acknowledge([item[0]])
            self.stats.messages["stored"] += 1

    def _failed(self, messages: int) -> None:
        self.stats.messages["failed"] += messages
        COMMIT_FAILURES.inc()
        logger.exception("storing %d log messages failed", messages)

    def _meter_cache(self) -> MeterCache:
        """Meter facts, read again every minute (a meter registered meanwhile is seen)."""
        if time.monotonic() - self._cache_at > METER_RELOAD_S:
            self._cache = MeterCache(self.policy)
            self._cache_at = time.monotonic()
        return self._cache

    def _store(self, items: Sequence[tuple[str, DecodedMessage | RejectedDelivery]]) -> None:
        """One transaction for the batch: the message ids into the inbox, then the messages
        not processed before (deliveries through the pipeline, dead letters)."""
        started = time.perf_counter()
        with self.factory() as session:
            self._purge_inbox(session)
            fresh = claim_messages(session, (i for i, _ in items), datetime.now(UTC))
            new: dict[str, DecodedMessage | RejectedDelivery] = {}
            for msg_id, item in items:
                if msg_id in fresh:
                    new.setdefault(msg_id, item)
            skipped = len(items) - len(new)
            decoded = [d for d in new.values() if isinstance(d, DecodedMessage)]
            deliveries = [d for m in decoded for d in m.deliveries]
            rejected = [*(r for m in decoded for r in m.rejected),
                        *(d for d in new.values() if isinstance(d, RejectedDelivery))]  # fmt: skip
            times = [m.received_at for m in decoded]
            now = max(times) if times else datetime.now(UTC)
            results = []
            if deliveries:
                metas = [DeliveryMeta(d.source, d.source_ref, len(d.rows), d.gateway,
                                      d.batch_key or f"log {d.source}: {len(deliveries)} "
                                      f"deliveries from {deliveries[0].source_ref}")
                         for d in deliveries]  # fmt: skip
                rows = [r for d in deliveries for r in d.rows]
                raw = raw_frame_from_readings([d.rows for d in deliveries])
                results = ingest_frame(session, metas, raw, rows.__getitem__, policy=self.policy,
                                       now=now, cache=self._meter_cache())  # fmt: skip
            reject_deliveries(session, rejected, now=now)
            session.commit()
        BATCH_COMMIT_SECONDS.observe(time.perf_counter() - started)
        self.stats.messages["already_stored"] += skipped
        for d, r in zip(deliveries, results, strict=True):
            self.stats.readings.add(r)
            count_stored(d.source, r)

    def _purge_inbox(self, session: Session) -> None:
        """Every ``INBOX_PURGE_S``: delete the inbox rows older than the horizon (in the
        batch's transaction)."""
        if self._purged_at is not None and time.monotonic() - self._purged_at < INBOX_PURGE_S:
            return
        horizon = timedelta(seconds=self.log.inbox_horizon_s)
        expire_inbox(session, datetime.now(UTC) - horizon)
        self._purged_at = time.monotonic()

    async def _watch_lag(self, sub: JetStreamContext.PullSubscription, stop: asyncio.Event,
                         ) -> None:  # fmt: skip
        while not stop.is_set():
            try:
                info = await sub.consumer_info()
                CONSUMER_PENDING.set(info.num_pending or 0)
                CONSUMER_ACK_PENDING.set(info.num_ack_pending or 0)
            except (TimeoutError, nats.errors.Error) as exc:
                logger.debug("consumer info: %r", exc)
            await asyncio.sleep(LAG_POLL_S)
