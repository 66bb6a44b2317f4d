"""Cutting HJ 212 frames out of a byte stream (TCP reads or a capture file).

``##`` | 4 length digits | data segment | 4 CRC characters | CR LF (HJ 212-2017, section 6).
The splitter only finds frame boundaries; CRC and syntax are checked by :mod:`.codec`. It copes
with several frames per read, frames split across reads, and bytes between frames (it resyncs on
the next ``##``). Deviations it notices (LF-only or missing terminator, an over-long segment, a
length counted in characters) are recorded on the :class:`RawFrame` so that the device's
compatibility setting can decide later; rejected input comes out as :class:`Rejected` items.

References
----------
.. [1] HJ 212-2017, section 6 (communication packet structure table).
"""

from __future__ import annotations

from dataclasses import dataclass

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.model import Compat, RawFrame

HEADER = b"##"
TERMINATOR = b"\r\n"
LENGTH_DIGITS = 4  # HJ 212-2017 packet table: data-segment length, 4 decimal digits
CRC_CHARS = 4  # HJ 212-2017 packet table: CRC, 4 hex characters
MAX_SEGMENT_BYTES = 1024  # HJ 212-2017 packet table: 0 <= data segment length <= 1024
MAX_CP_CHARS = 950  # HJ 212-2017 Table 3: 0 <= CP field length <= 950

_HEAD = len(HEADER) + LENGTH_DIGITS
_TAIL = CRC_CHARS + len(TERMINATOR)
_MAX_FRAME = _HEAD + 10**LENGTH_DIGITS - 1 + _TAIL
_IGNORABLE = b" \t\r\n\x00"
_CP_END = b"&&"  # every data segment ends with the closing && of CP


@dataclass(frozen=True, slots=True)
class Rejected:
    """Input the splitter could not turn into a frame, with the reason."""

    error: FrameError
    raw: bytes


SplitItem = RawFrame | Rejected


class FrameSplitter:
    """Incremental frame splitter; feed it bytes, get frames and rejections back in order."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Number of bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    @property
    def awaiting_terminator(self) -> bool:
        """True when the buffer holds a whole frame except its terminator.

        A server waits a short grace period and then calls :meth:`flush_unterminated`,
        which serves devices that send no CR LF at all.
        """
        length = self._declared_length()
        return length is not None and len(self._buf) == _HEAD + length + CRC_CHARS

    def feed(self, data: bytes) -> list[SplitItem]:
        """Add received bytes; return every frame or rejection now complete."""
        self._buf += data
        items: list[SplitItem] = []
        while (item := self._next()) is not None:
            items.append(item)
        return items

    def flush_unterminated(self) -> list[SplitItem]:
        """Emit a held frame that lacks only its terminator (marked ``no_terminator``)."""
        if not self.awaiting_terminator:
            return []
        raw = bytes(self._buf)
        self._buf.clear()
        return [_raw_frame(raw, len(raw) - _HEAD - CRC_CHARS, {Compat.NO_TERMINATOR})]

    def flush(self) -> list[SplitItem]:
        """End of stream: emit what can still be emitted and reject the rest."""
        items = self.flush_unterminated()
        rest = bytes(self._buf)
        self._buf.clear()
        if rest.strip(_IGNORABLE):
            reason = "framing"
            items.append(Rejected(FrameError(reason, _truncated_message(rest)), rest))
        return items

    def _declared_length(self) -> int | None:
        buf = self._buf
        if len(buf) < _HEAD or not buf.startswith(HEADER):
            return None
        digits = bytes(buf[len(HEADER) : _HEAD])
        return int(digits) if digits.isdigit() else None

    def _next(self) -> SplitItem | None:
        buf = self._buf
        while True:
            start = buf.find(HEADER)
            if start == 0:
                break
            if start < 0 and len(buf) < _MAX_FRAME:
                return None  # keep the bytes: they are reported as one piece later
            junk_end = start if start > 0 else len(buf) - (1 if buf.endswith(b"#") else 0)
            if junk_end <= 0:
                return None
            junk = bytes(buf[:junk_end])
            del buf[:junk_end]
            if junk.strip(_IGNORABLE):
                message = f"{len(junk)} byte(s) outside any frame (no '##' header)"
                return Rejected(FrameError("framing", message), junk)
        if len(buf) < _HEAD:
            return None
        length = self._declared_length()
        if length is None:
            return self._reject_bad_frame("length", "length field is not 4 decimal digits")
        return self._cut(length)

    def _cut(self, length: int) -> SplitItem | None:
        buf = self._buf
        crc_end = _HEAD + length + CRC_CHARS
        if len(buf) < crc_end:
            if buf.find(TERMINATOR, _HEAD) != -1 or buf.find(b"\n" + HEADER, _HEAD) != -1:
                return self._length_mismatch(length)
            return None
        after = bytes(buf[crc_end : crc_end + len(TERMINATOR)])
        if after == TERMINATOR:
            return self._take(length, crc_end + len(TERMINATOR), set())
        if after in (b"", b"\r"):
            return None
        if after[:1] == b"\n":
            return self._take(length, crc_end + 1, {Compat.LF_ONLY})
        if after[:1] == b"#":
            return self._take(length, crc_end, {Compat.NO_TERMINATOR})
        if buf[crc_end - CRC_CHARS - len(_CP_END) : crc_end - CRC_CHARS] == _CP_END:
            return self._reject_bad_frame("framing", "no CR LF after the CRC")
        return self._length_mismatch(length)

    def _take(self, length: int, end: int, deviations: set[Compat]) -> RawFrame:
        raw = bytes(self._buf[:end])
        del self._buf[:end]
        return _raw_frame(raw, length, deviations)

    def _length_mismatch(self, length: int) -> SplitItem | None:
        """The terminator is not where the length field says: try a character count."""
        buf = self._buf
        line_end = buf.find(b"\n", _HEAD)
        next_head = buf.find(HEADER, _HEAD)
        if line_end == -1 and next_head == -1 and len(buf) < _MAX_FRAME:
            return None
        if line_end == -1 or (next_head != -1 and next_head < line_end):
            message = f"length field says {length} but no frame end is where it points"
            return self._reject_bad_frame("length", message)
        crc_end = line_end - 1 if buf[line_end - 1 : line_end] == b"\r" else line_end
        segment = bytes(buf[_HEAD : crc_end - CRC_CHARS])
        if _char_count(segment) == length and len(segment) != length:
            term = {Compat.LF_ONLY} if crc_end == line_end else set()
            raw = bytes(buf[: line_end + 1])
            del buf[: line_end + 1]
            return _raw_frame(raw, len(segment), term | {Compat.LENGTH_CHARS})
        message = f"length field says {length} but the data segment has {len(segment)} bytes"
        raw = bytes(buf[: line_end + 1])
        del buf[: line_end + 1]
        return Rejected(FrameError("length", message), raw)

    def _reject_bad_frame(self, reason: str, message: str) -> SplitItem | None:
        """Drop a broken frame up to its line end or the next header, whichever comes first."""
        buf = self._buf
        ends = [pos for pos in (buf.find(b"\n", _HEAD) + 1, buf.find(HEADER, 2)) if pos > 0]
        if not ends:
            if len(buf) < _MAX_FRAME:
                return None
            ends = [len(buf)]
        end = min(ends)
        raw = bytes(buf[:end])
        del buf[:end]
        return Rejected(FrameError(reason, message), raw)


def _raw_frame(raw: bytes, length: int, deviations: set[Compat]) -> RawFrame:
    if length > MAX_SEGMENT_BYTES:
        deviations = deviations | {Compat.TOO_LONG}
    segment = raw[_HEAD : _HEAD + length]
    crc_text = raw[_HEAD + length : _HEAD + length + CRC_CHARS]
    return RawFrame(segment=segment, crc_text=crc_text, raw=raw, deviations=frozenset(deviations))


def _char_count(segment: bytes) -> int | None:
    try:
        return len(segment.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _truncated_message(rest: bytes) -> str:
    if rest.startswith(HEADER):
        return f"stream ended inside a frame ({len(rest)} byte(s) of an incomplete frame)"
    return f"{len(rest)} byte(s) outside any frame (no '##' header)"


def split_frames(data: bytes) -> list[SplitItem]:
    """Split a complete capture (file contents) into frames and rejections."""
    splitter = FrameSplitter()
    return splitter.feed(data) + splitter.flush()
