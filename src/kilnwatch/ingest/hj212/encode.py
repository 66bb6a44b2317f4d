"""Building HJ 212 frames (always the standard form: HJ 212 CRC, upper-case hex, CR LF).

References
----------
.. [1] HJ 212-2017, section 6 (packet and data segment), Appendix A (CRC).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from kilnwatch.errors import FrameError
from kilnwatch.ingest.hj212.crc import crc_hj212, format_crc
from kilnwatch.ingest.hj212.framing import HEADER, MAX_CP_CHARS, MAX_SEGMENT_BYTES, TERMINATOR
from kilnwatch.ingest.hj212.model import (
    FLAG_VERSION_SHIFT,
    VERSION_BITS_BY_EDITION,
    Packet,
)
from kilnwatch.ingest.hj212.timefmt import CHINA_STANDARD_TIME, format_data_time

Scalar = str | int | float | Decimal
CpValue = Scalar | Mapping[str, Scalar]
CpSpec = str | Mapping[str, CpValue] | Sequence[Mapping[str, Scalar]]

_HEADER_FORBIDDEN = (";", "=", "&&")
_CP_FORBIDDEN = (";", ",", "=", "&")
_HEADER_FORBIDDEN_RE = re.compile("|".join(re.escape(m) for m in _HEADER_FORBIDDEN))
_CP_FORBIDDEN_RE = re.compile("[" + re.escape("".join(_CP_FORBIDDEN)) + "]")
REPLY_ST = "91"  # HJ 212-2017 Table 5: system interaction, used on replies 9011-9014
QN_MILLIS = "000"  # QN = YYYYMMDDhhmmss + 3-digit milliseconds (HJ 212-2017 Table 3)


def format_value(value: Scalar) -> str:
    """Text of a CP value: numbers in plain decimal notation (no exponent), text as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise FrameError("syntax", "booleans are not HJ 212 values")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FrameError("syntax", f"value {value!r} is not finite")
        value = Decimal(repr(value))
    text = f"{value:f}"
    return "0" if text in ("-0", "-0.0") else text


def _check_cp_text(key: str, text: str) -> None:
    if not key or _CP_FORBIDDEN_RE.search(key) or key != key.strip():
        raise FrameError("syntax", f"data-area key {key!r} is empty or holds a separator")
    quoted = len(text) >= 4 and text.startswith("//") and text.endswith("//")
    if not quoted and (_CP_FORBIDDEN_RE.search(text) or text != text.strip()):
        raise FrameError("syntax", f"value {text!r} of {key!r} holds a separator")


def _item(key: str, value: Scalar) -> str:
    text = format_value(value)
    _check_cp_text(key, text)
    return f"{key}={text}"


def encode_cp(cp: CpSpec) -> str:
    """Text of a CP data area from a string, a mapping or a list of groups.

    A mapping's scalar values become one-item groups (``DataTime=...``); a nested mapping
    under a factor code becomes one group ``code-Key=value,...``. A sequence of mappings
    gives the groups explicitly.
    """
    if isinstance(cp, str):
        return cp
    groups: list[str] = []
    if isinstance(cp, Mapping):
        for key, value in cp.items():
            if isinstance(value, Mapping):
                groups.append(",".join(_item(f"{key}-{sub}", v) for sub, v in value.items()))
            else:
                groups.append(_item(key, value))
    else:
        groups = [",".join(_item(k, v) for k, v in group.items()) for group in cp]
    return ";".join(groups)


def encode_segment(fields: Mapping[str, str], cp: CpSpec) -> bytes:
    """The data segment ``NAME=value;...;CP=&&...&&`` as UTF-8 bytes."""
    parts = []
    for name, value in fields.items():
        text = str(value)
        if not name or _HEADER_FORBIDDEN_RE.search(name) or _HEADER_FORBIDDEN_RE.search(text):
            raise FrameError("syntax", f"header field {name}={text!r} holds a separator")
        parts.append(f"{name}={text};")
    body = encode_cp(cp)
    if "&&" in body:
        raise FrameError("syntax", "'&&' inside the data area")
    cp_field = f"CP=&&{body}&&"
    if len(cp_field) > MAX_CP_CHARS:
        raise FrameError("too_long", f"CP field has {len(cp_field)} chars, max {MAX_CP_CHARS}")
    return ("".join(parts) + cp_field).encode("utf-8")


def frame_segment(segment: bytes) -> bytes:
    """Wrap a data segment into a frame: ``##``, length, segment, CRC, CR LF."""
    if len(segment) > MAX_SEGMENT_BYTES:
        message = f"data segment has {len(segment)} bytes, max {MAX_SEGMENT_BYTES}; split it"
        raise FrameError("too_long", message)
    return HEADER + b"%04d" % len(segment) + segment + format_crc(crc_hj212(segment)) + TERMINATOR


def encode_frame(fields: Mapping[str, str], cp: CpSpec) -> bytes:
    """Build one frame from header fields (in the given order) and a CP data area.

    Parameters
    ----------
    fields : Mapping[str, str]
        Header fields, e.g. ``{"QN": ..., "ST": "31", "CN": "2011", "PW": ..., "MN": ...,
        "Flag": "5"}``; emitted in this order.
    cp : str or Mapping or Sequence of Mapping
        The data area, see :func:`encode_cp`.

    Returns
    -------
    bytes
        The frame, ending in CR LF. The length field counts UTF-8 bytes.

    Raises
    ------
    FrameError
        ``too_long`` beyond 1024 bytes / CP beyond 950 chars; ``syntax`` for separators
        inside names or values.
    """
    return frame_segment(encode_segment(fields, cp))


def encode_data_frame(
    *,
    mn: str,
    pw: str,
    cn: str,
    data_time: datetime,
    values: Mapping[str, tuple[float, str]],
    st: str = "31",
    kind: str = "Rtd",
    qn: str | None = None,
    flag: int = 5,
) -> bytes:
    """Build a data upload (e.g. CN 2011 real-time, 2051 minute, 2061 hourly, 2031 daily).

    Parameters
    ----------
    mn, pw, cn, st : str
        Header fields.
    data_time : datetime
        DataTime; an aware value is converted to China Standard Time (UTC+8), a naive one
        is taken as local device time.
    values : Mapping[str, tuple[float, str]]
        Factor code -> (value, data flag), e.g. ``{"a21026": (35.2, "N")}``. An empty flag
        omits the ``-Flag`` item.
    kind : str
        Value suffix: ``Rtd``, ``Avg``, ``Min``, ``Max``, ``Cou``, ``ZsRtd`` ...
    qn : str, optional
        Request id; defaults to DataTime plus ``000`` milliseconds (deterministic).
    flag : int
        Flag byte; 5 = HJ 212-2017, answer requested.
    """
    local = data_time.astimezone(CHINA_STANDARD_TIME) if data_time.tzinfo else data_time
    stamp = format_data_time(local)
    fields = {"QN": qn if qn is not None else stamp + QN_MILLIS, "ST": st, "CN": cn}
    fields |= {"PW": pw, "MN": mn, "Flag": str(flag)}
    groups: list[Mapping[str, Scalar]] = [{"DataTime": stamp}]
    for code, (value, data_flag) in values.items():
        group: dict[str, Scalar] = {f"{code}-{kind}": value}
        if data_flag:
            group[f"{code}-Flag"] = data_flag
        groups.append(group)
    return encode_frame(fields, groups)


def encode_reply(request: Packet, cn: str, cp: CpSpec = "") -> bytes:
    """A reply frame (9011/9012/9013/9014) to ``request``: same QN, PW and MN, ST 91.

    The Flag keeps the request's version bits with A = 0 and D = 0 (HJ 212-2017
    Appendix C examples answer with Flag=4); a request without Flag gets none.
    """
    fields: dict[str, str] = {}
    if request.qn is not None:
        fields["QN"] = request.qn
    fields |= {"ST": REPLY_ST, "CN": cn, "PW": request.pw, "MN": request.mn}
    if request.flag is not None:
        version = VERSION_BITS_BY_EDITION[request.edition]
        fields["Flag"] = str(version << FLAG_VERSION_SHIFT)
    return encode_frame(fields, cp)
