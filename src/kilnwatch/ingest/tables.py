"""Reading tabular input files (CSV, XLSX) into rows of strings, located for error reports."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kilnwatch.errors import InputError


@dataclass(frozen=True)
class Table:
    """Rows of one file; ``rows[i]`` is data row ``i + 1`` (the header is not counted)."""

    file: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]


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


def read_csv_table(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=path.name) from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise InputError("empty file: a header line is required", file=path.name)
    columns = tuple(h.strip() for h in header)
    rows = []
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise InputError(
                f"has {len(cells)} cells, the header has {len(columns)}", file=path.name, row=number
            )
        rows.append({c: v.strip() for c, v in zip(columns, cells, strict=True)})
    return Table(path.name, columns, rows)


def read_xlsx_table(path: Path) -> Table:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if not header:
            raise InputError("empty sheet: a header row is required", file=path.name)
        columns = tuple(_cell_text(h) for h in header)
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


def read_table(path: Path) -> Table:
    """Read a ``.csv`` or ``.xlsx`` file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_table(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_table(path)
    raise InputError(f"unsupported file type {suffix!r}; use .csv or .xlsx", file=path.name)


def check_columns(
    table: Table, required: frozenset[str], optional: frozenset[str]
) -> list[InputError]:
    """Missing required columns and unknown columns, one error each."""
    have = set(table.columns)
    errors = [
        InputError("required column is missing", file=table.file, field=c)
        for c in sorted(required - have)
    ]
    errors += [
        InputError("unknown column (typo?)", file=table.file, field=c)
        for c in sorted(have - required - optional)
    ]
    return errors
