"""The policy tables of project control: sourced, graded, nothing invented."""

from __future__ import annotations

from kilnwatch.reference.projects import (
    REGION_CLASSES,
    load_coal_substitution_ratios,
    load_key_region_cities,
    load_replacement_ratios,
    region_class_of,
    replacement_kinds,
)


def test_every_kind_has_both_region_classes_and_every_row_a_source() -> None:
    table = load_replacement_ratios()
    for kind in replacement_kinds():
        for rc in REGION_CLASSES:
            row = table[(kind, rc)]
            assert row.source and row.confidence in ("good", "medium", "low")
            if row.ratio is None and not row.prohibited:
                assert row.confidence == "low" and "NOT FOUND" in row.notes


def test_published_ratios_as_transcribed() -> None:
    table = load_replacement_ratios()
    assert table[("steel_ironmaking", "key")].ratio == 1.5
    assert table[("steel_ironmaking", "other")].ratio == 1.25
    assert table[("cement_clinker", "key")].ratio == 2.0
    assert table[("cement_clinker", "other")].ratio == 1.5
    assert table[("electrolytic_aluminium", "key")].prohibited
    assert set(load_coal_substitution_ratios()) == set(REGION_CLASSES)


def test_key_region_cities_are_shandongs_seven_channel_cities() -> None:
    assert sorted(load_key_region_cities()) == [
        "3701", "3703", "3708", "3714", "3715", "3716", "3717"
    ]  # fmt: skip
    assert region_class_of("370302") == "key"
    assert region_class_of("370202") == "other"


def test_the_four_departments_are_codes_of_the_supervision_catalogue() -> None:
    from kilnwatch.domain.projects import DEPARTMENTS
    from kilnwatch.supervise.catalogue import load_departments

    assert set(DEPARTMENTS) <= set(load_departments())
