"""A deployment's own limits table is read like the packaged one, errors located."""

from __future__ import annotations

from pathlib import Path

import pytest

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference.ingest_limits import ANY, load_ingest_limits, read_ingest_limits

HEADER = "carrier,measurement,unit,min_value,max_value,max_rate_per_h,source\n"


def test_a_deployment_table_picks_the_most_specific_row(tmp_path: Path) -> None:
    path = tmp_path / "limits.csv"
    path.write_text(HEADER + ",counter,,0,,,physics\nso2,instant,mg/m3,0,2000,,permit\n")
    limits = read_ingest_limits(path)
    assert limits.rows[0].carrier == ANY and limits.rows[0].max_value is None
    row = limits.for_meter("so2", "instant", "mg/m3")
    assert row is not None and (row.min_value, row.max_value, row.source) == (0, 2000, "permit")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("so2,instant,mg/m3,zero,,,permit", "row 1, field 'min_value': not a number: 'zero'"),
        ("so2,instant,mg/m3,0,,,", "row 1, field 'source': value is required"),
    ],
)
def test_a_bad_row_names_file_row_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "limits.csv"
    path.write_text(HEADER + line + "\n")
    with pytest.raises(ReferenceDataError) as caught:
        read_ingest_limits(path)
    assert str(caught.value) == f"{path}, {message}"


def test_the_packaged_table_has_no_rate_limit() -> None:
    assert all(row.max_rate_per_h is None for row in load_ingest_limits().rows)
