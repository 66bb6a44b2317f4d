"""Equipment attributes of the simulated units (``equipment`` column of ``units.csv``), so that
the obsolete-equipment rules (``reference/programme/obsolete_equipment.csv``) find a few units.

For every unit of a process that a rule concerns, the attributes the rule reads are drawn on
their own random stream (any other file of a run is unchanged): with probability
``obsolete_equipment_share`` (``reference/sim/constants.csv``, a modelling choice) the unit is
given values that meet every condition of the rule (and none of its exceptions), otherwise
values that fail its first condition. Where a rule applies to a unit's place and no unit was
drawn obsolete, the first such unit is made obsolete, so that a demo province shows matches.
The simulator writes what a unit *is*; whether it is obsolete is for the platform to find.
"""

from __future__ import annotations

import numpy as np

from kilnwatch.domain.obsolete import EquipmentValue, applies_here
from kilnwatch.reference.programme import (
    Condition,
    ObsoleteRule,
    load_equipment_attributes,
    load_obsolete_rules,
)
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Province, Unit
from kilnwatch.sim.processes import load_sim_constants

STREAM_EQUIPMENT = 73
PROVINCE = "shandong"


def _meeting(c: Condition, rng: np.random.Generator) -> EquipmentValue:
    if c.operator == "in" or c.value is None:
        return c.choices[0]
    high = c.value if c.operator == "<=" else c.value * 0.999
    return float(f"{rng.uniform(0.5 * c.value, high):.3g}")


def _failing(
    c: Condition, unit: Unit, choices: tuple[str, ...], rng: np.random.Generator
) -> EquipmentValue:
    if c.operator == "in" or c.value is None:
        others = [x for x in choices if x not in c.choices]
        return others[int(rng.integers(len(others)))]
    if unit.capacity > c.value and unit.capacity_unit.startswith("t/"):
        return unit.capacity  # a single plant of the unit's size, larger than the threshold
    return float(f"{c.value * rng.uniform(1.5, 3.0):.3g}")


def _values(
    rule: ObsoleteRule, unit: Unit, obsolete: bool, rng: np.random.Generator
) -> dict[str, EquipmentValue]:
    attributes = load_equipment_attributes()
    values: dict[str, EquipmentValue] = {}
    for i, c in enumerate(rule.conditions):
        fail = not obsolete and i == 0
        choices = attributes[c.attribute].choices
        values[c.attribute] = _failing(c, unit, choices, rng) if fail else _meeting(c, rng)
    for c in rule.unless:
        choices = attributes[c.attribute].choices
        values.setdefault(c.attribute, _failing(c, unit, choices, rng))
    return values


def assign_equipment(params: SimParams, province: Province) -> None:
    """Fill ``unit.equipment`` of every unit a packaged rule concerns (see the module)."""
    rng = np.random.default_rng([params.seed, STREAM_EQUIPMENT])
    share = load_sim_constants()["obsolete_equipment_share"].value
    regions = {e.idx: e.region_code for e in province.enterprises}
    for rule in load_obsolete_rules():
        units = [u for u in province.units if u.process == rule.process]
        drawn = {u.idx: bool(rng.random() < share) for u in units}
        here = [u for u in units if applies_here(rule, regions[u.ent_idx], PROVINCE)]
        if here and not any(drawn[u.idx] for u in here):
            drawn[here[0].idx] = True
        for u in units:
            u.equipment.update(_values(rule, u, drawn[u.idx], rng))


__all__ = ["STREAM_EQUIPMENT", "assign_equipment"]
