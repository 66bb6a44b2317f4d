"""Reading tabular input files (CSV, XLSX) into rows of text, located for error reports.

Everything that turns a file's bytes into a :class:`Table` goes through here: the text
encoding and separator (:mod:`~kilnwatch.ingest.tables.text`), the CSV or XLSX parser and
the header (:func:`_header`), so that what a file may look like is decided in one place for
every table importer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kilnwatch.errors import InputError
from kilnwatch.ingest.tables.text import TextEncoding, csv_records, decode_text, sniff_separator

SUFFIXES = (".csv", ".xlsx")
"""Suffixes of table files found in a folder (``.xlsm`` is also read when named)."""


@dataclass(frozen=True)
class Table:
    """Rows of one file; ``rows[i]`` is data row ``i + 1`` (the header is not counted).

    ``encoding`` is the text encoding the file was read in (None for a workbook).
    """

    file: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    encoding: str | None = None


def _header(cells: Sequence[object] | None, file: str, empty: str) -> tuple[str, ...]:
    """The column names of a header (``empty`` says what is wrong when there is none)."""
    if not cells:
        raise InputError(empty, file=file)
    return tuple(_cell_text(c) for c in cells)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.isoformat() if value.time() != datetime.min.time() else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_csv_table(path: Path, encoding: TextEncoding | None = None) -> Table:
    """A CSV file in any encoding of :mod:`~kilnwatch.ingest.tables.text` (detected unless
    ``encoding``), comma-, TAB- or semicolon-separated: every row must have as many cells as
    the header; blank lines are skipped."""
    text, used = decode_text(path.read_bytes(), path.name, encoding)
    text = text.lstrip("\ufeff")
    separator = sniff_separator(text[: text.find("\n") + 1 or None])
    records = csv_records(io.StringIO(text, newline=""), path.name, separator)
    columns = _header(next(records, None), path.name, "empty file: a header line is required")
    rows = []
    for number, cells in enumerate(records, start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise InputError(
                f"has {len(cells)} cells, the header has {len(columns)}", file=path.name, row=number
            )
        rows.append({c: v.strip() for c, v in zip(columns, cells, strict=True)})
    return Table(path.name, columns, rows, used)


def read_xlsx_table(path: Path) -> Table:
    """The first sheet of a workbook: cells as text (dates ISO 8601, whole floats as integers)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        values = workbook.worksheets[0].iter_rows(values_only=True)
        columns = _header(next(values, None), path.name, "empty sheet: a header row is required")
        rows = []
        for cells in values:
            texts = [_cell_text(c) for c in cells][: len(columns)]
            if not any(texts):
                continue
            texts += [""] * (len(columns) - len(texts))
            rows.append(dict(zip(columns, texts, strict=True)))
        return Table(path.name, columns, rows)
    finally:
        workbook.close()


def read_table(path: Path, encoding: TextEncoding | None = None) -> Table:
    """Read a ``.csv`` (or Excel's ``.txt`` "Unicode text") or ``.xlsx`` file; ``encoding``
    forces the text encoding of a CSV."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv_table(path, encoding)
    if suffix == ".xls":
        raise InputError(
            "an Excel 97-2003 workbook (.xls) cannot be read; save it as .xlsx or CSV",
            file=path.name,
        )
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_table(path)
    raise InputError(f"unsupported file type {suffix!r}; use .csv or .xlsx", file=path.name)


def kind_of(path: Path, kinds: Iterable[str], what: str) -> str:
    """The kind of table a file holds, from its name (``meters.csv``, ``tax_invoices.xlsx``…)."""
    stem, known = path.stem.lower(), tuple(kinds)
    for kind in known:
        if stem == kind or stem.startswith(kind) or stem.endswith(kind):
            return kind
    raise InputError(
        f"cannot tell the {what} kind from the file name; name it one of {', '.join(known)}",
        file=path.name,
    )


def table_files(
    path: Path, kinds: Mapping[str, object], what: str, kind: str | None = None
) -> list[tuple[str, Path]]:
    """The files to import from ``path``, with their kinds.

    A folder gives every ``<kind>.csv`` / ``<kind>.xlsx`` it holds, in the order of ``kinds``;
    a file gives itself, of ``kind`` or of the kind its name says.
    """
    if path.is_dir():
        candidates = (path / f"{k}{suffix}" for k in kinds for suffix in SUFFIXES)
        found = [(c.stem, c) for c in candidates if c.exists()]
        if not found:
            raise InputError(f"no {what} files ({', '.join(kinds)}) found", file=str(path))
        return found
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if kind is not None and kind not in kinds:
        raise InputError(f"unknown kind {kind!r}; use one of {', '.join(kinds)}", field="kind")
    return [(kind or kind_of(path, kinds, what), path)]
