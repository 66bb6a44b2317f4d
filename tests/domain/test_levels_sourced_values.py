"""The NDRC 标杆 / 基准 values filled from secondary sources (issue 17), one case per row.

Each row: the value read in the source (reference/levels/ndrc_20xx.csv), its grade, and a
classification that lands on each side of the levels: at 标杆 -> benchmark, between the two ->
between, above 基准 -> below_baseline (lower is better for every field here).
"""

from __future__ import annotations

import pytest

from kilnwatch.domain import classify
from kilnwatch.reference.levels import load_level_tables

# (table, field, variant): (标杆, 基准, confidence); None = not stated in the source.
CERAMICS = "architectural_ceramics"
SOURCED = {
    ("ndrc_2021", "ferroalloy", "silicomanganese"): (860.0, 950.0, "medium"),
    ("ndrc_2021", "ferroalloy", "ferrosilicon"): (None, 1900.0, "medium"),
    ("ndrc_2023", "ferroalloy", "silicomanganese"): (860.0, 950.0, "medium"),
    ("ndrc_2023", "ferroalloy", "ferrosilicon"): (1770.0, 1850.0, "medium"),
    ("ndrc_2021", CERAMICS, "dry_pressed_absorption_le0.2pct"): (4.0, 7.0, "medium"),
    ("ndrc_2021", CERAMICS, "dry_pressed_absorption_0.2_to_0.5pct"): (4.0, 7.0, "medium"),
    ("ndrc_2021", CERAMICS, "dry_pressed_absorption_0.5_to_10pct"): (3.7, 4.6, "medium"),
    ("ndrc_2021", CERAMICS, "dry_pressed_absorption_gt10pct"): (3.5, 4.5, "medium"),
    ("ndrc_2021", "sanitary_ceramics", ""): (300.0, 630.0, "medium"),
}


def _row(table_id: str, field: str, variant: str):
    table = next(t for t in load_level_tables() if t.table_id == table_id)
    return next(r for r in table.rows if (r.field, r.variant) == (field, variant))


@pytest.mark.parametrize("key", sorted(SOURCED), ids=lambda k: "/".join(k))
def test_row_holds_the_sourced_value(key: tuple[str, str, str]) -> None:
    benchmark, baseline, confidence = SOURCED[key]
    row = _row(*key)
    assert dict(row.levels) == {"benchmark": benchmark, "baseline": baseline}
    assert row.confidence == confidence and row.source


@pytest.mark.parametrize(
    "key", sorted(k for k, v in SOURCED.items() if v[0] is not None), ids=lambda k: "/".join(k)
)
def test_classes_either_side_of_the_levels(key: tuple[str, str, str]) -> None:
    table_id, field, variant = key
    benchmark, baseline, _ = SOURCED[key]
    assert benchmark is not None and baseline is not None
    ndrc_only = [t for t in load_level_tables() if t.table_id == table_id]

    def cls(value: float) -> str | None:
        return classify(field, value, variant=variant or None, tables=ndrc_only).class_

    assert cls(benchmark) == "benchmark"
    assert cls((benchmark + baseline) / 2) == "between"
    assert cls(baseline) == "between"
    assert cls(baseline * 1.01) == "below_baseline"


def test_baseline_only_row_still_flags_units_below_it() -> None:
    """2021 ferrosilicon: 基准 1900 stated (by difference), 标杆 not: above 1900 is below the
    baseline; at or under it nothing more can be said."""
    ndrc_2021 = [t for t in load_level_tables() if t.table_id == "ndrc_2021"]
    worse = classify("ferroalloy", 1950.0, variant="ferrosilicon", tables=ndrc_2021)
    assert worse.class_ == "below_baseline"
    better = classify("ferroalloy", 1800.0, variant="ferrosilicon", tables=ndrc_2021)
    assert better.class_ is None


def test_other_ferroalloys_have_no_confirmed_level() -> None:
    c = classify("ferroalloy", 700.0, variant="high_carbon_ferrochrome")
    ndrc = {v.table_id: v.status for v in c.verdicts if v.kind == "ndrc"}
    assert ndrc == {"ndrc_2021": "no_confirmed_level", "ndrc_2023": "no_confirmed_level"}
