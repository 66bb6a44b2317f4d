"""Asyncio TCP server receiving HJ 212 uploads from data loggers.

Each frame is cut from the stream, CRC- and syntax-checked, authenticated by MN and password
against a :class:`DeviceDirectory`, checked against the device's compatibility setting and,
for data uploads, handed to a :class:`FrameSink`. The acknowledgement (9014 etc.) is written
only after ``sink.commit`` has returned; if the commit fails no answer is sent, so that the
device sends the data again. Rejected input is logged with its reason and counted; the
connection stays open.

References
----------
.. [1] HJ 212-2017, section 6 (communication protocol, message flows, reply codes).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.codec import check_packet_compat, parse_raw_frame
from kilnwatch.ingest.hj212.devices import Device, InMemoryDeviceDirectory
from kilnwatch.ingest.hj212.framing import FrameSplitter, Rejected, SplitItem
from kilnwatch.ingest.hj212.model import ALL_COMPAT, Packet, RawFrame
from kilnwatch.ingest.hj212.replies import is_data_upload, reply_for

__all__ = [
    "Device",
    "DeviceDirectory",
    "FrameSink",
    "HJ212Server",
    "InMemoryDeviceDirectory",
    "ServerStats",
]

logger = logging.getLogger("kilnwatch.ingest.hj212")

READ_SIZE = 65536
REJECT_UNKNOWN_MN = "unknown_mn"
REJECT_BAD_PASSWORD = "bad_password"
_LOG_SNIPPET_BYTES = 120


class DeviceDirectory(Protocol):
    """Who may connect: devices by MN."""

    def lookup(self, mn: str) -> Device | None: ...


class FrameSink(Protocol):
    """Where decoded data goes. ``commit`` returns once the data is durably stored."""

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None: ...


@dataclass
class ServerStats:
    """Counters of one server (all connections)."""

    connections_opened: int = 0
    connections_active: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    frames_ok: int = 0
    frames_committed: int = 0
    acks_sent: int = 0
    commit_failures: int = 0
    frames_rejected: Counter[str] = field(default_factory=Counter)
    frames_compat: Counter[str] = field(default_factory=Counter)

    @property
    def frames_rejected_total(self) -> int:
        """Rejections of every reason."""
        return sum(self.frames_rejected.values())

    def snapshot(self) -> dict[str, object]:
        """Plain copy of the counters (JSON-friendly)."""
        return {
            "connections_opened": self.connections_opened,
            "connections_active": self.connections_active,
            "bytes_received": self.bytes_received,
            "bytes_sent": self.bytes_sent,
            "frames_ok": self.frames_ok,
            "frames_committed": self.frames_committed,
            "acks_sent": self.acks_sent,
            "commit_failures": self.commit_failures,
            "frames_rejected": dict(self.frames_rejected),
            "frames_compat": dict(self.frames_compat),
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HJ212Server:
    """HJ 212 receiver: ``await server.start()``, then ``serve_forever()`` or ``close()``.

    Parameters
    ----------
    directory : DeviceDirectory
        Devices allowed to send.
    sink : FrameSink
        Receives every authenticated data upload.
    host, port : str, int
        Where to listen; port 0 picks a free port (see :attr:`port`).
    terminator_grace_s : float
        How long a frame lacking only CR LF waits for it before it is taken as
        unterminated (accepted only for devices with the ``no_terminator`` option) [s].
    idle_timeout_s : float, optional
        Close connections silent for this long [s]; None keeps them open.
    clock : callable, optional
        Source of ``received_at`` (aware datetime); defaults to UTC now.
    reuse_port : bool
        Bind with ``SO_REUSEPORT`` so that several receiver processes share one port (the
        kernel spreads connections over them); see :mod:`kilnwatch.ingest.hj212.workers`.
    """

    def __init__(
        self,
        directory: DeviceDirectory,
        sink: FrameSink,
        *,
        host: str,
        port: int,
        terminator_grace_s: float = 0.5,
        idle_timeout_s: float | None = None,
        clock: Callable[[], datetime] = _utc_now,
        stats: ServerStats | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.directory = directory
        self.sink = sink
        self.host = host
        self._port = port
        self.terminator_grace_s = terminator_grace_s
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self.stats = stats if stats is not None else ServerStats()
        self.reuse_port = reuse_port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self._port, reuse_port=self.reuse_port or None
        )
        logger.info("hj212 server listening on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop accepting, end open connections and wait for them."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def __aenter__(self) -> HJ212Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self.stats.connections_opened += 1
        self.stats.connections_active += 1
        peer = str(writer.get_extra_info("peername"))
        try:
            await self._serve_connection(reader, writer, peer)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            logger.info("hj212 connection %s lost: %s", peer, exc)
        except asyncio.CancelledError:
            # close() ends connections this way; end the task normally so asyncio's
            # connection callback does not report the cancellation as an error.
            logger.info("hj212 connection %s closed by server shutdown", peer)
        finally:
            self.stats.connections_active -= 1
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        splitter = FrameSplitter()
        while True:
            waiting = splitter.awaiting_terminator
            timeout = self.terminator_grace_s if waiting else self.idle_timeout_s
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), timeout)
            except TimeoutError:
                if not waiting:
                    logger.info("hj212 connection %s idle, closing", peer)
                    return
                items = splitter.flush_unterminated()
            else:
                if not data:
                    await self._handle_items(splitter.flush(), writer, peer)
                    return
                self.stats.bytes_received += len(data)
                items = splitter.feed(data)
            await self._handle_items(items, writer, peer)

    async def _handle_items(
        self, items: list[SplitItem], writer: asyncio.StreamWriter, peer: str
    ) -> None:
        for item in items:
            if isinstance(item, Rejected):
                self._reject(item.error.reason, item.error.message, peer, item.raw)
            else:
                await self._handle_frame(item, writer, peer)

    async def _handle_frame(self, frame: RawFrame, writer: asyncio.StreamWriter, peer: str) -> None:
        accepted = await self._accept(frame, peer)
        if accepted is None:
            return
        device, packet = accepted
        if is_data_upload(packet):
            try:
                await self.sink.commit(device, packet, self.clock())
            except Exception:
                self.stats.commit_failures += 1
                logger.exception("hj212 commit failed for MN %s QN %s", packet.mn, packet.qn)
                return
            self.stats.frames_committed += 1
        self.stats.frames_ok += 1
        self.stats.frames_compat.update(c.value for c in packet.compat)
        reply = reply_for(packet)
        if reply is not None:
            writer.write(reply)
            await writer.drain()
            self.stats.acks_sent += 1
            self.stats.bytes_sent += len(reply)

    async def _accept(self, frame: RawFrame, peer: str) -> tuple[Device, Packet] | None:
        try:
            packet = parse_raw_frame(frame, ALL_COMPAT)
        except FrameError as exc:
            self._reject(exc.reason, exc.message, peer, frame.raw)
            return None
        await self._before_lookup(packet)
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

    async def _before_lookup(self, packet: Packet) -> None:
        """Hook for directories that must see the password before lookup (stored hashes)."""

    def _reject(self, reason: str, message: str, peer: str, raw: bytes) -> None:
        self.stats.frames_rejected[reason] += 1
        snippet = raw[:_LOG_SNIPPET_BYTES]
        logger.warning("hj212 frame rejected (%s) from %s: %s; %r", reason, peer, message, snippet)
