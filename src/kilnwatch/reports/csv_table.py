"""CSV writer of a one-table report: headers in the chosen language with units, values shown
as in the PDF (codes as labels). UTF-8 with a byte-order mark, so that Excel opens the Chinese
text correctly."""

from __future__ import annotations

import csv
import io

from kilnwatch.errors import InputError
from kilnwatch.reports.document import ReportDocument
from kilnwatch.reports.labels import cell_text, header


def write_csv(doc: ReportDocument, lang: str = "zh-CN") -> bytes:
    """The single table of ``doc`` as CSV; a document of several tables is refused."""
    tables = doc.tables()
    if len(tables) != 1:
        raise InputError(
            f"report {doc.name} has {len(tables)} tables; CSV holds one (use xlsx or pdf)",
            field="format",
        )
    [table] = tables
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header(c, lang) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [cell_text(v, c, lang, doc.timezone) for c, v in zip(table.columns, row, strict=True)]
        )
    return out.getvalue().encode("utf-8-sig")


__all__ = ["write_csv"]
