"""Pure HJ 212 codec: frames <-> :class:`~kilnwatch.ingest.hj212.model.Packet`.

Decoding is strict by default; deviations listed in :class:`Compat` are accepted only when
the caller allows them, and every packet accepted that way lists them in ``Packet.compat``.

References
----------
.. [1] HJ 212-2017, section 6 (packet, data segment, Flag), 6.3.3 (CP data area),
       Appendix A (CRC).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.crc import crc_hj212, crc_modbus, swap_bytes
from kilnwatch.ingest.hj212.framing import (
    MAX_CP_CHARS,
    Rejected,
    split_frames,
)
from kilnwatch.ingest.hj212.model import (
    COMPAT_REJECT_REASON,
    EDITION_BY_VERSION_BITS,
    FLAG_SPLIT,
    FLAG_VERSION_SHIFT,
    STRICT,
    Compat,
    CpGroup,
    CpItem,
    Edition,
    Packet,
    RawFrame,
)

CP_OPEN = "CP=&&"
CP_CLOSE = "&&"
TEXT_QUOTE = "//"  # HJ 212-2017 Table 4, xxxxxx-Info: free text between a pair of //
_HEADER_KEYS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_REQUIRED_KEYS = ("ST", "CN", "PW", "MN")
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_LOWER_HEX = frozenset(b"abcdef")
_FLAG_MAX = 255  # Flag is one byte (HJ 212-2017 Flag definition)


def parse_frame(data: bytes, compat: frozenset[Compat] = STRICT) -> Packet:
    """Decode exactly one complete frame (``##`` ... CR LF).

    Parameters
    ----------
    data : bytes
        One frame as received.
    compat : frozenset of Compat
        Deviations to accept. Empty (strict) by default.

    Returns
    -------
    Packet

    Raises
    ------
    FrameError
        ``reason`` is ``framing``, ``length``, ``crc``, ``syntax`` or ``too_long``.
    """
    items = split_frames(data)
    if len(items) != 1:
        raise FrameError("framing", f"expected one frame, found {len(items)} item(s)")
    item = items[0]
    if isinstance(item, Rejected):
        raise item.error
    return parse_raw_frame(item, compat)


def parse_raw_frame(frame: RawFrame, compat: frozenset[Compat] = STRICT) -> Packet:
    """Check the CRC and decode the data segment of a frame cut by the splitter.

    Checks run in this order: CRC (``crc``), allowed deviations, syntax (``syntax``),
    CP length (``too_long``).
    """
    deviations = set(frame.deviations) | check_crc(frame.segment, frame.crc_text)
    require_compat(deviations, compat)
    packet = parse_data_segment(frame.segment)
    if packet.compat:
        deviations |= set(packet.compat)
        require_compat(deviations, compat)
    return _with_compat(packet, deviations)


def check_crc(segment: bytes, crc_text: bytes) -> set[Compat]:
    """Verify the CRC; return the deviations needed to accept it (empty when standard).

    Raises
    ------
    FrameError
        ``crc`` when the CRC field is not four hex digits or matches no known flavour.
    """
    if len(crc_text) != 4 or not _HEX.issuperset(crc_text):
        raise FrameError("crc", f"CRC field {crc_text!r} is not four hex digits")
    deviations: set[Compat] = set()
    if _LOWER_HEX.intersection(crc_text):
        deviations.add(Compat.CRC_LOWERCASE)
    received = int(crc_text, 16)
    expected = crc_hj212(segment)
    if received == expected:
        return deviations
    modbus = crc_modbus(segment)
    if received == modbus:
        return deviations | {Compat.CRC_MODBUS}
    if received == swap_bytes(modbus):
        return deviations | {Compat.CRC_MODBUS_SWAPPED}
    raise FrameError("crc", f"CRC is {crc_text.decode()}, expected {expected:04X}")


def require_compat(deviations: Iterable[Compat], allowed: frozenset[Compat]) -> None:
    """Raise the matching FrameError for the first deviation that is not allowed."""
    refused = sorted(set(deviations) - allowed)
    if refused:
        first = refused[0]
        message = f"frame needs compat option {first.value!r}, which is not enabled"
        raise FrameError(COMPAT_REJECT_REASON[first], message)


def check_packet_compat(packet: Packet, allowed: frozenset[Compat]) -> None:
    """Refuse a packet decoded with deviations that ``allowed`` does not cover."""
    require_compat(packet.compat, allowed)


def _with_compat(packet: Packet, deviations: set[Compat]) -> Packet:
    ordered = tuple(sorted(deviations))
    if ordered == packet.compat:
        return packet
    return dataclasses.replace(packet, compat=ordered)


def parse_data_segment(segment: bytes) -> Packet:
    """Decode a data segment (no CRC check).

    The header is read as an unordered ``;``-separated list of ``NAME=value`` fields up to
    ``CP=&&``; the data area is everything between ``CP=&&`` and the final ``&&``.
    A CP field longer than 950 characters is marked ``too_long`` in ``Packet.compat``.

    Raises
    ------
    FrameError
        ``syntax`` for any violation of the data-segment grammar.
    """
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError("syntax", f"data segment is not UTF-8: {exc.reason}") from None
    cp_at = text.find(CP_OPEN)
    if cp_at < 0:
        raise FrameError("syntax", "no 'CP=&&' field")
    if not text.endswith(CP_CLOSE) or len(text) < cp_at + len(CP_OPEN) + len(CP_CLOSE):
        raise FrameError("syntax", "data area is not closed by '&&' at the end of the segment")
    header = _parse_header(text[:cp_at])
    body = text[cp_at + len(CP_OPEN) : -len(CP_CLOSE)]
    if CP_CLOSE in body:
        raise FrameError("syntax", "'&&' inside the data area")
    cp = parse_cp(body)
    cp_chars = len(CP_OPEN) + len(body) + len(CP_CLOSE)
    compat = (Compat.TOO_LONG,) if cp_chars > MAX_CP_CHARS else ()
    return _build_packet(header, cp, compat)


def _parse_header(header: str) -> dict[str, str]:
    if not header.endswith(";"):
        raise FrameError("syntax", "header fields must end with ';' before 'CP='")
    fields: dict[str, str] = {}
    for part in header[:-1].split(";"):
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise FrameError("syntax", f"header field {part!r} is not NAME=value")
        if name in fields:
            raise FrameError("syntax", f"header field {name!r} appears twice")
        fields[name] = value
    missing = [key for key in _REQUIRED_KEYS if key not in fields]
    if missing:
        raise FrameError("syntax", f"missing header field(s) {', '.join(missing)}")
    if not fields["MN"]:
        raise FrameError("syntax", "MN is empty")
    if not (len(fields["CN"]) == 4 and fields["CN"].isdigit()):
        raise FrameError("syntax", f"CN {fields['CN']!r} is not 4 digits")
    return fields


def _parse_int(fields: dict[str, str], name: str, low: int, high: int) -> int | None:
    raw = fields.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise FrameError("syntax", f"{name} {raw!r} is not a number in {low}..{high}")
    return int(raw)


def _build_packet(
    fields: dict[str, str], cp: tuple[CpGroup, ...], compat: tuple[Compat, ...]
) -> Packet:
    flag = _parse_int(fields, "Flag", 0, _FLAG_MAX)
    pnum = _parse_int(fields, "PNUM", 1, 9999)
    pno = _parse_int(fields, "PNO", 1, 9999)
    edition = _edition(flag)
    _check_split(flag, pnum, pno)
    extra = tuple((k, v) for k, v in fields.items() if k not in _HEADER_KEYS)
    return Packet(
        st=fields["ST"],
        cn=fields["CN"],
        pw=fields["PW"],
        mn=fields["MN"],
        cp=cp,
        edition=edition,
        qn=fields.get("QN"),
        flag=flag,
        pnum=pnum,
        pno=pno,
        extra=extra,
        compat=compat,
    )


def _edition(flag: int | None) -> Edition:
    """Edition from the Flag version bits; no Flag at all is the 2005 habit (version 0)."""
    if flag is None:
        return Edition.HJT212_2005
    version = flag >> FLAG_VERSION_SHIFT
    edition = EDITION_BY_VERSION_BITS.get(version)
    if edition is None:
        raise FrameError("syntax", f"Flag {flag} carries unknown version bits {version:06b}")
    return edition


def _check_split(flag: int | None, pnum: int | None, pno: int | None) -> None:
    if (pnum is None) != (pno is None):
        raise FrameError("syntax", "PNUM and PNO must appear together")
    if flag is not None:
        split = bool(flag & FLAG_SPLIT)
        if split and pnum is None:
            raise FrameError("syntax", f"Flag {flag} announces PNUM/PNO but they are missing")
        if not split and pnum is not None:
            raise FrameError("syntax", f"PNUM/PNO present but Flag {flag} has bit D = 0")
    if pnum is not None and pno is not None and pno > pnum:
        raise FrameError("syntax", f"PNO {pno} is greater than PNUM {pnum}")


def parse_cp(body: str) -> tuple[CpGroup, ...]:
    """Parse a CP data area (without ``CP=&&`` and ``&&``) into groups of items.

    ``;`` separates groups, ``,`` items of a group and ``=`` a key from its value; text
    between ``//`` and ``//`` is opaque. Spaces around keys and values are trimmed and empty
    groups (a trailing ``;``) are ignored.

    Raises
    ------
    FrameError
        ``syntax`` for an item without ``=``/key or an unclosed ``//``.
    """
    if TEXT_QUOTE in body:
        raw_groups = _split_quoted(body)
    else:
        raw_groups = [group.split(",") for group in body.split(";")]
    groups: list[CpGroup] = []
    for raw_items in raw_groups:
        if len(raw_items) == 1 and not raw_items[0].strip():
            continue
        groups.append(tuple(_parse_item(item) for item in raw_items))
    return tuple(groups)


def _parse_item(item: str) -> CpItem:
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise FrameError("syntax", f"data-area item {item!r} is not key=value")
    return key, value.strip()


def _split_quoted(body: str) -> list[list[str]]:
    groups: list[list[str]] = []
    items: list[str] = []
    start = index = 0
    while index < len(body):
        char = body[index]
        if char == "/" and body.startswith(TEXT_QUOTE, index):
            close = body.find(TEXT_QUOTE, index + len(TEXT_QUOTE))
            if close < 0:
                raise FrameError("syntax", "unclosed '//' text in the data area")
            index = close + len(TEXT_QUOTE)
            continue
        if char in ",;":
            items.append(body[start:index])
            start = index + 1
            if char == ";":
                groups.append(items)
                items = []
        index += 1
    items.append(body[start:])
    groups.append(items)
    return groups
