"""Asyncio TCP server receiving HJ 212 uploads from data loggers.

Each frame is cut from the stream, CRC- and syntax-checked, authenticated by MN and password
against a :class:`DeviceDirectory`, checked against the device's compatibility setting and,
for data uploads, handed to a :class:`FrameSink`. The acknowledgement (9014 etc.) is written
only after the sink reports the data committed; if the commit fails no answer is sent, so that
the device sends the data again. Rejected input is logged with its reason and counted; the
connection stays open.

A connection is an :class:`asyncio.Protocol`: bytes are split into frames as they arrive and
the frames of one connection are handled one after the other (the next only once the previous
one is committed and answered), without a task, a future or a stream read per frame; the sink
calls back when a group commit ends (:class:`CallbackSink`). At several thousand frames a
second that overhead was most of the receiver's event-loop time.

References
----------
.. [1] HJ 212-2017, section 6 (communication protocol, message flows, reply codes).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast, runtime_checkable

from kilnwatch.counters import RunCounters
from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.codec import check_packet_compat, parse_raw_frame
from kilnwatch.ingest.hj212.devices import Device, InMemoryDeviceDirectory
from kilnwatch.ingest.hj212.framing import FrameSplitter, Rejected, SplitItem
from kilnwatch.ingest.hj212.model import ALL_COMPAT, Packet, RawFrame
from kilnwatch.ingest.hj212.replies import is_data_upload, reply_for

__all__ = [
    "CallbackSink",
    "Device",
    "DeviceDirectory",
    "FrameSink",
    "HJ212Server",
    "InMemoryDeviceDirectory",
    "ServerStats",
]

logger = logging.getLogger("kilnwatch.ingest.hj212")

REJECT_UNKNOWN_MN = "unknown_mn"
REJECT_BAD_PASSWORD = "bad_password"
_LOG_SNIPPET_BYTES = 120
PAUSE_READING_FRAMES = 256
"""Frames waiting on one connection before it stops reading (a device flooding the server
is slowed down by TCP rather than buffered without bound); reading resumes below a quarter."""
CLOSE_WAIT_S = 5.0

CommitDone = Callable[[BaseException | None], None]


class DeviceDirectory(Protocol):
    """Who may connect: devices by MN."""

    def lookup(self, mn: str) -> Device | None: ...


class FrameSink(Protocol):
    """Where decoded data goes. ``commit`` returns once the data is durably stored."""

    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None: ...


@runtime_checkable
class CallbackSink(Protocol):
    """A sink that reports commits by callback (no coroutine per frame).

    ``submit`` returns at once; ``done(None)`` is called on the event loop once the data is
    durably stored, ``done(exc)`` when storing failed.
    """

    def submit(
        self, device: Device, packet: Packet, received_at: datetime, done: CommitDone
    ) -> None: ...


@dataclass
class ServerStats(RunCounters):
    """Counters of one server (all connections)."""

    connections_opened: int = 0
    """TCP connections accepted."""
    connections_active: int = 0
    """Connections open now."""
    bytes_received: int = 0
    bytes_sent: int = 0
    frames_ok: int = 0
    """Frames accepted and answered (data uploads once committed)."""
    frames_committed: int = 0
    """Data uploads whose readings were committed."""
    acks_sent: int = 0
    """Replies written."""
    commit_failures: int = 0
    """Data uploads whose commit failed: not answered, so the device sends them again."""
    frames_rejected: Counter[str] = field(default_factory=Counter)
    """Rejected frames by reason (``crc``, ``unknown_mn``, ``bad_password``, …)."""
    frames_compat: Counter[str] = field(default_factory=Counter)
    """Accepted frames by the protocol deviation (compat option) they used."""

    @property
    def frames_rejected_total(self) -> int:
        """Rejections of every reason."""
        return sum(self.frames_rejected.values())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HJ212Server:
    """HJ 212 receiver: ``await server.start()``, then ``serve_forever()`` or ``close()``.

    Parameters
    ----------
    directory : DeviceDirectory
        Devices allowed to send.
    sink : FrameSink
        Receives every authenticated data upload (through ``submit`` when it is a
        :class:`CallbackSink`, else ``commit``).
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
        self._connections: set[_Connection] = set()
        self._commit_tasks: set[asyncio.Task[None]] = set()
        # decided once: a runtime Protocol check per frame costs more than the frame's CRC
        self._submit = sink.submit if isinstance(sink, CallbackSink) else None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        """Bind and start accepting connections."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self._port, reuse_port=self.reuse_port or None
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
        for conn in list(self._connections):
            conn.shut("closed by server shutdown")
        deadline = asyncio.get_running_loop().time() + CLOSE_WAIT_S
        while self._connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> HJ212Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- one frame ------------------------------------------------------------------------

    def _handle(self, conn: _Connection, frame: RawFrame) -> bool:
        """Start handling ``frame``; True when it is finished, False when ``conn.resume()``
        will be called once it is (password check or commit pending)."""
        try:
            packet = parse_raw_frame(frame, ALL_COMPAT)
        except FrameError as exc:
            self._reject(exc.reason, exc.message, conn.peer, frame.raw)
            return True
        checking = self._before_lookup(packet)
        if checking is None:
            return self._authenticated(conn, frame, packet)

        def checked(_: asyncio.Future[Any]) -> None:
            if self._authenticated(conn, frame, packet):
                conn.resume()

        checking.add_done_callback(checked)
        return False

    def _authenticated(self, conn: _Connection, frame: RawFrame, packet: Packet) -> bool:
        device = self._device(packet, conn.peer, frame.raw)
        if device is None:
            return True
        if not is_data_upload(packet):
            self._answer(conn, packet)
            return True

        def done(exc: BaseException | None) -> None:
            if exc is not None:
                self.stats.commit_failures += 1
                logger.error("hj212 commit failed for MN %s QN %s: %r", packet.mn, packet.qn, exc)
            else:
                self.stats.frames_committed += 1
                self._answer(conn, packet)
            conn.resume()

        received_at = self.clock()
        if self._submit is not None:
            self._submit(device, packet, received_at, done)
        else:
            sink = self.sink
            task = asyncio.get_running_loop().create_task(sink.commit(device, packet, received_at))
            self._commit_tasks.add(task)
            task.add_done_callback(self._commit_tasks.discard)
            task.add_done_callback(lambda t: done(None if t.cancelled() else t.exception()))
        return False

    def _device(self, packet: Packet, peer: str, raw: bytes) -> Device | None:
        device = self.directory.lookup(packet.mn)
        if device is None:
            self._reject(REJECT_UNKNOWN_MN, f"unknown MN {packet.mn!r}", peer, raw)
            return None
        if not hmac.compare_digest(packet.pw.encode(), device.password.encode()):
            self._reject(REJECT_BAD_PASSWORD, f"wrong PW for MN {packet.mn}", peer, raw)
            return None
        try:
            check_packet_compat(packet, device.compat)
        except FrameError as exc:
            self._reject(exc.reason, f"MN {packet.mn}: {exc.message}", peer, raw)
            return None
        return device

    def _answer(self, conn: _Connection, packet: Packet) -> None:
        self.stats.frames_ok += 1
        if packet.compat:
            self.stats.frames_compat.update(c.value for c in packet.compat)
        reply = reply_for(packet)
        if reply is not None and conn.write(reply):
            self.stats.acks_sent += 1
            self.stats.bytes_sent += len(reply)

    def _before_lookup(self, packet: Packet) -> asyncio.Future[Any] | None:
        """Hook for directories that must see the password before lookup (stored hashes):
        None when the lookup may go ahead, or a future that completes when it may."""
        del packet
        return None

    def _reject(self, reason: str, message: str, peer: str, raw: bytes) -> None:
        self.stats.frames_rejected[reason] += 1
        snippet = raw[:_LOG_SNIPPET_BYTES]
        logger.warning("hj212 frame rejected (%s) from %s: %s; %r", reason, peer, message, snippet)


class _Connection(asyncio.Protocol):
    """One device connection: frames in arrival order, one at a time."""

    def __init__(self, server: HJ212Server) -> None:
        self.server = server
        self.splitter = FrameSplitter()
        self.pending: deque[SplitItem] = deque()
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.busy = False  # a frame is being checked or committed
        self.eof = False
        self.closed = False
        self.paused = False
        self.write_paused = False
        self.timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.peer = str(transport.get_extra_info("peername"))
        stats = self.server.stats
        stats.connections_opened += 1
        stats.connections_active += 1
        self.server._connections.add(self)
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        self.server.stats.bytes_received += len(data)
        self.pending.extend(self.splitter.feed(data))
        self._arm_timer()
        self._pump()

    def eof_received(self) -> bool:
        self.pending.extend(self.splitter.flush())
        self.eof = True
        self._pump()
        return True  # keep the transport to answer what is still pending; closed by _pump

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            logger.info("hj212 connection %s lost: %s", self.peer, exc)
        self.closed = True
        self._cancel_timer()
        self.pending.clear()
        if self in self.server._connections:
            self.server._connections.discard(self)
            self.server.stats.connections_active -= 1

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._pump()

    # -- frames ---------------------------------------------------------------------------

    def _pump(self) -> None:
        while self.pending and not self.busy and not self.closed and not self.write_paused:
            item = self.pending.popleft()
            if isinstance(item, Rejected):
                self.server._reject(item.error.reason, item.error.message, self.peer, item.raw)
                continue
            self.busy = True
            if self.server._handle(self, item):
                self.busy = False
        self._flow()

    def resume(self) -> None:
        """The frame in hand is finished: go on with the next."""
        self.busy = False
        self._pump()

    def _flow(self) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        waiting = len(self.pending)
        if not self.paused and waiting >= PAUSE_READING_FRAMES:
            transport.pause_reading()
            self.paused = True
        elif self.paused and waiting < PAUSE_READING_FRAMES // 4:
            transport.resume_reading()
            self.paused = False
        if self.eof and not self.busy and not self.pending:
            self.shut(None)

    def write(self, data: bytes) -> bool:
        """Send ``data`` unless the connection is gone; whether it was sent."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    def shut(self, reason: str | None) -> None:
        """Close the connection (after writing what is buffered)."""
        if reason is not None:
            logger.info("hj212 connection %s %s", self.peer, reason)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- timers ---------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        self._cancel_timer()
        loop = asyncio.get_running_loop()
        if self.splitter.awaiting_terminator:
            self.timer = loop.call_later(self.server.terminator_grace_s, self._grace_over)
        elif self.server.idle_timeout_s is not None:
            self.timer = loop.call_later(self.server.idle_timeout_s, self._idle_over)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _grace_over(self) -> None:
        self.timer = None
        self.pending.extend(self.splitter.flush_unterminated())
        self._arm_timer()
        self._pump()

    def _idle_over(self) -> None:
        self.timer = None
        if self.busy or self.pending:  # not idle: the device waits for us
            self._arm_timer()
            return
        self.shut("idle, closing")
