"""HJ 212 time stamps (``YYYYMMDDhhmmss``, N14) and the default time zone.

References
----------
.. [1] HJ 212-2017, Table 4 (DataTime, SystemTime, N14).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

#: HJ 212 time stamps are local China time (Beijing time, UTC+8) unless a device says otherwise.
CHINA_UTC_OFFSET = timedelta(hours=8)
CHINA_STANDARD_TIME = timezone(CHINA_UTC_OFFSET, "CST")
_STAMP = "%Y%m%d%H%M%S"
_STAMP_DIGITS = 14
_STAMP_MS_DIGITS = 17  # some devices append milliseconds, as in QN


def format_data_time(moment: datetime) -> str:
    """``YYYYMMDDhhmmss`` of ``moment`` (taken as already local)."""
    return moment.strftime(_STAMP)


def parse_data_time(text: str, tz: tzinfo = CHINA_STANDARD_TIME) -> datetime:
    """Aware datetime from an N14 stamp (or N17 with milliseconds) in zone ``tz``.

    The digits are sliced and passed to :class:`datetime` (no ``strptime``: this runs for
    every frame); ``datetime`` itself refuses impossible dates and times.

    Raises
    ------
    ValueError
        When the text is not 14 or 17 digits or not a valid date/time.
    """
    text = text.strip()
    if not text.isdigit() or len(text) not in (_STAMP_DIGITS, _STAMP_MS_DIGITS):
        raise ValueError(f"time stamp {text!r} is not YYYYMMDDhhmmss")
    millis = int(text[_STAMP_DIGITS:] or 0)
    try:
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:14]),
            millis * 1000, tz,
        )  # fmt: skip
    except ValueError as exc:
        raise ValueError(f"time stamp {text!r} is not a valid date/time: {exc}") from None
