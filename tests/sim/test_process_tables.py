"""The simulator's process table comes from sourced CSV files in ``reference/sim/``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kilnwatch.domain.energy import coefficient_for
from kilnwatch.domain.units import convert
from kilnwatch.errors import NoConfirmedValueError
from kilnwatch.reference import read_package_csv
from kilnwatch.reference.registry import load_processes
from kilnwatch.sim.assumptions import (
    load_efficiency_classes,
    load_fault_durations,
    load_industry_mix,
    load_loss_ranges,
)
from kilnwatch.sim.faults import READING_KINDS
from kilnwatch.sim.processes import (
    PROCESS_SPECS,
    AnchorBand,
    anchor_for,
    kgce_per_metered_unit,
    level_anchor,
    load_anchor_bands,
    t_per_product_unit,
)

SIM_TABLES = (
    "processes.csv",
    "process_carriers.csv",
    "process_materials.csv",
    "process_stacks.csv",
    "process_anchors.csv",
    "prices.csv",
    "constants.csv",
    "industry_mix.csv",
    "efficiency_classes.csv",
    "loss_ranges.csv",
    "fault_durations.csv",
)


@pytest.mark.parametrize("name", SIM_TABLES)
def test_a_modelling_choice_says_so_and_is_graded_low(name: str) -> None:
    for row in read_package_csv("kilnwatch.reference", f"sim/{name}"):
        assert row["source"] and row["confidence"] in ("good", "medium", "low"), row
        if "modelling choice" in row["source"]:
            assert row["confidence"] == "low", row


def test_every_process_is_a_registry_process_with_its_product() -> None:
    registry = load_processes()
    for process, spec in PROCESS_SPECS.items():
        assert (spec.product, spec.product_unit, spec.capacity_unit) == (
            registry[process].product,
            registry[process].product_unit,
            registry[process].capacity_unit,
        )
        assert math.isclose(sum(spec.carriers.values()), 1.0)


def test_capacity_bands_give_each_simulated_size_exactly_one_anchor() -> None:
    for process, bands in load_anchor_bands().items():
        low, high = PROCESS_SPECS[process].capacity_range
        for capacity in np.linspace(low, high, 97):
            holding = [anchor for band, anchor in bands if band.holds(float(capacity))]
            assert len(holding) == 1, (process, capacity)
            assert anchor_for(process, float(capacity)) is holding[0]


def test_coal_power_takes_the_nearest_rated_class() -> None:
    variants = {c: anchor_for("coal_power_unit", c) for c in (300.0, 450.0, 451.0, 800.0, 1000.0)}
    assert {c: a.variant for c, a in variants.items() if a} == {
        300.0: "subcritical_300mw",
        450.0: "subcritical_300mw",
        451.0: "ultra_supercritical_600mw",
        800.0: "ultra_supercritical_600mw",
        1000.0: "ultra_supercritical_1000mw",
    }


def test_an_anchor_naming_no_level_row_is_refused() -> None:
    band = AnchorBand(
        "cement_clinker_line",
        None,
        None,
        "GB 16780-2021",
        "cement_clinker",
        "nope",
        "",
        "",
        "x",
        "low",
    )
    with pytest.raises(NoConfirmedValueError, match="nope"):
        level_anchor(band)


@pytest.mark.parametrize(
    ("carrier", "unit"),
    [("raw_coal", "t"), ("coke", "t"), ("natural_gas", "m3"), ("electricity", "kWh"),
     ("steam", "t"), ("steam", "GJ")],
)  # fmt: skip
def test_metered_coefficients_are_the_gbt2589_rows_in_the_metered_unit(
    carrier: str, unit: str
) -> None:
    row = coefficient_for(carrier, unit)
    assert row.kgce_per_unit is not None
    expected = row.kgce_per_unit * convert(1.0, unit, row.unit)
    assert math.isclose(kgce_per_metered_unit(carrier, unit), expected, rel_tol=1e-12)


def test_the_draw_tables_are_complete() -> None:
    industries = load_industry_mix()
    assert math.isclose(sum(i.enterprise_share_fraction for i in industries), 1.0)
    assert {i.industry for i in industries} <= {p.industry for p in load_processes().values()}
    classes = load_efficiency_classes()
    assert math.isclose(sum(c.probability_fraction for c in classes), 1.0)
    assert all(c.z_min < c.z_max for c in classes)
    assert set(READING_KINDS) <= set(load_fault_durations())
    assert all(0 <= lo < hi < 1 for lo, hi in load_loss_ranges().values())


def test_a_weight_box_weighs_fifty_kilograms() -> None:
    assert t_per_product_unit("weight_box") == 0.05
    assert t_per_product_unit("t") == 1.0
