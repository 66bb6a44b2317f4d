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
from types import MappingProxyType
from typing import Literal

from kilnwatch.errors import ReferenceDataError, UnitError, UnknownFieldError
from kilnwatch.reference._csv import read_package_csv
from kilnwatch.reference.energy import (
    PACKAGE,
    Confidence,
    parse_confidence,
    parse_float,
    parse_optional_float,
    require_source,
)

TableKind = Literal["ndrc", "province", "gb"]
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
    comparison: str
    year: int | None
    base_year: int | None
    source: str
    confidence: Confidence


def _where(name: str, index: int) -> str:
    return f"{name}, row {index}"


def _parse_bool(text: str, where: str) -> bool:
    if text in ("true", "false"):
        return text == "true"
    raise ReferenceDataError(f"{where}: expected true/false, got {text!r}")


@cache
def load_fields() -> Mapping[str, FieldDef]:
    """Field definitions keyed by field key."""
    name = "levels/fields.csv"
    fields: dict[str, FieldDef] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        fields[row["field"]] = FieldDef(
            field=row["field"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            indicator_zh=row["indicator_zh"],
            unit=row["unit"],
            lower_is_better=_parse_bool(row["lower_is_better"], where),
            product=row["product"],
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(fields)


def _level_row(
    row: Mapping[str, str], names: tuple[str, ...], where: str, fields: Mapping[str, FieldDef]
) -> LevelRow:
    field = row["field"]
    if field not in fields:
        raise UnknownFieldError(f"{where}: field {field!r} is not defined in levels/fields.csv")
    if row["unit"] != fields[field].unit:
        raise UnitError(
            f"{where}: unit {row['unit']!r} differs from field unit {fields[field].unit!r}"
        )
    return LevelRow(
        field=field,
        variant=row.get("variant", ""),
        unit=row["unit"],
        levels=tuple((n, parse_optional_float(row[n], where)) for n in names),
        source=require_source(row, where),
        confidence=parse_confidence(row["confidence"], where),
        notes=row.get("notes", ""),
    )


def _standard_year(standard: str) -> int:
    return int(standard.rsplit("-", 1)[-1])


def _gb_tables(name: str) -> list[LevelTable]:
    fields = load_fields()
    by_standard: dict[str, list[LevelRow]] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, f"levels/{name}"), start=1):
        level_row = _level_row(row, GB_LEVELS, _where(name, i), fields)
        by_standard.setdefault(row["standard"], []).append(level_row)
    return [
        LevelTable(std, "gb", _standard_year(std), std, tuple(rows))
        for std, rows in by_standard.items()
    ]


def _ndrc_table(meta: Mapping[str, str]) -> LevelTable:
    fields = load_fields()
    name = meta["file"]
    rows = read_package_csv(PACKAGE, f"levels/{name}")
    return LevelTable(
        table_id=meta["table_id"],
        kind="ndrc",
        edition_year=int(meta["edition_year"]),
        title=f"{meta['title']} ({meta['document']})",
        rows=tuple(
            _level_row(r, NDRC_LEVELS, _where(name, i), fields) for i, r in enumerate(rows, 1)
        ),
    )


@cache
def load_level_tables() -> tuple[LevelTable, ...]:
    """The packaged NDRC tables and one GB table per limit standard."""
    tables: list[LevelTable] = []
    for meta in read_package_csv(PACKAGE, "levels/tables.csv"):
        if meta["kind"] == "ndrc":
            tables.append(_ndrc_table(meta))
        elif meta["kind"] == "gb":
            tables.extend(_gb_tables(meta["file"]))
        else:
            raise ReferenceDataError(f"levels/tables.csv: unknown kind {meta['kind']!r}")
    return tuple(tables)


def read_provincial_table(path: Path) -> LevelTable:
    """One provincial table from a CSV file (format in ``levels/README.md``).

    The table id is ``province:<file stem>``; every row must name a defined field, use the
    field's unit and carry ``edition_year``, ``source`` and ``confidence``.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        raw = list(csv.DictReader(handle))
    missing = [c for c in PROVINCIAL_COLUMNS if raw and c not in raw[0]]
    if not raw or missing:
        raise ReferenceDataError(f"{path.name}: empty or missing columns {missing}")
    rows = [{k.strip(): (v or "").strip() for k, v in r.items()} for r in raw]
    fields = load_fields()
    level_rows = tuple(
        _level_row(r, NDRC_LEVELS, _where(path.name, i), fields) for i, r in enumerate(rows, 1)
    )
    years = {int(parse_float(r["edition_year"], path.name)) for r in rows}
    if len(years) != 1:
        raise ReferenceDataError(f"{path.name}: all rows must share one edition_year")
    title = rows[0].get("title", "") or path.stem
    return LevelTable(PROVINCIAL_PREFIX + path.stem, "province", years.pop(), title, level_rows)


def read_provincial_tables(directory: Path) -> tuple[LevelTable, ...]:
    """Every ``*.csv`` in ``directory`` as a provincial table, sorted by file name."""
    if not directory.is_dir():
        raise ReferenceDataError(f"{directory}: not a directory of provincial level tables")
    return tuple(read_provincial_table(p) for p in sorted(directory.glob("*.csv")))


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


@cache
def load_targets() -> Mapping[str, Target]:
    """Policy targets keyed by target id."""
    name = "levels/targets.csv"
    targets: dict[str, Target] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        if row["comparison"] not in ("gt", "ge", "lt", "le"):
            raise ReferenceDataError(f"{where}: bad comparison {row['comparison']!r}")
        targets[row["target"]] = Target(
            target=row["target"],
            field=row["field"],
            value=parse_float(row["value"], where),
            unit=row["unit"],
            comparison=row["comparison"],
            year=_optional_int(row["year"]),
            base_year=_optional_int(row["base_year"]),
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(targets)
