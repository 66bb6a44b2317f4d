"""The JetStream stream of the ingest log: where it is, how it is configured, connecting.

One stream (default ``KILNWATCH_READINGS``) takes the subjects ``<subject>.>`` (default
``kilnwatch.readings.>``); front ends publish to ``<subject>.<partition>`` (the gateway's
partition, :func:`~kilnwatch.ingest.log.codec.partition_subject`). Retention is *work queue*:
a message is removed once a writer acknowledged it, that is after its readings were
committed. Storage is on file, replicated to ``replicas`` servers (3 in a cluster of three:
a node may fail without losing an acknowledged message), with a duplicate window in which a
message id (``Nats-Msg-Id``) already seen is stored only once.

Writers share one durable pull consumer (default ``writers``): each fetch hands a writer
messages nobody else holds; a message not acknowledged within ``ack_wait_s`` (a writer
crashed, or is stuck) is delivered again, to any writer.

The first process that starts creates the stream and the consumer; a running stream is not
changed (change it with the ``nats`` tool, or delete it when it is empty).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

logger = logging.getLogger("kilnwatch.ingest.log")

DEFAULT_STREAM = "KILNWATCH_READINGS"
DEFAULT_SUBJECT = "kilnwatch.readings"
DEFAULT_CONSUMER = "writers"
DEFAULT_PARTITIONS = 16
CLUSTER_REPLICAS = 3


@dataclass(frozen=True)
class LogOptions:
    """Where the ingest log is and how its stream and consumer are made.

    Parameters
    ----------
    servers : tuple of str
        NATS URLs (``nats://host:port``); the client also learns the cluster's other
        servers from the first one it reaches.
    stream : str
        Stream name.
    subject : str
        Subject prefix; the stream takes ``<subject>.>``.
    partitions : int
        Subjects a front end spreads its gateways over (``<subject>.0`` … ``<subject>.N-1``).
    replicas : int or None
        Copies of each message; None: 3 when the server reports a cluster, else 1.
    duplicate_window_s : float
        How long JetStream remembers message ids for deduplication [s].
    consumer : str
        Durable consumer shared by the writers.
    partition : int or None
        Only this partition's subject (``<subject>.<partition>``) for the consumer; None: all.
        A work-queue stream refuses consumers whose subjects overlap, so a log split into
        per-partition writer groups has no all-partition consumer.
    ack_wait_s : float
        Time a writer has to acknowledge a message before it is delivered again [s].
    max_ack_pending : int
        Messages delivered and not acknowledged, across all writers of the consumer.
    publish_timeout_s : float
        Wait for JetStream's acknowledgement of one publish attempt [s].
    publish_deadline_s : float
        Keep retrying a publish (same message id) this long before giving up [s]: covers a
        leader election after a node's failure.
    inbox_horizon_s : float
        How long the writers remember a committed message's id (the inbox,
        ``store/repos/inbox.py``) [s]: a redelivery or a re-publication of the same content
        within it is skipped. It must cover the longest time a committed message can stay
        unacknowledged (writers all down); at least ``duplicate_window_s``.
    """

    servers: tuple[str, ...]
    stream: str = DEFAULT_STREAM
    subject: str = DEFAULT_SUBJECT
    partitions: int = DEFAULT_PARTITIONS
    replicas: int | None = None
    duplicate_window_s: float = 120.0
    consumer: str = DEFAULT_CONSUMER
    partition: int | None = None
    ack_wait_s: float = 30.0
    max_ack_pending: int = 20_000
    publish_timeout_s: float = 5.0
    publish_deadline_s: float = 60.0
    inbox_horizon_s: float = 7 * 86_400.0

    def __post_init__(self) -> None:
        if not self.servers:
            raise ValueError("the ingest log needs at least one NATS URL")
        if self.partitions < 1:
            raise ValueError("partitions must be at least 1")
        if self.partition is not None and not 0 <= self.partition < self.partitions:
            raise ValueError(f"partition must be within 0..{self.partitions - 1}")
        if self.inbox_horizon_s < self.duplicate_window_s:
            raise ValueError("the inbox horizon must be at least the duplicate window")

    @property
    def consumer_subject(self) -> str:
        """The subjects the writers' consumer takes."""
        tail = ">" if self.partition is None else str(self.partition)
        return f"{self.subject}.{tail}"


def parse_servers(text: str) -> tuple[str, ...]:
    """``nats://a:4222,nats://b:4222`` (or bare ``host:port``) as a tuple of URLs.

    Raises
    ------
    ValueError
        A URL with another scheme or no host.
    """
    urls = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        url = part if "://" in part else f"nats://{part}"
        parsed = urlparse(url)
        if parsed.scheme not in ("nats", "tls") or not parsed.hostname:
            raise ValueError(f"not a NATS URL: {part!r} (use nats://host:port)")
        urls.append(url)
    if not urls:
        raise ValueError("no NATS URL given (use nats://host:port[,nats://host:port…])")
    return tuple(urls)


async def connect(options: LogOptions, name: str) -> Client:
    """A client that reconnects for ever (to any server of the cluster)."""

    async def on_error(exc: Exception) -> None:
        logger.warning("nats %s: %s", name, exc)

    async def on_disconnect() -> None:
        logger.info("nats %s: disconnected", name)

    async def on_reconnect() -> None:
        logger.info("nats %s: reconnected", name)

    return await nats.connect(
        servers=list(options.servers),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


def replicas_for(client: Client, options: LogOptions) -> int:
    """The configured replicas, or 3 when the connected server is part of a cluster."""
    if options.replicas is not None:
        return options.replicas
    info = client._server_info  # the INFO of the connected server; no public accessor
    return CLUSTER_REPLICAS if info.get("cluster") else 1


def stream_config(options: LogOptions, replicas: int) -> StreamConfig:
    """The stream's configuration (work-queue retention, file storage, dedup window)."""
    return StreamConfig(
        name=options.stream,
        subjects=[f"{options.subject}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=options.duplicate_window_s,
    )


def consumer_config(options: LogOptions) -> ConsumerConfig:
    """The writers' durable pull consumer: explicit acks, redelivery after ``ack_wait_s``."""
    return ConsumerConfig(
        durable_name=options.consumer,
        name=options.consumer,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=options.ack_wait_s,
        max_ack_pending=options.max_ack_pending,
        max_deliver=-1,
        filter_subject=options.consumer_subject,
    )


ENSURE_ATTEMPTS = 60
ENSURE_RETRY_S = 0.5


async def ensure_stream(client: Client, options: LogOptions) -> JetStreamContext:
    """The JetStream context, with the stream created when missing.

    A cluster still electing its meta leader answers "unavailable" for a while; the call
    retries for up to ``ENSURE_ATTEMPTS × ENSURE_RETRY_S`` seconds.
    """
    js = client.jetstream(timeout=options.publish_timeout_s)
    last: Exception | None = None
    for _ in range(ENSURE_ATTEMPTS):
        try:
            try:
                await js.stream_info(options.stream)
            except NotFoundError:
                await js.add_stream(stream_config(options, replicas_for(client, options)))
            return js
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
            last = exc
            await asyncio.sleep(ENSURE_RETRY_S)
    raise RuntimeError(f"JetStream stream {options.stream!r} unavailable: {last}")
