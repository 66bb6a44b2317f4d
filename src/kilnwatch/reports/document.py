"""The report document model: a report is data first, rendered afterwards.

A :class:`ReportDocument` holds a title, a scope, a period, sections of typed tables (each
column with its kind, unit, number format and bilingual header), optional charts and notes, and
the time it was generated. Writers (:mod:`kilnwatch.reports.xlsx`, :mod:`~.pdf`, :mod:`~.csv`)
turn the same document into a file in either language, and the API serves it as JSON, so the
figures in a workbook, a PDF and the JSON twin are one set of numbers.

Text is a :class:`Text` (Chinese and English) or a key of the label table
(:mod:`kilnwatch.reports.labels`); code values (efficiency classes, severities) stay codes in
the document and are translated by the writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ColumnKind = Literal["text", "code", "integer", "number", "fraction", "date", "datetime"]
"""How a column's values are typed and shown.

``text`` str or :class:`Text`; ``code`` a code translated through the label table under the
column's ``codes`` namespace (``class`` → 标杆水平 …); ``integer`` and ``number`` with
``digits`` decimals; ``fraction`` a 0–1 ratio shown as a percentage; ``date``/``datetime``
aware values shown in local time."""

NUMERIC_KINDS: frozenset[str] = frozenset({"integer", "number", "fraction"})
"""Kinds shown right-aligned and written as numbers."""

Value = str | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class Text:
    """A string in both languages of the interface."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


Label = Text | str
"""A :class:`Text`, or a key of the label table (``col.energy_tce``)."""

CellValue = Value | Text


@dataclass(frozen=True)
class Column:
    """A typed column: its key, kind, unit and header (a label key by default ``col.<key>``)."""

    key: str
    kind: ColumnKind = "number"
    unit: str | None = None
    """A key of the label table under ``unit.`` (``tce``, ``t``, ``kWh``, ``tCO2``)."""
    digits: int = 1
    header: Label | None = None
    codes: str | None = None
    """Namespace of the label table for ``code`` columns (``class``, ``severity``)."""

    @property
    def header_label(self) -> Label:
        return self.header if self.header is not None else f"col.{self.key}"


@dataclass(frozen=True)
class Chart:
    """A chart over one table: categories from one column, one series per value column.

    ``reference`` draws a horizontal line (e.g. the 30 % target) with its label.
    """

    kind: Literal["bar", "line"]
    title: Label
    category: str
    series: tuple[str, ...]
    reference: float | None = None
    reference_label: Label | None = None


@dataclass(frozen=True)
class Table:
    key: str
    title: Label
    columns: tuple[Column, ...]
    rows: tuple[tuple[CellValue, ...], ...]
    chart: Chart | None = None
    notes: tuple[Label, ...] = ()

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"table {self.key}: row {i} has {len(row)} cells, not {width}")
        keys = {c.key for c in self.columns}
        if self.chart and not {self.chart.category, *self.chart.series} <= keys:
            raise ValueError(f"table {self.key}: the chart names a column the table lacks")

    def column_index(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)

    def column_values(self, key: str) -> list[CellValue]:
        i = self.column_index(key)
        return [row[i] for row in self.rows]


@dataclass(frozen=True)
class Section:
    key: str
    title: Label
    tables: tuple[Table, ...]
    notes: tuple[Label, ...] = ()


@dataclass(frozen=True)
class Fact:
    """A key figure or attribute shown on the cover (enterprise name, USCC, scope …)."""

    label: Label
    value: CellValue
    kind: ColumnKind = "text"
    unit: str | None = None
    digits: int = 1


@dataclass(frozen=True)
class ReportDocument:
    """One generated report, independent of its file format and language."""

    name: str
    title: Label
    scope: CellValue
    period: str
    generated_at: datetime
    timezone: str
    sections: tuple[Section, ...]
    facts: tuple[Fact, ...] = ()
    notes: tuple[Label, ...] = ()
    sources: tuple[Label, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be timezone-aware")

    def tables(self) -> Sequence[Table]:
        return [t for s in self.sections for t in s.tables]

    def table(self, key: str) -> Table:
        for t in self.tables():
            if t.key == key:
                return t
        raise KeyError(key)


__all__ = [
    "CellValue",
    "Chart",
    "Column",
    "ColumnKind",
    "NUMERIC_KINDS",
    "Fact",
    "Label",
    "ReportDocument",
    "Section",
    "Table",
    "Text",
    "Value",
]
