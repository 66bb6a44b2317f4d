"""Data types of the HJ 212 codec: editions, compatibility marks, raw frames and packets.

References
----------
.. [1] HJ 212-2017, section 6 (data segment, Figure 4 / Table 3; Flag byte).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Edition(StrEnum):
    """Edition of the standard a frame follows, read from the Flag version bits."""

    HJT212_2005 = "2005"
    HJ212_2017 = "2017"
    HJ212_2025 = "2025"


#: Flag bits 7..2 -> edition (HJ 212-2017 Flag definition; 000010 for 2025 is second-hand).
EDITION_BY_VERSION_BITS: dict[int, Edition] = {
    0b000000: Edition.HJT212_2005,
    0b000001: Edition.HJ212_2017,
    0b000010: Edition.HJ212_2025,
}
VERSION_BITS_BY_EDITION: dict[Edition, int] = {v: k for k, v in EDITION_BY_VERSION_BITS.items()}

FLAG_ACK = 0b01  # bit A: the receiver must answer
FLAG_SPLIT = 0b10  # bit D: PNUM/PNO present
FLAG_VERSION_SHIFT = 2


class Compat(StrEnum):
    """Known deviations from the standard that a device's compatibility setting may allow.

    A frame accepted thanks to one of these carries it in ``Packet.compat``.
    """

    CRC_MODBUS = "crc_modbus"  # plain CRC-16/MODBUS, high byte first
    CRC_MODBUS_SWAPPED = "crc_modbus_swapped"  # plain CRC-16/MODBUS, low byte first
    LF_ONLY = "lf_only"  # frame ends with LF instead of CR LF
    NO_TERMINATOR = "no_terminator"  # frame ends right after the CRC
    TOO_LONG = "too_long"  # data segment over 1024 bytes or CP over 950
    LENGTH_CHARS = "length_chars"  # length field counts characters, not UTF-8 bytes


ALL_COMPAT: frozenset[Compat] = frozenset(Compat)
STRICT: frozenset[Compat] = frozenset()

#: Option names that were once deviations and are now part of strict decoding. They are still
#: accepted in a device's compat setting (registry rows written before) and enable nothing:
#: ``crc_lowercase`` -- the CRC is a number, the case of its hex digits carries no meaning, so
#: strict decoding reads ``7d00`` as ``7D00`` (HJ 212-2017 Appendix A defines the value only).
RETIRED_COMPAT_NAMES: frozenset[str] = frozenset({"crc_lowercase"})

#: FrameError reason used when a deviation is present but not allowed.
COMPAT_REJECT_REASON: dict[Compat, str] = {
    Compat.CRC_MODBUS: "crc",
    Compat.CRC_MODBUS_SWAPPED: "crc",
    Compat.LF_ONLY: "framing",
    Compat.NO_TERMINATOR: "framing",
    Compat.TOO_LONG: "too_long",
    Compat.LENGTH_CHARS: "length",
}


def parse_compat(names: str | list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[Compat]:
    """Turn ``"crc_modbus,lf_only"`` (or a list of names, or ``"all"``) into a compat set.

    Names in :data:`RETIRED_COMPAT_NAMES` are accepted and enable nothing.

    Raises
    ------
    ValueError
        For a name that is not a :class:`Compat` value.
    """
    items = names.split(",") if isinstance(names, str) else list(names)
    stripped = (item.strip() for item in items)
    cleaned = [name for name in stripped if name and name not in RETIRED_COMPAT_NAMES]
    if cleaned == ["all"]:
        return ALL_COMPAT
    known = {c.value: c for c in Compat}
    unknown = [name for name in cleaned if name not in known]
    if unknown:
        raise ValueError(f"unknown compat option(s) {unknown}; known: {sorted(known)}")
    return frozenset(known[name] for name in cleaned)


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One frame cut out of a byte stream; nothing checked beyond its boundaries."""

    segment: bytes  # the data segment
    crc_text: bytes  # the four CRC characters as received
    raw: bytes  # the whole frame as received, terminator included
    deviations: frozenset[Compat] = frozenset()  # framing deviations found while cutting


CpItem = tuple[str, str]
CpGroup = tuple[CpItem, ...]


@dataclass(frozen=True, slots=True)
class Packet:
    """A decoded HJ 212 data segment.

    ``cp`` keeps the data area's structure: groups separated by ``;``, each a tuple of
    ``(key, value)`` items separated by ``,``.
    """

    st: str
    cn: str
    pw: str
    mn: str
    cp: tuple[CpGroup, ...]
    edition: Edition
    qn: str | None = None
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    extra: tuple[CpItem, ...] = ()  # other header fields (e.g. RF of the 2025 edition)
    compat: tuple[Compat, ...] = field(default=())  # deviations this frame was accepted with

    @property
    def wants_ack(self) -> bool:
        """True when Flag bit A asks the receiver to answer."""
        return self.flag is not None and bool(self.flag & FLAG_ACK)

    @property
    def is_split(self) -> bool:
        """True when the packet is one of several (Flag bit D, PNUM/PNO present)."""
        return self.pnum is not None

    def cp_items(self) -> Iterator[CpItem]:
        """All ``(key, value)`` items of the data area in order."""
        for group in self.cp:
            yield from group

    def cp_value(self, key: str) -> str | None:
        """Value of the first item named ``key``, or None."""
        for name, value in self.cp_items():
            if name == key:
                return value
        return None

    def cp_as_dicts(self) -> list[dict[str, str]]:
        """The data area as a list of dicts, one per group (JSON-friendly)."""
        return [dict(group) for group in self.cp]

    def to_json_dict(self) -> dict[str, object]:
        """Plain, JSON-serialisable view of the packet."""
        return {
            "edition": self.edition.value,
            "qn": self.qn,
            "st": self.st,
            "cn": self.cn,
            "pw": self.pw,
            "mn": self.mn,
            "flag": self.flag,
            "pnum": self.pnum,
            "pno": self.pno,
            "extra": dict(self.extra),
            "cp": self.cp_as_dicts(),
            "compat": [c.value for c in self.compat],
        }
