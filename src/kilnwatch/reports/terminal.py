"""A report table in the terminal (Rich), with the same labels as the files: Chinese by
default, English with ``lang="en"``; codes shown by their label (低于基准水平)."""

from __future__ import annotations

from rich.table import Table as RichTable

from kilnwatch.reports.document import NUMERIC_KINDS, Table
from kilnwatch.reports.labels import cell_text, header, text


def rich_table(table: Table, lang: str, tz: str) -> RichTable:
    out = RichTable(title=text(table.title, lang))
    for c in table.columns:
        out.add_column(header(c, lang), justify="right" if c.kind in NUMERIC_KINDS else "left")
    for row in table.rows:
        out.add_row(*(cell_text(v, c, lang, tz) for c, v in zip(table.columns, row, strict=True)))
    return out


__all__ = ["rich_table"]
