"""The TCP side of forwarding: one connection to a receiver, frames out, replies in.

The platform acts as a data logger towards the receiver: it sends uploads with Flag bit A = 1
and waits for the data reply (CN 9014) carrying the same QN and MN. A request reply (CN 9011)
with ``QnRtn`` other than 1, or a data reply whose ``QnRtn``/``ExeRtn`` says otherwise, is a
refusal. Anything else the receiver sends is ignored.

References
----------
.. [1] HJ 212-2017, section 6 (message flows), Tables 6 and 7 (ExeRtn, QnRtn).
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.codec import parse_raw_frame
from kilnwatch.ingest.hj212.framing import FrameSplitter, Rejected
from kilnwatch.ingest.hj212.model import ALL_COMPAT, Packet
from kilnwatch.ingest.hj212.replies import CN_DATA_REPLY, CN_REQUEST_REPLY

ACCEPTED_RETURN = "1"  # HJ 212-2017 Tables 6 and 7: 1 = ready to execute / success
_READ_BYTES = 65536


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to one of our frames: which one (QN, MN) and whether it was accepted."""

    qn: str
    mn: str
    accepted: bool
    detail: str


def reply_of(packet: Packet) -> Reply | None:
    """The meaning of a received packet for our uploads, or None when it is not a reply."""
    if packet.qn is None or packet.cn not in (CN_DATA_REPLY, CN_REQUEST_REPLY):
        return None
    returned = packet.cp_value("QnRtn") or packet.cp_value("ExeRtn")
    if packet.cn == CN_REQUEST_REPLY:
        accepted = returned == ACCEPTED_RETURN
    else:
        accepted = returned in (None, ACCEPTED_RETURN)
    detail = f"CN={packet.cn}" + (f" return code {returned}" if returned else "")
    return Reply(packet.qn, packet.mn, accepted, detail)


class ConnectionLost(OSError):
    """The receiver closed the connection or it failed."""


class Uplink:
    """A blocking connection to one receiver."""

    def __init__(self, host: str, port: int, connect_timeout_s: float) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._splitter = FrameSplitter()

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        """Open the connection (raises OSError when the receiver cannot be reached)."""
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._splitter = sock, FrameSplitter()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, frames: Iterable[bytes]) -> None:
        """Write frames (raises :class:`ConnectionLost`)."""
        sock = self._require()
        try:
            sock.sendall(b"".join(frames))
        except OSError as exc:
            self.close()
            raise ConnectionLost(str(exc)) from None

    def replies_until(
        self, deadline: float, wanted: set[tuple[str, str]]
    ) -> tuple[list[Reply], str | None]:
        """Replies received before ``deadline`` (monotonic) or until every wanted (QN, MN)
        has one, and why the connection was lost meanwhile (None when it was not)."""
        sock = self._require()
        got: list[Reply] = []
        open_keys = set(wanted)
        while open_keys:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([sock], [], [], left)
            if not readable:
                break
            try:
                data = sock.recv(_READ_BYTES)
            except OSError as exc:
                self.close()
                return got, str(exc)
            if not data:
                self.close()
                return got, "closed by the receiver"
            for reply in self._decode(data):
                got.append(reply)
                open_keys.discard((reply.qn, reply.mn))
        return got, None

    def _decode(self, data: bytes) -> list[Reply]:
        out = []
        for item in self._splitter.feed(data):
            if isinstance(item, Rejected):
                continue
            try:
                packet = parse_raw_frame(item, ALL_COMPAT)
            except FrameError:
                continue
            reply = reply_of(packet)
            if reply is not None:
                out.append(reply)
        return out

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionLost("not connected")
        return self._sock
