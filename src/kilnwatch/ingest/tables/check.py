"""Checking a whole table and storing what passed: the shared steps of every table importer.

1. the header against the file's :class:`~kilnwatch.formats.FileFormat` (a missing required
   or an unknown column refuses the file before any row is read);
2. every row with the importer's check (typed fields, :class:`TableRow`), a row repeating an
   earlier row's natural key failing on its key field;
3. all-or-nothing: any fault raises :class:`~kilnwatch.errors.ImportRejected` with every fault
   and writes nothing; with ``skip_invalid`` the valid rows are stored and the faulty ones
   returned (:func:`write_rejects` writes them with their file, row, field and reason).

Nothing is committed here: the caller owns the transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.formats import FileFormat
from kilnwatch.ingest.tables.fields import TableRow
from kilnwatch.ingest.tables.read import Table, read_table, table_files
from kilnwatch.ingest.tables.text import TextEncoding

Record = dict[str, Any]
"""A checked row: the values to store, by column of the store."""


@dataclass
class RejectedRow:
    """A faulty row: one fault and the row as read."""

    error: InputError
    row: dict[str, str]


CheckedRows = list[tuple[TableRow, Record]]


@dataclass(frozen=True)
class TableKind:
    """How one kind of table is checked.

    Parameters
    ----------
    format : FileFormat
        Its columns.
    check : callable
        Reads one row's fields and returns the record to store.
    key : tuple of str
        The record's natural key; a row repeating an earlier row's key fails on ``key_field``.
    key_field : str
        The column a duplicate key is reported on.
    across_rows : callable, optional
        Sees every checked row before the rows are split into good and rejected (checks
        across rows, such as references to later rows).
    """

    format: FileFormat
    check: Callable[[TableRow], Record]
    key: tuple[str, ...]
    key_field: str
    across_rows: Callable[[CheckedRows], None] | None = None


@dataclass
class CheckedTable:
    """A table after its checks: the records to store and the rejected rows."""

    kind: str
    table: Table
    good: list[Record]
    rejected: list[RejectedRow]


@dataclass
class TableImportReport:
    """What an import did, per kind; ``rejected`` lists the refused rows with their fault and
    ``encodings`` the text encoding each CSV file was read in (docs/formats.md, "Encodings")."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)


def check_header(table: Table, fmt: FileFormat) -> list[InputError]:
    """Missing required columns and unknown columns, one error each."""
    have = set(table.columns)
    errors = [
        InputError("required column is missing", file=table.file, field=c)
        for c in sorted(fmt.required - have)
    ]
    errors += [
        InputError("unknown column (typo?)", file=table.file, field=c)
        for c in sorted(have - fmt.accepted)
    ]
    return errors


def check_table(kind: str, table: Table, spec: TableKind) -> CheckedTable:
    """Check the header, then every row (see :class:`TableKind`).

    Raises
    ------
    ImportRejected
        A missing required or an unknown column (no row is checked then).
    """
    header_errors = check_header(table, spec.format)
    if header_errors:
        raise ImportRejected(header_errors, file=table.file)
    checked: CheckedRows = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, raw in enumerate(table.rows, start=1):
        row = TableRow(table.file, number, raw)
        record = spec.check(row)
        natural = tuple(record[k] for k in spec.key)
        if natural in seen:
            row.fail(spec.key_field, f"duplicate of row {seen[natural]}")
        seen.setdefault(natural, number)
        checked.append((row, record))
    if spec.across_rows is not None:
        spec.across_rows(checked)
    result = CheckedTable(kind, table, [], [])
    for row, record in checked:
        if row.errors:
            result.rejected += [RejectedRow(e, row.raw) for e in row.errors]
        else:
            result.good.append(record)
    return result


R = TypeVar("R", bound=TableImportReport)


Store = Callable[[str, list[Record]], tuple[int, int]]
"""Stores the good records of one kind; returns how many were created and updated."""


def _store_checked(
    checked: Sequence[CheckedTable],
    store: Store,
    report: R,
    *,
    skip_invalid: bool,
    file: str,
) -> R:
    """Store the good records of every table with ``store``.

    Raises
    ------
    ImportRejected
        Some row is faulty and ``skip_invalid`` is not set: nothing is stored.
    """
    report.rejected = [r for c in checked for r in c.rejected]
    if report.rejected and not skip_invalid:
        raise ImportRejected([r.error for r in report.rejected], file=file)
    for c in checked:
        report.created[c.kind], report.updated[c.kind] = store(c.kind, c.good)
    return report


def import_tables(
    path: Path,
    kinds: Mapping[str, TableKind],
    what: str,
    store: Store,
    report: R,
    *,
    kind: str | None = None,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> R:
    """Import a file or a folder of files of ``kinds`` (in the order of ``kinds``): read and
    check every file, then store the good records with ``store`` into ``report``.

    ``what`` names the files in errors ("registry", "external source"); ``kind`` is the kind
    of a single file whose name does not say it; ``encoding`` forces the text encoding of
    CSV files (else detected).
    """
    files = table_files(path, kinds, what, kind)
    tables = [(k, read_table(p, encoding)) for k, p in files]
    report.encodings = {
        t.file: str(TextEncoding(t.encoding, detected=encoding is None))
        for _, t in tables
        if t.encoding is not None
    }
    checked = [check_table(k, t, kinds[k]) for k, t in tables]
    return _store_checked(checked, store, report, skip_invalid=skip_invalid, file=str(path))


def write_rejects(rejected: Sequence[RejectedRow], out: Path) -> None:
    """Write rejected rows with their file, row, field and reason (for ``--skip-invalid``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for r in rejected:
        columns += [c for c in r.row if c not in columns]
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "row", "field", "reason", *columns])
        for r in rejected:
            loc = r.error.location
            writer.writerow(
                [loc.file, loc.row, loc.field, r.error.reason, *(r.row.get(c, "") for c in columns)]
            )
