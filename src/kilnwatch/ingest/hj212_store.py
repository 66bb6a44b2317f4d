"""The database side of the HJ 212 receiver: devices from the registry, a committing sink.

* :class:`DbDeviceDirectory` builds :class:`~kilnwatch.ingest.hj212.Device` objects from
  ``gateways`` (protocol ``hj212``, ``mn``, ``secret_hash``) and their meters' ``hj212_code``
  (mapped for the measured ``-Rtd`` and ``-Avg`` values). It is reloaded every minute.
* :class:`DbFrameSink` turns a packet into readings and passes them through the one
  pipeline; commits of concurrent connections are grouped (``max_batch_frames`` frames or
  ``max_delay_ms``) into one transaction with one ``ingest_batches`` row, and every
  ``commit`` returns only after that transaction committed, so the server's reply (the
  acknowledgement) follows durable storage.
* :class:`StoreBackedServer` is the HJ 212 server checking the device password (``PW``)
  against the stored scrypt hash (cached, see :class:`~kilnwatch.ingest.sources.SecretCache`).

Values of a mapped pollutant code whose kind is not stored (``-Min``, ``-Max``, ``-Cou``,
converted ``-Zs*``) are skipped; a measured value of an unmapped code is dead-lettered as
``ingest.unknown_meter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212 import (
    Device,
    HJ212Server,
    Packet,
    RawFrame,
    packet_readings,
    parse_raw_frame,
)
from kilnwatch.ingest.hj212.codec import check_packet_compat
from kilnwatch.ingest.hj212.model import ALL_COMPAT
from kilnwatch.ingest.hj212.records import DecodedReading
from kilnwatch.ingest.hj212.server import REJECT_BAD_PASSWORD, REJECT_UNKNOWN_MN
from kilnwatch.ingest.pipeline import Delivery, ingest_deliveries
from kilnwatch.ingest.sources import SecretCache
from kilnwatch.ingest.validate import GatewayInfo, RawReading, ValidationPolicy
from kilnwatch.store.models import Gateway, Meter

logger = logging.getLogger("kilnwatch.ingest.hj212")

STORED_KINDS = ("Rtd", "Avg")
RELOAD_S = 60.0


@dataclass(frozen=True)
class _Entry:
    gateway: GatewayInfo
    secret_hash: str | None
    meters: dict[str, str]


class DbDeviceDirectory:
    """HJ 212 devices from the registry (``DeviceDirectory`` protocol of the server)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._entries: dict[str, _Entry] = {}
        self._verified: dict[str, str] = {}
        self._loaded = -RELOAD_S
        self._secrets = SecretCache()

    def reload(self) -> None:
        """Read hj212 gateways and their meters."""
        with self._factory() as session:
            gateways = session.scalars(
                select(Gateway).where(Gateway.protocol == "hj212", Gateway.active.is_(True))
            ).all()
            meters = session.execute(
                select(Meter.gateway_id, Meter.hj212_code, Meter.code).where(
                    Meter.hj212_code.is_not(None)
                )
            ).all()
        by_gateway: dict[int, dict[str, str]] = {}
        for gateway_id, code, meter_code in meters:
            if gateway_id is None:
                continue
            for kind in STORED_KINDS:
                by_gateway.setdefault(gateway_id, {})[f"{code}-{kind}"] = meter_code
        self._entries = {
            g.mn: _Entry(
                GatewayInfo(g.id, g.code, g.enterprise_id, g.protocol),
                g.secret_hash,
                by_gateway.get(g.id, {}),
            )  # fmt: skip
            for g in gateways
            if g.mn
        }
        self._loaded = time.monotonic()

    def _entry(self, mn: str) -> _Entry | None:
        if time.monotonic() - self._loaded > RELOAD_S:
            self.reload()
        return self._entries.get(mn)

    def verify(self, mn: str, password: str) -> None:
        """Remember ``password`` for ``mn`` when it matches the stored hash."""
        entry = self._entry(mn)
        if entry is not None and self._secrets.verify(mn, password, entry.secret_hash):
            self._verified[mn] = password

    def gateway(self, mn: str) -> GatewayInfo | None:
        entry = self._entry(mn)
        return entry.gateway if entry is not None else None

    def lookup(self, mn: str) -> Device | None:
        """The device; its password is the last verified one (else an unguessable token)."""
        entry = self._entry(mn)
        if entry is None:
            return None
        password = self._verified.get(mn) or secrets.token_hex(16)
        return Device(mn=mn, password=password, compat=ALL_COMPAT, meters=entry.meters)


class StoreBackedServer(HJ212Server):
    """HJ 212 server whose device passwords are checked against stored scrypt hashes.

    Each frame is decoded once: the packet parsed here serves the password check, the device
    lookup, the compatibility check and the sink.
    """

    directory: DbDeviceDirectory

    def _accept(self, frame: RawFrame, peer: str) -> tuple[Device, Packet] | None:
        try:
            packet = parse_raw_frame(frame, ALL_COMPAT)
        except FrameError as exc:
            self._reject(exc.reason, exc.message, peer, frame.raw)
            return None
        self.directory.verify(packet.mn, packet.pw)
        device = self.directory.lookup(packet.mn)
        if device is None:
            self._reject(REJECT_UNKNOWN_MN, f"unknown MN {packet.mn!r}", peer, frame.raw)
            return None
        if not hmac.compare_digest(packet.pw.encode(), device.password.encode()):
            self._reject(REJECT_BAD_PASSWORD, f"wrong PW for MN {packet.mn}", peer, frame.raw)
            return None
        try:
            check_packet_compat(packet, device.compat)
        except FrameError as exc:
            self._reject(exc.reason, f"MN {packet.mn}: {exc.message}", peer, frame.raw)
            return None
        return device, packet


def _raw(reading: DecodedReading, row_no: int) -> RawReading:
    ts = reading.ts_end if reading.ts_end is not None else reading.ts
    payload: dict[str, object] = {
        "mn": reading.mn, "cn": reading.cn, "code": reading.code, "kind": reading.kind,
        "meter_code": reading.meter_code, "ts": ts.isoformat(), "value": reading.value,
        "unit": reading.unit, "flag": reading.flag,
    }  # fmt: skip
    unit = reading.unit if reading.meter_code is not None else None
    return RawReading(reading.meter_code, ts, reading.value, unit, reading.flag, row_no, payload)


def packet_rows(device: Device, packet: Packet) -> list[RawReading]:
    """Readings to store from a packet: measured values (Rtd/Avg), mapped or not."""
    report = packet_readings(device, packet)
    wanted = [r for r in report.readings if r.kind in ("rtd", "avg") and not r.converted]
    return [_raw(r, i) for i, r in enumerate(wanted, start=1)]


class DbFrameSink:
    """Stores packets through the pipeline with group commit (``FrameSink`` protocol)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        directory: DbDeviceDirectory,
        policy: ValidationPolicy | None = None,
        *,
        max_batch_frames: int = 500,
        max_delay_ms: int = 10,
    ) -> None:
        self.factory = factory
        self.directory = directory
        self.policy = policy or ValidationPolicy()
        self.max_batch_frames = max_batch_frames
        self.max_delay_s = max_delay_ms / 1000
        self._queue: list[tuple[Delivery, asyncio.Future[None]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.frames_committed = 0

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
        """Return once the packet's readings are committed."""
        del received_at
        gateway = self.directory.gateway(device.mn)
        rows = packet_rows(device, packet)
        delivery = Delivery("hj212", f"{device.mn}:{packet.qn or ''}", rows, gateway)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((delivery, future))
        self._ensure_task()
        assert self._wakeup is not None
        self._wakeup.set()
        await future

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._flusher())

    async def _flusher(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if len(self._queue) < self.max_batch_frames:
                await asyncio.sleep(self.max_delay_s)
            while self._queue:
                batch = self._queue[: self.max_batch_frames]
                del self._queue[: len(batch)]
                await self._write(batch)

    async def _write(self, batch: Sequence[tuple[Delivery, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._store, [d for d, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.frames_committed += len(batch)
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    def _store(self, deliveries: list[Delivery]) -> None:
        """One transaction and one ``ingest_batches`` row for the whole group."""
        key = f"hj212 group: {len(deliveries)} frames from {deliveries[0].source_ref}"
        grouped = [dataclasses.replace(d, batch_key=key) for d in deliveries]
        with self.factory() as session:
            ingest_deliveries(session, grouped, policy=self.policy)
            session.commit()

    async def close(self) -> None:
        """Stop the flusher after the queue is written."""
        while self._queue:
            await asyncio.sleep(self.max_delay_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
