"""The label table of reports (``labels.csv``: key, zh, en) and the display of typed values.

Chinese is the default language, English is ``lang="en"``. Code values are shown by their
label (``class.below_baseline`` → 低于基准水平), never as the code. Numbers follow the zh-CN
and en conventions alike (``1,234.5``; ratios as ``12.3%``); timestamps are shown in the
platform's local time.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from kilnwatch.reference import read_package_csv
from kilnwatch.reports.document import CellValue, Column, ColumnKind, Label, Text

LANGS = ("zh-CN", "en")


@cache
def _table() -> dict[str, Text]:
    rows = read_package_csv("kilnwatch.reports", "labels.csv")
    return {row["key"]: Text(row["zh"], row["en"]) for row in rows}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use zh-CN or en")
    return lang


def text(label: Label | None, lang: str) -> str:
    """The label in ``lang``; a key missing from the table is shown as itself."""
    if label is None:
        return ""
    if isinstance(label, Text):
        return label(lang)
    found = _table().get(label)
    return found(lang) if found else label


def has_label(key: str) -> bool:
    return key in _table()


def code_text(namespace: str, code: str | None, lang: str) -> str:
    """``class``/``benchmark`` → 标杆水平; a missing code → the namespace's ``none`` label."""
    return text(f"{namespace}.{code if code is not None else 'none'}", lang)


def unit_text(unit: str | None, lang: str) -> str:
    return text(f"unit.{unit}", lang) if unit else ""


def header(column: Column, lang: str) -> str:
    """``综合能耗（吨标准煤）`` / ``Energy (tce)``; ratios carry ``%``."""
    name = text(column.header_label, lang)
    unit = "%" if column.kind == "fraction" else unit_text(column.unit, lang)
    if not unit:
        return name
    return f"{name}（{unit}）" if lang != "en" else f"{name} ({unit})"


def local_time(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def display(
    value: CellValue,
    kind: ColumnKind,
    lang: str,
    tz: str,
    *,
    digits: int = 1,
    codes: str | None = None,
) -> str:
    """A cell as text for PDF, CSV and the terminal (Excel keeps the typed value)."""
    if isinstance(value, Text):
        return value(lang)
    if kind == "code" and codes:
        return code_text(codes, None if value is None else str(value), lang)
    if value is None:
        return text("report.none", lang)
    if isinstance(value, bool):
        return text(f"bool.{str(value).lower()}", lang)
    if isinstance(value, datetime):
        return f"{local_time(value, tz):%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and kind in ("integer", "number", "fraction"):
        if kind == "fraction":
            return f"{value * 100:,.{digits}f}%"
        return f"{value:,.0f}" if kind == "integer" else f"{value:,.{digits}f}"
    return str(value)


def cell_text(value: CellValue, column: Column, lang: str, tz: str) -> str:
    return display(value, column.kind, lang, tz, digits=column.digits, codes=column.codes)


__all__ = [
    "LANGS",
    "cell_text",
    "check_lang",
    "code_text",
    "display",
    "has_label",
    "header",
    "local_time",
    "text",
    "unit_text",
]
