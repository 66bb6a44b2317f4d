"""Display formats: numbers in the zh-CN pattern and times in the deployment's zone.

The CLDR decimal pattern of zh-CN (and en) is ``#,##0.###``: groups of three digits
separated by ``,``, ``.`` before decimals; percent ``#,##0%``. Numbers are formatted only here,
at display time, from the stored values; CSV twins carry the raw values.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

DASH = "—"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def num(value: Any, digits: int | None = None) -> str:
    """``1234567.891`` -> ``1,234,567.89``. ``digits`` None picks by magnitude (3 significant
    decimals under 10, 1 under 1000, none above)."""
    number = _finite(value)
    if number is None:
        return DASH
    if digits is None:
        size = abs(number)
        digits = 0 if size >= 1000 else 1 if size >= 10 else 2 if size >= 1 else 3
        if number == int(number) and size < 1e15:
            digits = 0
    return f"{number:,.{digits}f}"


def pct(fraction: Any, digits: int = 1, signed: bool = False) -> str:
    """``0.1318`` -> ``13.2%``; ``signed`` puts ``+`` before rises."""
    number = _finite(fraction)
    if number is None:
        return DASH
    sign = "+" if signed and number > 0 else ""
    return f"{sign}{number * 100:,.{digits}f}%"


def change(fraction: Any, digits: int = 1) -> str:
    return pct(fraction, digits, signed=True)


def localtime(value: Any, tz: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime (or ISO text) in ``tz``; naive datetimes are taken as UTC."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return str(value.astimezone(ZoneInfo(tz)).strftime(pattern))
    if isinstance(value, date):
        return str(value.isoformat())
    return str(value)
