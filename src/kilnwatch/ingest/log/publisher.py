"""Front ends' side of the ingest log: publish deliveries to JetStream, return when stored.

:class:`LogPublisher` owns one NATS connection on an event loop in a background thread,
so the three front ends use it alike: the HTTP route (a worker thread of FastAPI), the MQTT
worker (paho's threads) and the HJ 212 sink (its writer threads) call the blocking
:meth:`LogPublisher.publish`, which returns once JetStream acknowledged every message
(stored on a majority of the stream's replicas). Only then does the front end acknowledge
its sender (HTTP response, MQTT ``PUBACK``, HJ 212 reply): an acknowledged reading is in the
log, and a writer stores it.

A publish attempt that times out or finds no stream leader (a node failed, the cluster
elects a new leader) is repeated with the same message id until ``publish_deadline_s``;
JetStream keeps one copy of a message id within its duplicate window, so a repeat after a
lost acknowledgement stores nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from kilnwatch.ingest.log.codec import LogMessage, encode
from kilnwatch.ingest.log.stream import LogOptions, connect, ensure_stream, parse_servers
from kilnwatch.ingest.pipeline import Delivery, RejectedDelivery
from kilnwatch.metrics import MESSAGES_PUBLISHED, READINGS_PUBLISHED

logger = logging.getLogger("kilnwatch.ingest.log")
_T = TypeVar("_T")

RETRY_S = 0.25
MSG_ID = "Nats-Msg-Id"


class PublishFailed(RuntimeError):
    """JetStream did not acknowledge a message within the publish deadline."""


@dataclass(frozen=True)
class Published:
    """What one :meth:`LogPublisher.publish` put in the log."""

    messages: int
    readings: int
    duplicate_messages: int
    """Messages JetStream already held (same id within the duplicate window)."""


class LogPublisher:
    """Publishes deliveries to the ingest log (one connection, its own event-loop thread).

    Parameters
    ----------
    options : LogOptions
        Servers, stream and retry settings; the stream is created when missing.
    name : str
        Client name shown by the server (``nats-server`` connection list).
    """

    def __init__(self, options: LogOptions, name: str = "kilnwatch-front-end") -> None:
        self.options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="log-publisher",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        try:
            self._call(self._start(name))
        except BaseException:
            self.close()
            raise

    async def _start(self, name: str) -> None:
        self._client = await connect(self.options, name)
        self._js = await ensure_stream(self._client, self.options)

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    @property
    def connected(self) -> bool:
        """Whether the connection to a server is up (for ``/healthz``)."""
        return self._client is not None and self._client.is_connected

    def publish(
        self,
        deliveries: Sequence[Delivery],
        rejected: Sequence[RejectedDelivery] = (),
        received_at: datetime | None = None,
    ) -> Published:
        """Publish and return once JetStream stored every message.

        Raises
        ------
        PublishFailed
            A message was not acknowledged within ``publish_deadline_s``: the caller must
            not acknowledge its sender (the sender sends again; the log and the store
            recognise what was already taken).
        """
        at = received_at or datetime.now(UTC)
        messages = encode(deliveries, rejected, at, subject=self.options.subject,
                          partitions=self.options.partitions)  # fmt: skip
        duplicates = self._call(self._publish_all(messages))
        readings = 0
        for m in messages:
            READINGS_PUBLISHED.labels(m.source).inc(m.readings)
            readings += m.readings
        MESSAGES_PUBLISHED.labels("false").inc(len(messages) - duplicates)
        MESSAGES_PUBLISHED.labels("true").inc(duplicates)
        return Published(len(messages), readings, duplicates)

    async def _publish_all(self, messages: Sequence[LogMessage]) -> int:
        acks = await asyncio.gather(*(self._publish_one(m) for m in messages))
        return sum(acks)

    async def _publish_one(self, message: LogMessage) -> bool:
        """Publish until acknowledged; True when JetStream already had the message id."""
        assert self._js is not None
        deadline = time.monotonic() + self.options.publish_deadline_s
        headers = {MSG_ID: message.msg_id}
        while True:
            try:
                ack = await self._js.publish(message.subject, message.body,
                                             timeout=self.options.publish_timeout_s,
                                             headers=headers)  # fmt: skip
                return bool(ack.duplicate)
            except (TimeoutError, nats.errors.Error) as exc:
                if time.monotonic() + RETRY_S > deadline:
                    raise PublishFailed(f"no acknowledgement from JetStream: {exc!r}") from exc
                logger.warning("publish of %s retried: %r", message.msg_id[:12], exc)
                await asyncio.sleep(RETRY_S)

    def close(self) -> None:
        """Flush and close the connection, then stop the thread (once; later calls do
        nothing)."""
        if self._loop.is_closed():
            return
        if self._client is not None and not self._client.is_closed:
            try:
                self._call(self._client.drain())
            except Exception:  # the connection may be gone already; closing is best effort
                logger.exception("closing the ingest log connection")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def open_publisher(servers: str, name: str, **options: Any) -> LogPublisher:
    """A publisher for ``nats://…[,nats://…]`` (``Settings.ingest_log``, ``--log``) with the
    default stream, or the :class:`LogOptions` fields given by keyword."""
    return LogPublisher(LogOptions(servers=parse_servers(servers), **options), name)
