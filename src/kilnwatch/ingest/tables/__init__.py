"""The table-import toolkit shared by the registry and the external-source importers.

* :mod:`~kilnwatch.ingest.tables.read`: a CSV or XLSX file into a :class:`Table` of text
  (the text encoding and the header are read there and only there), and which files of a
  folder to import (:func:`table_files`, :func:`kind_of`);
* :mod:`~kilnwatch.ingest.tables.fields`: :class:`TableRow`, typed field parsers that collect
  located faults (file, row, field, reason);
* :mod:`~kilnwatch.ingest.tables.check`: the header against the file format, per-row checks,
  duplicate natural keys, all-or-nothing or skip-invalid storage and the rejects file.
"""

from kilnwatch.ingest.tables.check import (
    CheckedRows,
    CheckedTable,
    Record,
    RejectedRow,
    TableImportReport,
    TableKind,
    check_header,
    check_table,
    import_tables,
    write_rejects,
)
from kilnwatch.ingest.tables.fields import TableRow
from kilnwatch.ingest.tables.read import Table, kind_of, read_table, table_files
from kilnwatch.ingest.tables.text import TextEncoding, decode_text, named_encoding

__all__ = [
    "CheckedRows",
    "CheckedTable",
    "Record",
    "RejectedRow",
    "Table",
    "TableImportReport",
    "TableKind",
    "TableRow",
    "TextEncoding",
    "check_header",
    "check_table",
    "decode_text",
    "import_tables",
    "kind_of",
    "named_encoding",
    "read_table",
    "table_files",
    "write_rejects",
]
