"""GB 17167 compliance against the standard's figures: one case per requirement.

Figures read in a scan of the published GB 17167-2006 text (docs/metering.md). Configuration
rates, Table 3 (clause 4.3.5): for each carrier row and level, a census at exactly the minimum
meets it and one instrument fewer does not; a cell the standard leaves empty ('—', or a
carrier outside its rows) sets no minimum. Accuracy, Table 4 (clause 4.3.8): for each
requirement row, the required class meets it and the next coarser class does not.
"""

from __future__ import annotations

import math

import pytest

from kilnwatch.errors import ReferenceDataError, UnitError
from kilnwatch.metering.compliance import (
    AccuracyClass,
    configuration_rate_pct,
    meets_accuracy,
    parse_accuracy_class,
    rate_meets,
)
from kilnwatch.reference.metering import (
    accuracy_requirement,
    auxiliary_requirement,
    carrier_group,
    is_main,
    load_accuracy_requirements,
    load_configuration_rates,
    load_main_thresholds,
    milestone_for,
)

# GB 17167-2006 Table 3: entry / main sub-unit / main equipment [%]; None = no requirement.
TABLE_3: dict[str, tuple[int | None, int | None, int | None]] = {
    "electricity": (100, 100, 95),
    "coal": (100, 100, 90),
    "coke": (100, 100, 90),
    "crude_oil": (100, 100, 90),
    "refined_oil": (100, 100, 95),
    "heavy_oil": (100, 100, 90),
    "residual_oil": (100, 100, 90),
    "natural_gas": (100, 100, 90),
    "lpg": (100, 100, 90),
    "coal_gas": (100, 90, 80),
    "steam": (100, 80, 70),
    "water": (100, 95, 80),
    "waste_energy": (90, 80, None),
    "other": (None, None, None),
}
LEVELS = ("entry", "sub_unit", "equipment")
CASES = [
    (grp, lvl, pct[i])
    for grp, pct in TABLE_3.items()
    for i, lvl in enumerate(LEVELS)
    if pct[i] is not None
]
NO_MINIMUM = [
    (grp, lvl) for grp, pct in TABLE_3.items() for i, lvl in enumerate(LEVELS) if pct[i] is None
]


def test_the_table_is_the_standards() -> None:
    rates = load_configuration_rates()
    assert set(rates) == set(TABLE_3)
    for group, row in rates.items():
        assert tuple(row.min_pct(lvl) for lvl in LEVELS) == TABLE_3[group]
        assert row.clause == "GB 17167-2006 4.3.5, Table 3" and row.source
        assert row.confidence == "good"


@pytest.mark.parametrize(("group", "level", "min_pct"), CASES)
def test_configuration_rate_at_and_below_the_minimum(group: str, level: str, min_pct: int) -> None:
    required = 20
    at_minimum = math.ceil(required * min_pct / 100)
    rate = configuration_rate_pct(at_minimum, required)
    table_min = load_configuration_rates()[group].min_pct(level)
    assert table_min == min_pct
    assert rate_meets(rate, table_min)
    assert not rate_meets(configuration_rate_pct(at_minimum - 1, required), table_min)


@pytest.mark.parametrize(("group", "level"), NO_MINIMUM)
def test_no_minimum_where_the_table_sets_none(group: str, level: str) -> None:
    table_min = load_configuration_rates()[group].min_pct(level)
    assert table_min is None
    assert rate_meets(configuration_rate_pct(0, 20), table_min)


# GB 17167-2006 Tables 1 and 2: (a carrier of the column, main sub-unit threshold and unit,
# main equipment threshold and unit).
TABLES_1_2 = {
    "electricity": ("electricity", 10, "kW", 100, "kW"),
    "coal_coke": ("raw_coal", 100, "t/a", 1, "t/h"),
    "oil_lpg": ("lpg", 40, "t/a", 0.5, "t/h"),
    "heavy_residual_oil": ("residual_oil", 80, "t/a", 1, "t/h"),
    "gas": ("natural_gas", 10_000, "m3/a", 100, "m3/h"),
    "steam_hot_water": ("steam", 5_000, "GJ/a", 7, "MW"),
    "water": ("water", 5_000, "t/a", 1, "t/h"),
    "other": ("waste_heat", 2_926, "GJ/a", 29.26, "GJ/h"),
}
MAIN_CASES = [
    (col, level, carrier, minimum, unit)
    for col, (carrier, sub, sub_unit, eq, eq_unit) in TABLES_1_2.items()
    for level, minimum, unit in (("sub_unit", sub, sub_unit), ("equipment", eq, eq_unit))
]


def test_tables_1_and_2_are_the_standards() -> None:
    columns = load_main_thresholds()
    assert set(columns) == set(TABLES_1_2)
    covered = [g for c in columns.values() for g in c.groups]
    assert sorted(covered) == sorted(TABLE_3)  # every Table 3 row in exactly one column
    for key, (_, sub, sub_unit, eq, eq_unit) in TABLES_1_2.items():
        row = columns[key]
        assert (row.minimum("sub_unit"), row.minimum("equipment")) == (
            (sub, sub_unit),
            (eq, eq_unit),
        )
        assert row.confidence == "good" and "Table 1" in row.clause and "Table 2" in row.clause


@pytest.mark.parametrize(("column", "level", "carrier", "minimum", "unit"), MAIN_CASES)
def test_main_at_and_below_the_threshold(
    column: str, level: str, carrier: str, minimum: float, unit: str
) -> None:
    assert is_main(carrier, level, minimum, unit)
    assert not is_main(carrier, level, minimum * 0.999, unit)


def test_main_threshold_units_and_levels() -> None:
    with pytest.raises(UnitError, match="kW"):
        is_main("electricity", "sub_unit", 12, "kWh/a")
    with pytest.raises(ReferenceDataError, match="level 'entry'"):
        is_main("electricity", "entry", 12, "kW")
    assert is_main("unheard_of", "equipment", 30, "GJ/h")  # outside the columns: 其他


def test_configuration_rate_is_installed_over_required() -> None:
    assert configuration_rate_pct(19, 20) == pytest.approx(95.0)
    assert configuration_rate_pct(0, 0) is None
    assert rate_meets(None, 100)


# GB 17167-2006 Table 4: (required class, the next coarser class).
ACCURACY = {
    ("electricity", "user_class_i"): ("0.5S", "0.5"),
    ("electricity", "user_class_ii"): ("0.5", "1.0"),
    ("electricity", "user_class_iii"): ("1.0", "2.0"),
    ("electricity", "user_class_iv"): ("2.0", "2.5"),
    ("electricity", "user_class_v"): ("2.0", "2.5"),
    ("electricity", "direct_current"): ("2.0", "2.5"),
    ("coal", "dynamic"): ("0.5", "1.0"),
    ("coal", "static"): ("0.1", "0.2"),
    ("coke", "dynamic"): ("0.5", "1.0"),
    ("coke", "static"): ("0.1", "0.2"),
    ("refined_oil", "default"): ("0.5", "1.0"),
    ("heavy_oil", "default"): ("1.0", "1.5"),
    ("residual_oil", "default"): ("1.0", "1.5"),
    ("coal_gas", "default"): ("2.0", "2.5"),
    ("natural_gas", "default"): ("2.0", "2.5"),
    ("steam", "default"): ("2.5", "4.0"),
    ("water", "pipe_le_250mm"): ("2.5", "4.0"),
    ("water", "pipe_gt_250mm"): ("1.5", "2.5"),
}
# Table 4's temperature and pressure instruments (any liquid or gaseous energy, steam).
AUXILIARY = {
    ("temperature_instrument", "liquid_gaseous_energy"): ("2.0", "2.5"),
    ("temperature_instrument", "gas_steam_mass"): ("1.0", "1.5"),
    ("pressure_instrument", "liquid_gaseous_energy"): ("2.0", "2.5"),
    ("pressure_instrument", "gas_steam_mass"): ("1.0", "1.5"),
}


def test_every_accuracy_row_has_a_case() -> None:
    rows = load_accuracy_requirements()
    assert {(r.carrier_group, r.variant) for r in rows if r.carrier_group != "*"} == set(ACCURACY)
    assert {(r.instrument, r.variant) for r in rows if r.carrier_group == "*"} == set(AUXILIARY)
    assert all(r.clause.startswith("GB 17167-2006 4.3.8, Table 4") for r in rows)
    assert all(r.confidence == "good" and r.level == "entry" for r in rows)


@pytest.mark.parametrize(("group", "variant"), sorted(ACCURACY))
def test_accuracy_requirement(group: str, variant: str) -> None:
    required, coarser = ACCURACY[(group, variant)]
    carrier = next(c for c in ("electricity", "raw_coal", "coke", "diesel", "fuel_oil",
                               "residual_oil", "coke_oven_gas", "natural_gas", "steam", "water")
                   if carrier_group(c) == group)  # fmt: skip
    row = accuracy_requirement(carrier, "entry", variant)
    assert row is not None and (row.carrier_group, row.variant) == (group, variant)
    assert row.required_class == required
    assert meets_accuracy(required, row.required_class)
    assert not meets_accuracy(coarser, row.required_class)


@pytest.mark.parametrize(("instrument", "variant"), sorted(AUXILIARY))
def test_temperature_and_pressure_instruments(instrument: str, variant: str) -> None:
    required, coarser = AUXILIARY[(instrument, variant)]
    row = auxiliary_requirement(instrument, variant)
    assert row.required_class == required
    assert meets_accuracy(required, row.required_class)
    assert not meets_accuracy(coarser, row.required_class)


def test_auxiliary_defaults_and_unknowns() -> None:
    assert auxiliary_requirement("pressure_instrument").variant == "liquid_gaseous_energy"
    with pytest.raises(ReferenceDataError, match="no accuracy requirement"):
        auxiliary_requirement("pressure_instrument", "user_class_i")
    with pytest.raises(ReferenceDataError, match="unknown accuracy variant"):
        accuracy_requirement("steam", "entry", "liquid_gaseous_energy")


def test_accuracy_classes() -> None:
    assert parse_accuracy_class("0.5S") == AccuracyClass(0.5, True)
    assert parse_accuracy_class("±2.5%") == AccuracyClass(2.5)
    assert parse_accuracy_class("1.0级") == AccuracyClass(1.0)
    assert parse_accuracy_class("class A") is None and parse_accuracy_class(None) is None
    assert meets_accuracy("0.2S", "0.5S") and meets_accuracy("0.5S", "0.5")
    assert not meets_accuracy("0.5", "0.5S") and not meets_accuracy(None, "2.0")


def test_carriers_and_defaults() -> None:
    assert carrier_group("raw_coal") == "coal" and carrier_group("blast_furnace_gas") == "coal_gas"
    assert carrier_group("unheard_of") == "other" and carrier_group("crude_oil") == "crude_oil"
    assert accuracy_requirement("crude_oil", "entry") is None  # Table 4 sets no class
    default = accuracy_requirement("electricity", "entry")
    assert default is not None and default.variant == "user_class_i"
    assert accuracy_requirement("electricity", "sub_unit") is None
    assert accuracy_requirement("raw_coal", "entry", "static").required_class == "0.1"  # type: ignore[union-attr]


def test_milestones() -> None:
    assert milestone_for("cement").deadline.isoformat() == "2022-12-31"
    assert milestone_for("chemicals").deadline.isoformat() == "2023-12-31"


def test_rollout_by_city_and_industry() -> None:
    from kilnwatch.metering.census import CensusRow, EnterpriseCensus
    from kilnwatch.metering.rollout import rollout

    row = CensusRow("electricity", "electricity", "entry", 1, 1, 100.0, 100.0, (), 0, True)
    done = EnterpriseCensus(1, "A", "a", "370102", "cement", rows=[row])
    todo = EnterpriseCensus(2, "B", "b", "370103", "cement")
    other = EnterpriseCensus(3, "C", "c", "370202", "chemicals", rows=[row])
    rows = rollout([done, todo, other])
    assert [(r.city_code, r.industry, r.enterprises, r.configured) for r in rows] == [
        ("370100", "cement", 2, 1), ("370200", "chemicals", 1, 1)]  # fmt: skip
    jinan, qingdao = rows
    assert jinan.progress_fraction == 0.5 and jinan.behind(jinan.deadline.replace(year=2023))
    assert not qingdao.behind(qingdao.deadline.replace(year=2024))
