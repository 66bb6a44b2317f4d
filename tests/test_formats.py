"""The file formats in code (``kilnwatch/formats.py``) are the ones docs/formats.md documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kilnwatch.formats import EXTERNAL_SOURCE_FORMATS, READINGS_FORMAT, REGISTRY_FORMATS, FileFormat

DOC = Path(__file__).parents[1] / "docs" / "formats.md"
FORMATS = {**REGISTRY_FORMATS, **EXTERNAL_SOURCE_FORMATS, "readings": READINGS_FORMAT}


def documented_columns() -> dict[str, list[str]]:
    """The first-column names of the first table under each ``#… `<kind>.csv``` heading."""
    found: dict[str, list[str]] = {}
    kind = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = re.search(r"`(\w+)\.csv`", line)
            kind = heading.group(1) if heading else None
        elif kind is not None and (cell := re.match(r"^\| `(\w+)` \|", line)):
            found.setdefault(kind, []).append(cell.group(1))
        elif kind in found and not line.startswith("|"):
            kind = None  # the first table under the heading has ended
    return found


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_format_is_documented_in_its_order(kind: str) -> None:
    assert documented_columns()[kind] == list(FORMATS[kind].written)


def test_required_and_optional_columns() -> None:
    gateways = REGISTRY_FORMATS["gateways"]
    assert gateways.required == {"gateway_code", "enterprise_uscc", "protocol"}
    assert "secret" in gateways.accepted and "secret" not in gateways.columns
    assert READINGS_FORMAT.required == {"meter_code", "ts", "value"}
    assert FileFormat("x", ("a", "b"), optional=("b",)).required == {"a"}
