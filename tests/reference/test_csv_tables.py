"""The typed table loader every reference table goes through: cells parsed by annotation,
every error naming file, row and column."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import Confidence, Row, build_row, keyed, package_rows, read_table
from kilnwatch.reference.energy import UnitDef


@dataclass(frozen=True)
class _Sample:
    name: str
    value: float
    low: float | None
    year: int | None
    better_lower: bool
    source: str
    confidence: Confidence
    notes: str = "none"


GOOD = {
    "name": "x",
    "value": "1.5",
    "low": "",
    "year": "2023",
    "better_lower": "true",
    "source": "a document",
    "confidence": "medium",
}


def _row(**change: str) -> Row:
    return Row({**GOOD, **change}, "sample.csv, row 4")


def test_cells_are_parsed_by_the_field_annotations() -> None:
    sample = build_row(_row(), _Sample)
    assert sample == _Sample("x", 1.5, None, 2023, True, "a document", "medium", "none")
    assert build_row(_row(low="0.25", year="", notes="n"), _Sample).low == 0.25
    assert build_row(_row(low="0.25", year="", notes="n"), _Sample).year is None
    assert build_row(_row(notes="n"), _Sample).notes == "n"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "abc"}, "field 'value': not a number: 'abc'"),
        ({"value": ""}, "field 'value': value is required"),
        ({"year": "2023.5"}, "field 'year': not a whole number"),
        ({"better_lower": "yes"}, "field 'better_lower': expected true/false, got 'yes'"),
        ({"source": ""}, "field 'source': value is required"),
        ({"confidence": "high"}, "field 'confidence': must be one of good/medium/low"),
    ],
)
def test_a_bad_cell_names_file_row_and_column(change: dict[str, str], message: str) -> None:
    with pytest.raises(ReferenceDataError) as caught:
        build_row(_row(**change), _Sample)
    assert str(caught.value).startswith("sample.csv, row 4, " + message)


def test_a_missing_column_is_an_error_unless_the_field_has_a_default() -> None:
    cells = {k: v for k, v in GOOD.items() if k != "low"}
    with pytest.raises(ReferenceDataError, match="row 4, field 'low': column is missing"):
        build_row(Row(cells, "sample.csv, row 4"), _Sample)


def test_packaged_rows_are_located_by_package_path_and_row_number() -> None:
    rows = package_rows("kilnwatch.reference", "levels/fields.csv")
    assert rows[0].where == "reference/levels/fields.csv, row 1"
    units = read_table("kilnwatch.reference", "units.csv", UnitDef)
    assert keyed(units, lambda u: u.unit)["kWh"].factor_to_base == 3.6


def test_a_missing_packaged_table_is_a_reference_error() -> None:
    with pytest.raises(ReferenceDataError, match="missing"):
        package_rows("kilnwatch.reference", "no_such_table.csv")
