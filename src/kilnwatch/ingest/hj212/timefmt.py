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

    Raises
    ------
    ValueError
        When the text is not 14 or 17 digits or not a valid date/time.
    """
    text = text.strip()
    if not text.isdigit() or len(text) not in (_STAMP_DIGITS, _STAMP_MS_DIGITS):
        raise ValueError(f"time stamp {text!r} is not YYYYMMDDhhmmss")
    moment = datetime.strptime(text[:_STAMP_DIGITS], _STAMP)
    millis = int(text[_STAMP_DIGITS:] or 0)
    return moment.replace(microsecond=millis * 1000, tzinfo=tz)
