"""The database side of the HJ 212 receiver: devices from the registry, a committing sink.

* :class:`DbDeviceDirectory` builds :class:`~kilnwatch.ingest.hj212.Device` objects from the
  ``hj212`` gateways of the :class:`~kilnwatch.ingest.gateways.GatewayDirectory` (by ``mn``)
  and their meters' ``hj212_code`` (mapped for the measured ``-Rtd`` and ``-Avg`` values).
  It is reloaded every minute.
* :class:`DbFrameSink` turns a packet into readings and passes them through the one
  pipeline; commits of concurrent connections are grouped (``max_batch_frames`` frames or
  ``max_delay_ms``) into one transaction with one ``ingest_batches`` row, and every
  ``commit`` returns only after that transaction committed, so the server's reply (the
  acknowledgement) follows durable storage.
  Up to ``writers`` groups are in flight at once (each in its own thread and database
  session): the next group is validated while the previous one holds its meter locks and
  commits. Meter facts for validation are cached per writer and dropped when the directory
  reloads (every minute), like the device map itself.
* :class:`StoreBackedServer` is the HJ 212 server checking the device password (``PW``)
  against the stored scrypt hash (outcomes kept, see
  :class:`~kilnwatch.ingest.gateways.SecretCheck`).

Values of a mapped pollutant code whose kind is not stored (``-Min``, ``-Max``, converted
``-Zs*``, and ``-Cou`` unless a meter is mapped for ``<code>-Cou``: the device's emission
amount, cross-checked by :mod:`kilnwatch.emissions`) are skipped; a measured value of an
unmapped code is dead-lettered as ``ingest.unknown_meter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.config import Settings
from kilnwatch.ingest.gateways import (
    GatewayDirectory,
    GatewayEntry,
    RememberedSecrets,
    SecretCheck,
)
from kilnwatch.ingest.hj212 import (
    Device,
    HJ212Server,
    Packet,
    packet_readings,
)
from kilnwatch.ingest.hj212.records import DecodedReading
from kilnwatch.ingest.hj212.server import CommitDone
from kilnwatch.ingest.log.publisher import open_publisher
from kilnwatch.ingest.meters import MeterCache
from kilnwatch.ingest.pipeline import Delivery, DeliveryMeta, Outlet, count_stored, ingest_frame
from kilnwatch.ingest.validate import GatewayInfo, RawReading, ValidationPolicy
from kilnwatch.ingest.vectorised import raw_frame_from_readings
from kilnwatch.metrics import BATCH_COMMIT_SECONDS, READINGS_RECEIVED, serve_metrics
from kilnwatch.shutdown import loop_stop_on_signals

logger = logging.getLogger("kilnwatch.ingest.hj212")
_T = TypeVar("_T")

STORED_KINDS = ("Rtd", "Avg")
STORED_READING_KINDS = frozenset({"rtd", "avg"})
PG_WRITERS = 2  # groups in flight on PostgreSQL: validate one while the other commits


class DbDeviceDirectory:
    """HJ 212 devices from the registry (``DeviceDirectory`` protocol of the server).

    The ``hj212`` gateways of a :class:`~kilnwatch.ingest.gateways.GatewayDirectory` by MN,
    their passwords checked by a :class:`~kilnwatch.ingest.gateways.SecretCheck`. A device
    object is kept per MN with its last verified password until the next reload;
    ``generation`` grows at every reload, and caches built from registry data (the sink's
    meter facts) compare it to know when to drop themselves.
    """

    def __init__(self, factory: sessionmaker[Session], secrets: SecretCheck | None = None) -> None:
        self.gateways = GatewayDirectory(factory, "hj212", by="mn", miss_reload_s=None)
        self.secrets = secrets if secrets is not None else SecretCheck()
        self._devices: dict[str, Device] = {}
        self._devices_generation = -1

    @property
    def generation(self) -> int:
        """Reloads so far."""
        return self.gateways.generation

    def reload(self) -> None:
        """Read hj212 gateways and their meters."""
        self.gateways.reload()

    def _entry(self, mn: str) -> GatewayEntry | None:
        entry = self.gateways.lookup(mn)
        if self._devices_generation != self.gateways.generation:
            self._devices = {}  # a reload drops every device (secrets and meters may change)
            self._devices_generation = self.gateways.generation
        return entry

    def settled(self, mn: str, password: str) -> bool:
        """Whether ``password`` for ``mn`` is decided without scrypt (and apply the decision).

        True for an unknown MN (the lookup rejects it), a password verified since the last
        reload, or one whose outcome the secret check keeps; False when scrypt must run
        (:meth:`verify`, or :meth:`verify_soon` off the event loop).
        """
        entry = self._entry(mn)
        if entry is None:
            return True
        current = self._devices.get(mn)
        known_pw = current.password.encode() if current is not None else b""
        if known_pw and hmac.compare_digest(known_pw, password.encode()):
            return True  # verified since the last reload, which drops every device
        known = self.secrets.cached(password, entry.secret_hash)
        if known is None:
            return False
        if known:
            self._devices[mn] = self._device(mn, entry, password)
        return True

    def verify(self, mn: str, password: str) -> None:
        """Remember ``password`` for ``mn`` when it matches the stored hash (may run scrypt)."""
        if self.settled(mn, password):
            return
        entry = self._entry(mn)
        if entry is not None and self.secrets.verify(password, entry.secret_hash):
            self._devices[mn] = self._device(mn, entry, password)

    def verify_soon(self, mn: str, password: str) -> asyncio.Future[bool]:
        """:meth:`verify` on the event loop: scrypt in the secret check's background thread;
        the device is remembered before the future's other callbacks run."""
        entry = self._entry(mn)
        check = self.secrets.verify_soon(password, entry.secret_hash if entry else None)
        check.add_done_callback(lambda _done: self.settled(mn, password))
        return check

    def gateway(self, mn: str) -> GatewayInfo | None:
        entry = self._entry(mn)
        return entry.gateway if entry is not None else None

    def lookup(self, mn: str) -> Device | None:
        """The device; its password is the last verified one (else an unguessable token)."""
        entry = self._entry(mn)
        if entry is None:
            return None
        device = self._devices.get(mn)
        if device is None:
            device = self._devices[mn] = self._device(mn, entry, secrets.token_hex(16))
        return device

    @staticmethod
    def _device(mn: str, entry: GatewayEntry, password: str) -> Device:
        meters = {f"{code}-{kind}": meter for code, meter in entry.hj212_meters.items()
                  for kind in STORED_KINDS}  # fmt: skip
        return Device(mn=mn, password=password, compat=entry.hj212_compat, meters=meters)


class StoreBackedServer(HJ212Server):
    """HJ 212 server whose device passwords are checked against stored scrypt hashes.

    Each frame is decoded once: the packet parsed here serves the password check, the device
    lookup, the compatibility check and the sink. A password not yet known (a device's first
    frame, a changed secret) is checked with scrypt (≈ 65 ms) in the secret check's one
    background thread, once for all the frames that arrive with it meanwhile, so that the
    other connections are not held up; every later frame with that password is settled from
    memory. A reconnect storm (all devices after a restart) therefore costs one scrypt per
    device on at most one core: 1 000 devices ≈ 65 s before the last of them is acknowledged.
    """

    directory: DbDeviceDirectory

    async def close(self) -> None:
        await super().close()
        self.directory.secrets.close()

    def _before_lookup(self, packet: Packet) -> asyncio.Future[Any] | None:
        if self.directory.settled(packet.mn, packet.pw):
            return None
        return self.directory.verify_soon(packet.mn, packet.pw)


class _Payload(Mapping[str, object]):
    """A reading's dead-letter payload, built only when somebody reads it (rarely)."""

    __slots__ = ("_data", "_reading", "_ts")

    def __init__(self, reading: DecodedReading, ts: datetime) -> None:
        self._reading = reading
        self._ts = ts
        self._data: dict[str, object] | None = None

    def _dict(self) -> dict[str, object]:
        if self._data is None:
            r = self._reading
            self._data = {
                "mn": r.mn, "cn": r.cn, "code": r.code, "kind": r.kind,
                "meter_code": r.meter_code, "ts": self._ts.isoformat(), "value": r.value,
                "unit": r.unit, "flag": r.flag,
            }  # fmt: skip
        return self._data

    def __getitem__(self, key: str) -> object:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())


def _raw(reading: DecodedReading, row_no: int) -> RawReading:
    ts = reading.ts_end if reading.ts_end is not None else reading.ts
    unit = reading.unit if reading.meter_code is not None else None
    payload = _Payload(reading, ts)
    return RawReading(reading.meter_code, ts, reading.value, unit, reading.flag, row_no, payload)


def _stored(device: Device, r: DecodedReading) -> bool:
    """Measured values (Rtd/Avg), mapped or not; a ``-Cou`` total (emission amount of the
    period, HJ 212-2017 Table B.2) only on a meter mapped for it by ``<code>-Cou``."""
    if r.converted:
        return False
    if r.kind in STORED_READING_KINDS:
        return True
    return (
        r.kind == "cou"
        and r.meter_code is not None
        and (r.meter_code == device.meters.get(f"{r.code}-Cou"))
    )


def packet_rows(device: Device, packet: Packet) -> list[RawReading]:
    """Readings to store from a packet (:func:`_stored`)."""
    report = packet_readings(device, packet)
    wanted = [r for r in report.readings if _stored(device, r)]
    return [_raw(r, i) for i, r in enumerate(wanted, start=1)]


_Item = tuple[Delivery, CommitDone]


def _default_writers(factory: sessionmaker[Session]) -> int:
    """Concurrent group commits: PostgreSQL overlaps them; SQLite has one writer anyway."""
    bind = factory.kw.get("bind")
    dialect = getattr(getattr(bind, "dialect", None), "name", "")
    return PG_WRITERS if dialect == "postgresql" else 1


class DbFrameSink:
    """Stores packets through the pipeline with group commit (``FrameSink`` protocol).

    Parameters
    ----------
    factory : sessionmaker
        Sessions of the store.
    directory : DbDeviceDirectory
        Gateways of the devices; its reloads also refresh the cached meter facts.
    policy : ValidationPolicy
        Validation settings.
    max_batch_frames : int
        Most frames in one group commit.
    max_delay_ms : int
        Longest wait for more frames before a group is written while a writer is free [ms].
    writers : int, optional
        Groups in flight at once (threads, each with its own session). Default: 2 on
        PostgreSQL, 1 on SQLite. Meter locks keep concurrent groups exactly-once.
    outlet : Outlet, optional
        Hand each group to the ingest log (its publisher) instead of storing it: the
        replies follow JetStream's acknowledgement, and the log's writers store the group.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        directory: DbDeviceDirectory,
        policy: ValidationPolicy,
        *,
        max_batch_frames: int = 500,
        max_delay_ms: int = 10,
        writers: int | None = None,
        outlet: Outlet | None = None,
    ) -> None:
        self.factory = factory
        self.outlet = outlet
        self.directory = directory
        self.policy = policy
        self.max_batch_frames = max_batch_frames
        self.max_delay_s = max_delay_ms / 1000
        self.writers = writers if writers is not None else _default_writers(factory)
        if self.writers < 1:
            raise ValueError("writers must be at least 1")
        self._queue: list[_Item] = []
        self._wakeup: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self.frames_committed = 0
        self.groups_committed = 0

    def submit(
        self, device: Device, packet: Packet, received_at: datetime, done: CommitDone
    ) -> None:
        """Queue the packet's readings; ``done`` is called once they are committed (or not)."""
        del received_at
        gateway = self.directory.gateway(device.mn)
        rows = packet_rows(device, packet)
        READINGS_RECEIVED.labels("hj212").inc(len(rows))
        delivery = Delivery("hj212", f"{device.mn}:{packet.qn or ''}", rows, gateway)
        self._queue.append((delivery, done))
        self._ensure_task()
        assert self._wakeup is not None
        self._wakeup.set()

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
        """Return once the packet's readings are committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done(exc: BaseException | None) -> None:
            if future.done():
                return
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)

        self.submit(device, packet, received_at, done)
        await future

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._slots = asyncio.Semaphore(self.writers)
            self._task = asyncio.get_running_loop().create_task(self._flusher())

    async def _flusher(self) -> None:
        assert self._wakeup is not None and self._slots is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                waited = self._slots.locked()
                await self._slots.acquire()
                if not waited and len(self._queue) < self.max_batch_frames:
                    # a writer is free: wait a little for more frames (bounded latency);
                    # after waiting for a writer, the queue has filled meanwhile
                    await asyncio.sleep(self.max_delay_s)
                batch = self._queue[: self.max_batch_frames]
                del self._queue[: len(batch)]
                if not batch:
                    self._slots.release()
                    break
                task = asyncio.get_running_loop().create_task(self._write(batch))
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)

    async def _write(self, batch: Sequence[_Item]) -> None:
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.writers, thread_name_prefix="hj212-writer")
        try:
            await loop.run_in_executor(self._executor, self._store, [d for d, _ in batch])
        except Exception as exc:
            for _, done in batch:
                done(exc)
            return
        finally:
            self._slots.release()
        self.frames_committed += len(batch)
        self.groups_committed += 1
        for _, done in batch:
            done(None)

    def _meter_cache(self) -> MeterCache:
        """This writer thread's meter facts, dropped whenever the directory reloaded."""
        local = self._local
        generation = self.directory.generation
        cache: MeterCache | None = getattr(local, "cache", None)
        if cache is None or getattr(local, "generation", None) != generation:
            cache = local.cache = MeterCache(self.policy)
            local.generation = generation
        return cache

    def _store(self, deliveries: list[Delivery]) -> None:
        """One transaction and one ``ingest_batches`` row for the whole group (or, with an
        outlet, the group handed to the ingest log)."""
        key = f"hj212 group: {len(deliveries)} frames from {deliveries[0].source_ref}"
        if self.outlet is not None:
            self.outlet([dataclasses.replace(d, batch_key=key) for d in deliveries], [])
            return
        rows = [r for d in deliveries for r in d.rows]
        raw = raw_frame_from_readings([d.rows for d in deliveries])
        metas = [DeliveryMeta(d.source, d.source_ref, len(d.rows), d.gateway, key)
                 for d in deliveries]  # fmt: skip
        with BATCH_COMMIT_SECONDS.time(), self.factory() as session:
            results = ingest_frame(session, metas, raw, rows.__getitem__, policy=self.policy,
                                   cache=self._meter_cache())  # fmt: skip
            session.commit()
        for r in results:
            count_stored("hj212", r)

    async def close(self) -> None:
        """Stop the flusher after the queue is written and every group committed."""
        while self._queue or self._writes:
            await asyncio.sleep(self.max_delay_s or 0.001)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


@dataclass(frozen=True)
class ServeOptions:
    """How one receiver process listens and commits (picklable, for worker processes)."""

    host: str = "0.0.0.0"
    port: int = 9212
    batch_frames: int = 500
    max_delay_ms: int = 10
    writers: int | None = None
    reuse_port: bool = False
    log: str = ""
    """NATS URLs of the ingest log (``--log``); empty: store directly."""
    metrics_port: int | None = None
    """Port of ``/metrics`` and ``/healthz`` (None: none)."""


GC_GEN0_THRESHOLD = 50_000
"""Allocations between young-generation collections in a receiver process (CPython's
default is 700): measured, groups of 250 frames spent ≈ 5 ms each in collections."""


def tune_gc_for_receiver() -> None:
    """Fewer collections for a long-running receiver process (not for library callers).

    Objects alive after start-up (modules, registry caches) are frozen out of the collector
    (``gc.freeze``) and young collections run every :data:`GC_GEN0_THRESHOLD` allocations:
    a group commit allocates thousands of short-lived objects, and each default collection
    would walk them again and again.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, older, oldest)


def run_receiver_loop(main: Coroutine[Any, Any, _T]) -> _T:
    """Run a receiver's coroutine on uvloop (libuv) where it is installed, else asyncio's
    own loop: measured, uvloop cut the event-loop CPU per frame by about a fifth."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def serve_store(
    factory: sessionmaker[Session],
    options: ServeOptions,
    policy: ValidationPolicy,
    stop: asyncio.Event,
    on_ready: Callable[[int], None],
    secrets: SecretCheck | None = None,
) -> dict[str, object]:
    """Receive until ``stop`` is set, then commit and acknowledge what is queued.

    Returns the server's counters.
    """
    directory = DbDeviceDirectory(factory, secrets)
    directory.reload()
    publisher = (await asyncio.to_thread(open_publisher, options.log, "kilnwatch-hj212")
                 if options.log else None)  # fmt: skip
    sink = DbFrameSink(factory, directory, policy, max_batch_frames=options.batch_frames,
                       max_delay_ms=options.max_delay_ms, writers=options.writers,
                       outlet=publisher.publish if publisher is not None else None)  # fmt: skip
    server = StoreBackedServer(directory, sink, host=options.host, port=options.port,
                               reuse_port=options.reuse_port)  # fmt: skip
    await server.start()

    def health() -> bool:
        return publisher is None or publisher.connected

    endpoint = serve_metrics(options.metrics_port, health)
    on_ready(server.port)
    await stop.wait()
    await server.close()
    await sink.close()
    directory.secrets.close()
    if publisher is not None:
        await asyncio.to_thread(publisher.close)
    if endpoint is not None:
        endpoint.close()
    return server.stats.snapshot()


def run_store_worker(
    settings: Settings, options: ServeOptions, index: int, port: int, events: Any
) -> None:
    """One receiver process of :func:`~kilnwatch.ingest.hj212.workers.run_workers`."""
    from kilnwatch.ingest.hj212.workers import READY, STOPPED
    from kilnwatch.store.engine import make_engine, make_session_factory

    engine = make_engine(settings, server=True)
    metrics = None if options.metrics_port is None else options.metrics_port + index
    mine = dataclasses.replace(options, port=port, reuse_port=True, metrics_port=metrics)
    policy = ValidationPolicy.of(settings)
    tune_gc_for_receiver()

    async def main() -> dict[str, object]:
        stop = loop_stop_on_signals()
        factory = make_session_factory(engine)
        secrets = SecretCheck(remembered=RememberedSecrets.for_settings(settings))

        def ready(bound: int) -> None:
            events.put((READY, index, bound))

        return await serve_store(factory, mine, policy, stop, ready, secrets)

    try:
        counters = run_receiver_loop(main())
    finally:
        engine.dispose()
    events.put((STOPPED, index, counters))
