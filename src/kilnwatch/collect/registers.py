"""Modbus register values (pure): 16-bit words to numbers, scaling.

A Modbus register is 16 bits, sent most significant byte first (Modbus Application Protocol
v1.1b3, section 4.2). Values wider than one register span consecutive registers whose order
the protocol leaves open; meters differ, so each point says its ``word_order`` (``big``: the
first register holds the most significant word) and ``byte_order`` (``little``: the two bytes
of each register are swapped). The four combinations are the usual ABCD (big/big), CDAB
(little/big), BADC (big/little) and DCBA (little/little).

References
----------
.. [1] Modbus Application Protocol Specification V1.1b3, section 4.2 (data encoding) and
       6.3/6.4 (Read Holding / Input Registers).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

DataType = Literal["u16", "i16", "u32", "i32", "f32", "u64", "f64"]
Order = Literal["big", "little"]

#: Registers per value and the ``struct`` code of the value (big-endian bytes).
LAYOUT: dict[str, tuple[int, str]] = {
    "u16": (1, "H"),
    "i16": (1, "h"),
    "u32": (2, "I"),
    "i32": (2, "i"),
    "f32": (2, "f"),
    "u64": (4, "Q"),
    "f64": (4, "d"),
}


def register_count(data_type: DataType) -> int:
    """Number of 16-bit registers a value of ``data_type`` occupies."""
    return LAYOUT[data_type][0]


def decode_registers(
    registers: Sequence[int], data_type: DataType, word_order: Order = "big",
    byte_order: Order = "big",
) -> float:  # fmt: skip
    """The number held in ``registers``.

    Parameters
    ----------
    registers : sequence of int
        Register values as read (0..65535), in address order.
    data_type : {"u16", "i16", "u32", "i32", "f32", "u64", "f64"}
    word_order, byte_order : {"big", "little"}
        Order of the registers, and of the two bytes inside each register.

    Returns
    -------
    float
        The raw value (integers are exact up to 2**53).

    Raises
    ------
    ValueError
        When the number of registers does not fit the type or a register is out of range.
    """
    count, code = LAYOUT[data_type]
    if len(registers) != count:
        raise ValueError(f"{data_type} needs {count} register(s), got {len(registers)}")
    words = list(registers)
    if any(not 0 <= w <= 0xFFFF for w in words):
        raise ValueError(f"register values must lie in 0..65535: {words}")
    if word_order == "little":
        words.reverse()
    raw = b"".join(w.to_bytes(2, "little" if byte_order == "little" else "big") for w in words)
    value: float = struct.unpack(">" + code, raw)[0]
    return value


def encode_value(
    value: float, data_type: DataType, word_order: Order = "big", byte_order: Order = "big"
) -> list[int]:
    """The registers a meter would hold for ``value`` (inverse of :func:`decode_registers`)."""
    _, code = LAYOUT[data_type]
    number: float = float(value) if code in "fd" else int(value)
    raw = struct.pack(">" + code, number)
    words = [int.from_bytes(raw[i : i + 2], "little" if byte_order == "little" else "big")
             for i in range(0, len(raw), 2)]  # fmt: skip
    if word_order == "little":
        words.reverse()
    return words


def scaled(raw: float, scale: float, offset: float) -> float:
    """Engineering value: ``raw * scale + offset`` [the point's unit]."""
    return raw * scale + offset
