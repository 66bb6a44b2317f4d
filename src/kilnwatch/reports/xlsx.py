"""Excel writer of report documents (openpyxl).

A cover sheet (title, scope, period, generated-at in local time, key facts, notes, sources),
then one sheet per table: the title in row 1, the header in row 2 (frozen with the first
column), typed cells with number formats (``#,##0.0``, ``0.0%``, dates), column widths from the
content (CJK characters count double), notes below, and a native Excel chart beside the table
where the document has one (a bar chart with the reference value as a line).
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kilnwatch.reports.document import CellValue, Column, Fact, ReportDocument, Table, Text
from kilnwatch.reports.labels import code_text, header, local_time, text

HEADER_FILL = PatternFill("solid", start_color="DDE4EE")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_BORDER = Border(bottom=Side(style="thin"))
MIN_WIDTH, MAX_WIDTH = 8, 48
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
CHART_HEIGHT_CM, CHART_WIDTH_CM = 9, 16


def number_format(column: Column | Fact) -> str:
    if column.kind == "integer":
        return "#,##0"
    if column.kind == "number":
        return "#,##0" + ("." + "0" * column.digits if column.digits else "")
    if column.kind == "fraction":
        return "0" + ("." + "0" * column.digits if column.digits else "") + "%"
    if column.kind == "date":
        return "yyyy-mm-dd"
    if column.kind == "datetime":
        return "yyyy-mm-dd hh:mm"
    return "General"


def excel_value(
    value: CellValue, kind: str, lang: str, tz: str, codes: str | None
) -> str | int | float | date | datetime | None:
    """The typed cell value: numbers stay numbers, codes and text become ``lang`` strings."""
    if isinstance(value, Text):
        return value(lang)
    if kind == "code" and codes:
        return code_text(codes, None if value is None else str(value), lang)
    if isinstance(value, bool):
        return text(f"bool.{str(value).lower()}", lang)
    if isinstance(value, datetime):
        return local_time(value, tz).replace(tzinfo=None)  # Excel has no time zones
    return value


def display_width(value: object) -> int:
    s = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def sheet_title(title: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", title)[:28] or "sheet"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name.lower())
    return name


def _cover(ws: Worksheet, doc: ReportDocument, lang: str) -> None:
    ws["A1"] = text(doc.title, lang)
    ws["A1"].font = TITLE_FONT
    generated = local_time(doc.generated_at, doc.timezone)
    lines: list[tuple[str, CellValue, Fact | None]] = [
        (text("report.scope", lang), doc.scope, None),
        (text("report.period", lang), doc.period, None),
        (text("report.generated_at", lang), f"{generated:%Y-%m-%d %H:%M} ({doc.timezone})", None),
    ]
    lines += [(text(f.label, lang), f.value, f) for f in doc.facts]
    row = 3
    for name, value, fact in lines:
        ws.cell(row, 1, name).font = HEADER_FONT
        kind, codes = (fact.kind, None) if fact else ("text", None)
        cell = ws.cell(row, 2, excel_value(value, kind, lang, doc.timezone, codes))
        if fact is not None:
            cell.number_format = number_format(fact)
            if fact.unit:
                ws.cell(row, 3, text(f"unit.{fact.unit}", lang))
        row += 1
    for heading, items in (("report.notes", doc.notes), ("report.sources", doc.sources)):
        if not items:
            continue
        row += 1
        ws.cell(row, 1, text(heading, lang)).font = HEADER_FONT
        for item in items:
            row += 1
            ws.cell(row, 1, text(item, lang)).alignment = Alignment(wrap_text=False)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 48


def _table_sheet(ws: Worksheet, table: Table, lang: str, tz: str) -> None:
    ws.cell(1, 1, text(table.title, lang)).font = TITLE_FONT
    widths = []
    for j, column in enumerate(table.columns, start=1):
        cell = ws.cell(2, j, header(column, lang))
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        widths.append(min(display_width(cell.value), 24))
    for i, row in enumerate(table.rows, start=3):
        for j, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = ws.cell(i, j, excel_value(value, column.kind, lang, tz, column.codes))
            cell.number_format = number_format(column)
            if cell.value is not None:
                widths[j - 1] = max(widths[j - 1], display_width(cell.value))
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
    ws.freeze_panes = "B3"
    last = 2 + len(table.rows)
    for k, note in enumerate(table.notes, start=last + 2):
        ws.cell(k, 1, text(note, lang))
    if table.chart and table.rows:
        _chart(ws, table, lang)


def _chart(ws: Worksheet, table: Table, lang: str) -> None:
    chart = table.chart
    assert chart is not None
    first, last = 3, 2 + len(table.rows)
    bar = BarChart() if chart.kind == "bar" else LineChart()
    bar.title = text(chart.title, lang)
    bar.height, bar.width = CHART_HEIGHT_CM, CHART_WIDTH_CM
    cat = table.column_index(chart.category) + 1
    for key in chart.series:
        col = table.column_index(key) + 1
        bar.add_data(Reference(ws, min_col=col, min_row=2, max_row=last), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=cat, min_row=first, max_row=last))
    anchor_col = len(table.columns) + 2
    if chart.reference is not None:
        helper = len(table.columns) + 1  # the reference value, one cell per category
        ws.cell(2, helper, text(chart.reference_label, lang) or "reference")
        fmt = number_format(table.columns[table.column_index(chart.series[0])])
        for i in range(first, last + 1):
            ws.cell(i, helper, chart.reference).number_format = fmt
        line = LineChart()
        line.add_data(Reference(ws, min_col=helper, min_row=2, max_row=last), titles_from_data=True)
        bar += line
        anchor_col += 1
    ws.add_chart(bar, f"{get_column_letter(anchor_col)}2")


def write_xlsx(doc: ReportDocument, lang: str = "zh-CN") -> bytes:
    """The workbook of ``doc`` in ``lang`` as bytes."""
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    taken: set[str] = set()
    cover.title = sheet_title(text("report.cover", lang), taken)
    _cover(cover, doc, lang)
    for table in doc.tables():
        ws = wb.create_sheet(sheet_title(text(table.title, lang), taken))
        _table_sheet(ws, table, lang, doc.timezone)
    wb.properties.title = text(doc.title, lang)
    wb.properties.creator = "kilnwatch"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = ["number_format", "sheet_title", "write_xlsx"]
