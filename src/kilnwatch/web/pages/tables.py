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
from markupsafe import Markup, escape

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


def history_cols(badges: str = "") -> list[Col]:
    """The columns every workflow history starts with: when, who, the action and the status it
    moved from and to (badge labels under ``<badges>action.`` and ``<badges>status.``)."""
    return [
        Col("at", "col.at", "time"), Col("actor", "col.actor"),
        Col("action", "col.action", "badge", badge_prefix=f"{badges}action."),
        Col("from_status", "col.from_status", "badge", badge_prefix=f"{badges}status."),
        Col("to_status", "col.to_status", "badge", badge_prefix=f"{badges}status."),
    ]  # fmt: skip


def history_row(event: Any) -> dict[str, Any]:
    """The :func:`history_cols` cells of a workflow event (``at``, ``actor``, ``action``,
    ``from_status``, ``to_status`` attributes)."""
    keys = ("at", "actor", "action", "from_status", "to_status")
    return {k: getattr(event, k) for k in keys}


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


def _cell(col: Col, row: dict[str, Any], t: Translator, tz: str) -> str:
    from kilnwatch.web import fmt

    v = row.get(col.key)
    text: str
    if col.kind == "num":
        text = escape(fmt.num(v, col.digits))
    elif col.kind == "pct":
        text = escape(fmt.pct(v, col.digits if col.digits is not None else 1))
    elif col.kind == "change":
        text = escape(fmt.change(v))
    elif col.kind == "time":
        text = escape(fmt.localtime(v, tz))
    elif col.kind == "badge":
        if v is None:
            return fmt.DASH
        text = f'<span class="badge b-{escape(v)}">{escape(t(col.badge_prefix + str(v)))}</span>'
    elif col.kind == "code":
        text = f"<code>{escape(v if v is not None else fmt.DASH)}</code>"
    else:
        text = escape(v if v is not None and v != "" else fmt.DASH)
    href = row.get(col.link) if col.link else None
    return f'<a href="{escape(href)}">{text}</a>' if href else str(text)


def table_html(tb: Table, t: Translator, tz: str, csv_href: str) -> Markup:
    """The table as HTML, built in Python (a Jinja macro per cell is ten times slower on
    pages with thousands of cells): headers with units, formatted cells, links, CSV link."""
    heads = "".join(
        f'<th class="k-{c.kind}" scope="col">{escape(t(c.label))}'
        + (f" <small>({escape(c.unit)})</small>" if c.unit else "")
        + "</th>"
        for c in tb.cols
    )
    labels = [escape(t(c.label)) for c in tb.cols]
    body = []
    for row in tb.rows:
        cls = f' class="{escape(row["_class"])}"' if row.get("_class") else ""
        cells = "".join(
            f'<td class="k-{c.kind}" data-label="{label}">{_cell(c, row, t, tz)}</td>'
            for c, label in zip(tb.cols, labels, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    if not tb.rows:
        body.append(
            f'<tr><td colspan="{len(tb.cols)}" class="empty">{escape(t(tb.empty))}</td></tr>'
        )
    title = f"<h3>{escape(t(tb.title))}</h3>" if tb.title else ""
    note = f'<span class="note">{escape(tb.note)}</span>' if tb.note else "<span></span>"
    wide = " wide" if tb.wide else ""
    return Markup(
        f'<div class="table-block" id="block-{escape(tb.id)}">{title}<div class="scroll">'
        f'<table id="{escape(tb.id)}" class="data{wide}"><thead><tr>{heads}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div><div class="table-foot">{note}'
        f'<a class="csv" href="{escape(csv_href)}" download>{escape(t("table.csv"))}</a>'
        "</div></div>"
    )
