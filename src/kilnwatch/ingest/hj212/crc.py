"""CRC checks of HJ 212 frames.

The standard's checksum ("ANSI CRC16", HJ 212-2017 Appendix A) uses the MODBUS constant 0xA001
but, unlike CRC-16/MODBUS, XORs each data byte into the *high* byte of the register and discards
the low byte before the eight shift steps. As a consequence the register after each byte is a
table lookup on one 8-bit index, and only 256 CRC values are possible (the low byte of a valid
CRC is always one of ``00 01 40 41 80 81 C0 C1``).

Two flavours seen on field devices are offered for the per-device compatibility setting: plain
CRC-16/MODBUS sent high byte first, and the same sent low byte first.

References
----------
.. [1] HJ 212-2017, Appendix A (CRC algorithm and the worked example giving ``1C80``).
"""

from __future__ import annotations

_POLY = 0xA001  # HJ 212-2017 Appendix A; the reflected CRC-16 polynomial 0x8005
_INIT = 0xFFFF  # HJ 212-2017 Appendix A: the register starts as 0xFFFF


def _shift8(reg: int) -> int:
    for _ in range(8):
        carry = reg & 1
        reg >>= 1
        if carry:
            reg ^= _POLY
    return reg


#: Register value after the eight shifts that follow loading index ``i``.
_TABLE: tuple[int, ...] = tuple(_shift8(i) for i in range(256))
#: High byte of ``_TABLE[i]``: the part of the register that meets the next data byte.
_TABLE_HIGH: tuple[int, ...] = tuple(value >> 8 for value in _TABLE)


def crc_hj212(data: bytes) -> int:
    """Checksum of an HJ 212 data segment.

    Parameters
    ----------
    data : bytes
        The data segment: the bytes between the four length digits and the CRC.

    Returns
    -------
    int
        The 16-bit checksum, sent as four hex digits, most significant byte first.
        The empty segment gives ``0xFFFF``.

    Notes
    -----
    ``reg := (reg >> 8) XOR byte`` followed by eight shifts with 0xA001. Because the low byte
    is dropped, ``reg`` after each byte equals ``TABLE[high(reg_before) XOR byte]``.

    References
    ----------
    .. [1] HJ 212-2017, Appendix A.
    """
    if not data:
        return _INIT
    high = _INIT >> 8
    index = 0
    table_high = _TABLE_HIGH
    for byte in data:
        index = high ^ byte
        high = table_high[index]
    return _TABLE[index]


def _modbus_table() -> tuple[int, ...]:
    return tuple(_shift8(i) for i in range(256))


_MODBUS_TABLE = _modbus_table()


def crc_modbus(data: bytes) -> int:
    """Plain CRC-16/MODBUS (init 0xFFFF, reflected poly 0xA001), as some devices send it.

    Parameters
    ----------
    data : bytes
        The data segment.

    Returns
    -------
    int
        The 16-bit CRC as a number (print high byte first for the ``crc_modbus`` flavour,
        swap the bytes for ``crc_modbus_swapped``).
    """
    reg = _INIT
    table = _MODBUS_TABLE
    for byte in data:
        reg = (reg >> 8) ^ table[(reg ^ byte) & 0xFF]
    return reg


def swap_bytes(value: int) -> int:
    """Swap the two bytes of a 16-bit value (``0x1234`` -> ``0x3412``)."""
    return ((value & 0xFF) << 8) | (value >> 8)


def format_crc(value: int) -> bytes:
    """Four upper-case hex digits, most significant byte first, as the standard prints them."""
    return b"%04X" % value
