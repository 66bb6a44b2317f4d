"""Data tables of pages and their CSV twins.

A page builds :class:`Table` objects (columns with a kind, rows as dicts); ``_table.html``
renders them formatted for the user's language and zone, and the same URL with
``?format=csv&table=<id>`` returns the raw values as CSV (UTF-8 with BOM so that spreadsheet
programs read the Chinese headers). Every data table of every page is exported this way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi.responses import Response

from kilnwatch.web.i18n import Translator

Kind = Literal["text", "num", "pct", "change", "time", "badge", "code"]


@dataclass(frozen=True)
class Col:
    """One column: the row key, the i18n label, how to show it, and its unit if any."""

    key: str
    label: str
    kind: Kind = "text"
    digits: int | None = None
    link: str | None = None
    """Row key holding the href of this cell."""
    unit: str | None = None
    badge_prefix: str = ""
    """For ``badge`` columns: the value is shown as ``t(badge_prefix + value)``."""


@dataclass
class Table:
    id: str
    cols: Sequence[Col]
    rows: list[dict[str, Any]]
    title: str | None = None
    empty: str = "table.empty"
    note: str | None = None
    wide: bool = False
    row_link: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def header_of(col: Col, t: Translator) -> str:
    return f"{t(col.label)} [{col.unit}]" if col.unit else t(col.label)


def _csv_value(value: Any, col: Col, tz: str) -> Any:
    if value is None:
        return ""
    if col.kind == "time" and isinstance(value, datetime):
        return value.astimezone(ZoneInfo(tz)).isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def csv_text(table: Table, t: Translator, tz: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header_of(c, t) for c in table.cols])
    for row in table.rows:
        writer.writerow([_csv_value(row.get(c.key), c, tz) for c in table.cols])
    return out.getvalue()


def csv_response(tables: Sequence[Table], wanted: str | None, t: Translator, tz: str) -> Response:
    """The CSV of the table named ``wanted`` (the first table when None)."""
    chosen = next((tb for tb in tables if wanted in (None, tb.id)), None)
    if chosen is None:
        from kilnwatch.errors import NotFoundError

        raise NotFoundError(f"no table {wanted!r} on this page")
    body = "\ufeff" + csv_text(chosen, t, tz)
    headers = {"Content-Disposition": f'attachment; filename="{chosen.id}.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
