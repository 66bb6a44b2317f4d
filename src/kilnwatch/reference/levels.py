"""Load efficiency-level tables: NDRC 标杆/基准, GB limit grades, provincial tables, targets.

Packaged tables live in ``kilnwatch/reference/levels/`` (see its README.md):

- ``fields.csv``: every field key with its indicator, unit and direction.
- ``tables.csv``: which file holds which table (NDRC editions, GB grade files).
- ``ndrc_2021.csv``, ``ndrc_2023.csv``: benchmark/baseline per field (empty = no confirmed level).
- ``gb_limit_grades.csv``, ``gb_21258_coal_power.csv``: grade 1/2/3 per field and variant; one
  table per ``standard``.
- ``targets.csv``: policy targets (share of capacity at benchmark, intensity reduction, ...).

Provincial tables are CSV files a user drops into a directory: :func:`read_provincial_tables`.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from kilnwatch.errors import ReferenceDataError, UnitError, UnknownFieldError
from kilnwatch.reference._csv import (
    Confidence,
    Row,
    keyed,
    package_rows,
    read_table,
    strip_cells,
)
from kilnwatch.reference.energy import PACKAGE

TableKind = Literal["ndrc", "province", "gb"]
Comparison = Literal["gt", "ge", "lt", "le"]
NDRC_LEVELS = ("benchmark", "baseline")
GB_LEVELS = ("grade1", "grade2", "grade3")
PROVINCIAL_COLUMNS = ("field", "variant", "unit", "benchmark", "baseline", "edition_year")
PROVINCIAL_PREFIX = "province:"


@dataclass(frozen=True)
class FieldDef:
    """An efficiency-level field: what is measured, in which unit, and which way is better."""

    field: str
    name_zh: str
    name_en: str
    indicator_zh: str
    unit: str
    lower_is_better: bool
    product: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class LevelRow:
    """One row of a level table: named level values (None = no confirmed value)."""

    field: str
    variant: str
    unit: str
    levels: tuple[tuple[str, float | None], ...]
    source: str
    confidence: Confidence
    notes: str

    @property
    def has_values(self) -> bool:
        """True when at least one level value is confirmed."""
        return any(value is not None for _, value in self.levels)


@dataclass(frozen=True)
class LevelTable:
    """A table of levels; ``kind`` says how its levels classify a value."""

    table_id: str
    kind: TableKind
    edition_year: int
    title: str
    rows: tuple[LevelRow, ...]


@dataclass(frozen=True)
class Target:
    """A policy target; ``comparison`` is gt/ge/lt/le of an actual figure vs ``value``."""

    target: str
    field: str
    value: float
    unit: str
    comparison: Comparison
    year: int | None
    base_year: int | None
    source: str
    confidence: Confidence


@cache
def load_fields() -> Mapping[str, FieldDef]:
    """Field definitions keyed by field key."""
    return keyed(read_table(PACKAGE, "levels/fields.csv", FieldDef), lambda f: f.field)


def _level_row(row: Row, names: tuple[str, ...], fields: Mapping[str, FieldDef]) -> LevelRow:
    field = row.text("field")
    if field not in fields:
        raise UnknownFieldError(f"{row.where}: field {field!r} is not defined in levels/fields.csv")
    unit, field_unit = row.text("unit"), fields[field].unit
    if unit != field_unit:
        raise UnitError(f"{row.where}: unit {unit!r} differs from field unit {field_unit!r}")
    return LevelRow(
        field=field,
        variant=row.text("variant") if row.has("variant") else "",
        unit=unit,
        levels=tuple((n, row.optional_number(n)) for n in names),
        source=row.source(),
        confidence=row.confidence(),
        notes=row.text("notes") if row.has("notes") else "",
    )


def _standard_year(standard: str) -> int:
    return int(standard.rsplit("-", 1)[-1])


def _gb_tables(name: str) -> list[LevelTable]:
    fields = load_fields()
    by_standard: dict[str, list[LevelRow]] = {}
    for row in package_rows(PACKAGE, f"levels/{name}"):
        by_standard.setdefault(row.text("standard"), []).append(_level_row(row, GB_LEVELS, fields))
    return [
        LevelTable(std, "gb", _standard_year(std), std, tuple(rows))
        for std, rows in by_standard.items()
    ]


def _ndrc_table(meta: Row) -> LevelTable:
    fields = load_fields()
    rows = package_rows(PACKAGE, f"levels/{meta.text('file')}")
    return LevelTable(
        table_id=meta.text("table_id"),
        kind="ndrc",
        edition_year=meta.integer("edition_year"),
        title=f"{meta.text('title')} ({meta.text('document')})",
        rows=tuple(_level_row(r, NDRC_LEVELS, fields) for r in rows),
    )


@cache
def load_level_tables() -> tuple[LevelTable, ...]:
    """The packaged NDRC tables and one GB table per limit standard."""
    tables: list[LevelTable] = []
    for meta in package_rows(PACKAGE, "levels/tables.csv"):
        if meta.choice("kind", ("ndrc", "gb")) == "ndrc":
            tables.append(_ndrc_table(meta))
        else:
            tables.extend(_gb_tables(meta.text("file")))
    return tuple(tables)


def read_provincial_table(path: Path) -> LevelTable:
    """One provincial table from a CSV file (format in ``levels/README.md``).

    The table id is ``province:<file stem>``; every row must name a defined field, use the
    field's unit and carry ``edition_year``, ``source`` and ``confidence``.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = strip_cells(csv.DictReader(handle))
    missing = [c for c in PROVINCIAL_COLUMNS if cells and c not in cells[0]]
    if not cells or missing:
        raise ReferenceDataError(f"{path.name}: empty or missing columns {missing}")
    rows = [Row(c, f"{path.name}, row {i}") for i, c in enumerate(cells, start=1)]
    fields = load_fields()
    level_rows = tuple(_level_row(r, NDRC_LEVELS, fields) for r in rows)
    years = {r.integer("edition_year") for r in rows}
    if len(years) != 1:
        raise ReferenceDataError(f"{path.name}: all rows must share one edition_year")
    title = rows[0].cells.get("title", "") or path.stem
    return LevelTable(PROVINCIAL_PREFIX + path.stem, "province", years.pop(), title, level_rows)


def read_provincial_tables(directory: Path) -> tuple[LevelTable, ...]:
    """Every ``*.csv`` in ``directory`` as a provincial table, sorted by file name."""
    if not directory.is_dir():
        raise ReferenceDataError(f"{directory}: not a directory of provincial level tables")
    return tuple(read_provincial_table(p) for p in sorted(directory.glob("*.csv")))


@cache
def load_targets() -> Mapping[str, Target]:
    """Policy targets keyed by target id."""
    return keyed(read_table(PACKAGE, "levels/targets.csv", Target), lambda t: t.target)
