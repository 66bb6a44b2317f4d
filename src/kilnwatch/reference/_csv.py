"""Reading packaged reference tables (``load_*`` verb); shared by every table loader.

A table is a frozen dataclass whose field names are the file's columns: :func:`read_table`
parses every cell by the field's annotation (``str``, ``float``, ``int``, ``bool``, a
``Literal`` such as :data:`Confidence`, each optionally ``| None`` for an empty cell), so a
loader is a dataclass and one call. Tables whose rows need more than one cell per field use
:func:`package_rows` and the typed accessors of :class:`Row`. Every error names the file, the
row (data rows count from 1 after the header) and the column.
"""

from __future__ import annotations

import csv
import dataclasses
import types
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from kilnwatch.errors import ReferenceDataError

Confidence = Literal["good", "medium", "low"]
CONFIDENCES: tuple[Confidence, ...] = get_args(Confidence)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def read_package_csv(package: str, name: str) -> list[dict[str, str]]:
    """Rows of a CSV file shipped inside ``package``, as dicts of stripped strings."""
    try:
        text = (resources.files(package) / name).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"reference table {package}/{name} is missing") from exc
    return strip_cells(csv.DictReader(text.splitlines()))


def strip_cells(rows: Iterable[Mapping[str | None, str | None]]) -> list[dict[str, str]]:
    """CSV rows with names and values stripped and empty cells as ``""``."""
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]


def table_label(package: str, name: str) -> str:
    """How errors name a packaged file: ``reference/levels/fields.csv``."""
    return f"{package.removeprefix('kilnwatch.').replace('.', '/')}/{name}"


@dataclass(frozen=True)
class Row:
    """The cells of one CSV row and where it stands, with typed accessors."""

    cells: Mapping[str, str]
    where: str
    """``<file>, row <n>``, the prefix of every error about the row."""

    def fail(self, column: str, reason: str) -> ReferenceDataError:
        """The error for a bad cell: file, row, column and reason."""
        return ReferenceDataError(f"{self.where}, field {column!r}: {reason}")

    def has(self, column: str) -> bool:
        """True when the file has ``column``."""
        return column in self.cells

    def text(self, column: str) -> str:
        """The cell as text (``""`` when empty); the column must exist."""
        try:
            return self.cells[column]
        except KeyError:
            raise self.fail(column, "column is missing") from None

    def filled(self, column: str) -> str:
        """The cell as text, which must not be empty."""
        text = self.text(column)
        if not text:
            raise self.fail(column, "value is required")
        return text

    def optional_text(self, column: str) -> str | None:
        """The cell as text, or None when empty."""
        return self.text(column) or None

    def optional_number(self, column: str) -> float | None:
        """The cell as a number, or None for an empty (unconfirmed) cell."""
        text = self.text(column)
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            raise self.fail(column, f"not a number: {text!r}") from None

    def number(self, column: str) -> float:
        """The cell as a number; it must be present."""
        value = self.optional_number(column)
        if value is None:
            raise self.fail(column, "value is required")
        return value

    def optional_integer(self, column: str) -> int | None:
        """The cell as a whole number (a year, a count), or None when empty."""
        value = self.optional_number(column)
        if value is not None and not value.is_integer():
            raise self.fail(column, f"not a whole number: {value!r}")
        return None if value is None else int(value)

    def integer(self, column: str) -> int:
        """The cell as a whole number; it must be present."""
        value = self.optional_integer(column)
        if value is None:
            raise self.fail(column, "value is required")
        return value

    def flag(self, column: str) -> bool:
        """The cell as ``true``/``false``."""
        text = self.text(column)
        if text not in ("true", "false"):
            raise self.fail(column, f"expected true/false, got {text!r}")
        return text == "true"

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        """The cell, which must be one of ``allowed``."""
        text = self.text(column)
        if text not in allowed:
            raise self.fail(column, f"must be one of {'/'.join(allowed)}, got {text!r}")
        return text

    def confidence(self) -> Confidence:
        """The ``confidence`` grade every reference row carries: good, medium or low."""
        return cast(Confidence, self.choice("confidence", CONFIDENCES))

    def source(self) -> str:
        """The ``source`` cell, which every reference row must fill."""
        return self.filled("source")


def package_rows(package: str, name: str) -> list[Row]:
    """The rows of a packaged CSV file, each with its place for error messages."""
    label = table_label(package, name)
    return [
        Row(cells, f"{label}, row {i}")
        for i, cells in enumerate(read_package_csv(package, name), start=1)
    ]


def _parse_cell(row: Row, column: str, annotation: Any) -> object:
    """Parse one cell by a dataclass field's annotation."""
    args = get_args(annotation)
    optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in args
    kind = next(a for a in args if a is not type(None)) if optional else annotation
    if column == "source" and kind is str:
        return row.source()
    if get_origin(kind) is Literal:
        if optional and row.text(column) == "":
            return None
        return row.choice(column, get_args(kind))
    parsers: dict[object, tuple[Callable[[str], object], Callable[[str], object]]] = {
        str: (row.text, row.optional_text),
        float: (row.number, row.optional_number),
        int: (row.integer, row.optional_integer),
        bool: (row.flag, row.flag),
    }
    required, maybe = parsers[kind]
    return maybe(column) if optional else required(column)


def build_row(row: Row, row_type: type[T]) -> T:
    """A ``row_type`` dataclass from the cells named like its fields.

    A field with a default may be missing from the file; any other missing column is an error.
    """
    hints = get_type_hints(row_type)
    values: dict[str, object] = {}
    for f in dataclasses.fields(cast(Any, row_type)):
        if not f.init:
            continue
        has_default = f.default is not dataclasses.MISSING
        if has_default and not row.has(f.name):
            continue
        values[f.name] = _parse_cell(row, f.name, hints[f.name])
    return cast(Callable[..., T], row_type)(**values)


def read_table(package: str, name: str, row_type: type[T]) -> tuple[T, ...]:
    """Every row of a packaged CSV file as a ``row_type`` dataclass, in file order."""
    return tuple(build_row(row, row_type) for row in package_rows(package, name))


def keyed(rows: Iterable[T], key: Callable[[T], K]) -> Mapping[K, T]:
    """A read-only mapping of ``rows`` by ``key`` (a later row with the same key wins)."""
    return MappingProxyType({key(row): row for row in rows})


@dataclass(frozen=True)
class Parameter:
    """A row of a parameters table: a named number with its unit, source and rationale."""

    parameter: str
    value: float
    unit: str
    source: str
    confidence: Confidence
    rationale: str


def read_parameters(package: str, name: str) -> Mapping[str, float]:
    """The values of a packaged parameters table (:class:`Parameter` rows) by name."""
    return MappingProxyType({p.parameter: p.value for p in read_table(package, name, Parameter)})
