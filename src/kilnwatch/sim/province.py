"""Build the synthetic province's enterprises, production units and projects.

Industry proportions, unit compositions and name words are synthetic; capacities come from the
ranges in :mod:`.processes`, and efficiency positions are spread around the anchored levels so
that every class (better than the advanced level, between, worse than the limit) occurs.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from kilnwatch.reference.registry import load_processes, load_regions
from kilnwatch.sim.assumptions import (
    load_efficiency_classes,
    load_industry_mix,
    load_loss_ranges,
)
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Enterprise, Project, Unit
from kilnwatch.sim.processes import PROCESS_SPECS, anchor_for, kgce_per_metered_unit
from kilnwatch.sim.uscc import make_uscc

_INDUSTRIES = load_industry_mix()
INDUSTRY_WEIGHTS: dict[str, float] = {i.industry: i.enterprise_share_fraction for i in _INDUSTRIES}
INDUSTRY_SUFFIX: dict[str, str] = {i.industry: i.name_suffix_zh for i in _INDUSTRIES}
NAME_WORDS = (
    "鲁",
    "华",
    "泰",
    "丰",
    "鑫",
    "源",
    "信",
    "恒",
    "通",
    "金",
    "岭",
    "宏",
    "达",
    "瑞",
    "永",
    "兴",
    "齐",
    "海",
    "天",
    "东",
    "岳",
    "新",
    "昌",
    "盛",
    "利",
    "民",
    "汇",
    "山",
    "河",
    "润",
)
_CLASSES = load_efficiency_classes()
CLASS_PROBS = {c.efficiency_class: c.probability_fraction for c in _CLASSES}
#: Position of the intensity between the advanced (0) and the limit (1) level, per class.
CLASS_Z_RANGE = {c.efficiency_class: (c.z_min, c.z_max) for c in _CLASSES}
NO_LEVEL_SPREAD = 0.15  # relative spread of the synthetic indicator where no level is confirmed
LOSS_RANGES = load_loss_ranges()
UTIL_RANGE = (0.78, 0.95)
CONTROLLED_UTIL_FACTOR = (0.55, 0.75)
HOURS_PER_YEAR = 8760.0
COMMISSIONED_YEARS = (2004, 2022)


def load_counties() -> list[tuple[str, str]]:
    """(code, city name) of every county-level division shipped with the package."""
    rows = load_regions()
    cities = {r.code: r.name_zh for r in rows if r.level == "city"}
    return [(r.code, cities[r.parent_code or ""]) for r in rows if r.level == "county"]


def _unit_processes(industry: str, rng: np.random.Generator) -> list[str]:
    """The processes of one enterprise's units (synthetic compositions)."""
    r = rng.random()
    n2 = 1 + int(rng.random() < 0.4)
    if industry == "cement":
        return (
            ["cement_clinker_line"] * n2 + ["cement_grinding"] if r < 0.7 else ["cement_grinding"]
        )
    if industry == "steel":
        if r < 0.7:
            return ["sinter_machine"] + ["blast_furnace"] * n2 + ["converter"]
        return ["electric_arc_furnace"]
    single = {
        "coking": "coke_oven_top" if r < 0.5 else "coke_oven_stamp",
        "coal_power": "coal_power_unit",
        "aluminium": "aluminium_potline",
        "flat_glass": "float_glass_line",
        "refining": "refinery",
        "tires": "tire_line",
        "chemicals": "methanol_plant",
        "ferroalloy": "ferroalloy_furnace",
    }[industry]
    if industry in ("refining", "chemicals"):
        return [single]
    return [single] * (n2 + int(industry == "ferroalloy" and rng.random() < 0.3))


def _capacity(process: str, rng: np.random.Generator, previous: float | None) -> float:
    if process == "coal_power_unit":
        return previous if previous is not None else float(rng.choice([300.0, 600.0, 1000.0]))
    lo, hi = PROCESS_SPECS[process].capacity_range
    step = 10.0 if process == "float_glass_line" else 1e4 if hi > 1e5 else 1e3
    return float(np.round(rng.uniform(lo, hi) / step) * step)


def _rated_per_h(process: str, capacity: float) -> float:
    """Rated output [product unit/h] from the nameplate capacity."""
    if process == "coal_power_unit":
        return capacity * 1000.0 * 0.95  # MW -> kWh/h, net of ~5 % auxiliary use (synthetic)
    if process == "float_glass_line":
        return capacity / 24.0 / 0.05  # t/d -> weight boxes/h (50 kg per weight box)
    return capacity / HOURS_PER_YEAR


def carrier_rates(process: str, indicator: str, value: float, steam_unit: str) -> dict[str, float]:
    """Metered quantity of each carrier per product unit that yields ``value`` of the indicator.

    ``kgce/...`` indicators are split by the process's carrier shares and divided by the
    GB/T 2589 coefficient of each carrier's metered unit; ``kWh/t`` is electricity alone and
    ``gce/kWh`` raw coal alone.
    """
    spec = PROCESS_SPECS[process]
    if indicator == "kWh/t":
        return {"electricity": value}
    kgce = value / 1000.0 if indicator == "gce/kWh" else value
    rates = {}
    for carrier, share in spec.carriers.items():
        uom = steam_unit if carrier == "steam" else metered_unit(carrier)
        rates[carrier] = kgce * share / kgce_per_metered_unit(carrier, uom)
    return rates


def metered_unit(carrier: str) -> str:
    """Unit of measure of a carrier's meters (steam: see Enterprise.steam_unit)."""
    return {"electricity": "kWh", "natural_gas": "m3", "water": "m3"}.get(carrier, "t")


def _draw_class(rng: np.random.Generator) -> str:
    names = list(CLASS_PROBS)
    return names[int(rng.choice(len(names), p=list(CLASS_PROBS.values())))]


def _intensity(
    process: str, capacity: float, cls: str, rng: np.random.Generator
) -> tuple[str, float, str]:
    anchor = anchor_for(process, capacity)
    if anchor is None:
        spec = PROCESS_SPECS[process]
        return (
            "kgce/t",
            spec.nominal * (1 + rng.uniform(-NO_LEVEL_SPREAD, NO_LEVEL_SPREAD)),
            "no_level",
        )
    z = rng.uniform(*CLASS_Z_RANGE[cls])
    return anchor.indicator, anchor.advanced + z * (anchor.limit - anchor.advanced), cls


def ensure_every_class(units: list[Unit], rng: np.random.Generator) -> None:
    """Re-draw classes so that each anchored process with >= 3 units shows all three."""
    by_process: dict[str, list[Unit]] = {}
    for u in units:
        if u.efficiency_class != "no_level":
            by_process.setdefault(u.process, []).append(u)
    for group in by_process.values():
        if len(group) < len(CLASS_PROBS):
            continue
        for cls in CLASS_PROBS:
            counts = Counter(u.efficiency_class for u in group)
            if counts[cls]:
                continue
            spare = [u for u in group if counts[u.efficiency_class] > 1]
            _set_class(spare[int(rng.integers(len(spare)))], cls, rng)


def _set_class(unit: Unit, cls: str, rng: np.random.Generator) -> None:
    anchor = anchor_for(unit.process, unit.capacity)
    assert anchor is not None
    z = rng.uniform(*CLASS_Z_RANGE[cls])
    unit.efficiency_class = cls
    unit.intensity = anchor.advanced + z * (anchor.limit - anchor.advanced)


def _enterprise(
    idx: int,
    params: SimParams,
    rng: np.random.Generator,
    counties: list[tuple[str, str]],
    industry: str,
) -> Enterprise:
    drawn = int(rng.integers(len(counties)))
    if params.every_city:
        cities = sorted({code[:4] for code, _ in counties})
        if idx < len(cities):
            # the city's own counties only; the draw above keeps the stream of numbers unchanged
            own = [c for c in counties if c[0].startswith(cities[idx])]
            drawn = drawn % len(own)
            counties = own
    region, city = counties[drawn]
    words = rng.choice(len(NAME_WORDS), size=2, replace=False)
    brand = NAME_WORDS[words[0]] + NAME_WORDS[words[1]]
    name = f"{city[:-1]}{brand}{INDUSTRY_SUFFIX[industry]}有限公司"
    controlled = rng.random() < params.production_controlled_fraction
    return Enterprise(
        idx=idx,
        code=f"E{idx + 1:04d}",
        uscc=make_uscc(rng, region),
        name=name,
        region_code=region,
        industry=industry,
        status="production_controlled" if controlled else "operating",
        rail_siding=bool(rng.random() < 0.6),
        sulfur_factor=float(rng.lognormal(0.0, 0.25)),
        loss_fraction={c: float(rng.uniform(*r)) for c, r in LOSS_RANGES.items()},
        steam_unit="t" if rng.random() < 0.5 else "GJ",
    )


def _units_of(ent: Enterprise, start_idx: int, rng: np.random.Generator) -> list[Unit]:
    units: list[Unit] = []
    util_factor = rng.uniform(*CONTROLLED_UTIL_FACTOR) if ent.status != "operating" else 1.0
    previous: float | None = None
    for n, process in enumerate(_unit_processes(ent.industry, rng), start=1):
        capacity = _capacity(process, rng, previous)
        previous = capacity if process == "coal_power_unit" else None
        indicator, value, cls = _intensity(process, capacity, _draw_class(rng), rng)
        year = int(rng.integers(COMMISSIONED_YEARS[0], COMMISSIONED_YEARS[1] + 1))
        units.append(
            Unit(
                idx=start_idx + len(units),
                ent_idx=ent.idx,
                unit_code=f"U{n:02d}",
                name=f"{n}#{PROCESS_NAMES_ZH.get(process, process)}",
                process=process,
                capacity=capacity,
                capacity_unit=PROCESS_SPECS[process].capacity_unit,
                commissioned_on=date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365))),
                status=ent.status,
                rated_per_h=_rated_per_h(process, capacity),
                base_util=float(rng.uniform(*UTIL_RANGE) * util_factor),
                indicator=indicator,
                intensity=float(value),
                efficiency_class=cls,
                carrier_rates={},
            )
        )
    return units


PROCESS_NAMES_ZH = {process: row.name_zh for process, row in load_processes().items()}


def build_enterprises(
    params: SimParams, rng: np.random.Generator
) -> tuple[list[Enterprise], list[Unit]]:
    """Enterprises and units of the province, with intensities and carrier rates set."""
    counties = load_counties()
    industries = list(INDUSTRY_WEIGHTS)
    weights = np.array(list(INDUSTRY_WEIGHTS.values()))
    picks = rng.choice(len(industries), size=params.enterprises, p=weights / weights.sum())
    # the first enterprises cycle through the industries so small provinces still show them all
    picks[: min(len(industries), params.enterprises)] = rng.permutation(len(industries))[
        : min(len(industries), params.enterprises)
    ]
    enterprises: list[Enterprise] = []
    units: list[Unit] = []
    for i, pick in enumerate(picks):
        ent = _enterprise(i, params, rng, counties, industries[int(pick)])
        new_units = _units_of(ent, len(units), rng)
        ent.unit_idx = [u.idx for u in new_units]
        enterprises.append(ent)
        units.extend(new_units)
    ensure_every_class(units, rng)
    for u in units:
        steam = enterprises[u.ent_idx].steam_unit
        u.carrier_rates = carrier_rates(u.process, u.indicator, u.intensity, steam)
    return enterprises, units


def build_projects(
    enterprises: list[Enterprise], units: list[Unit], rng: np.random.Generator
) -> list[Project]:
    """One project of existing capacity per enterprise, and a few new ones (synthetic)."""
    projects = []
    for ent in enterprises:
        codes = [units[i].unit_code for i in ent.unit_idx]
        projects.append(
            Project(
                ent.idx,
                "P01",
                f"{ent.name[:-4]}现有生产线",
                "operating",
                "approved" if rng.random() < 0.8 else "not_required",
                codes,
            )
        )
        if rng.random() < 0.15:
            stage = "planned" if rng.random() < 0.5 else "under_construction"
            state = "pending" if stage == "planned" else "approved"
            if stage == "planned" and rng.random() < 0.3:
                state = "rejected"
            projects.append(
                Project(ent.idx, "P02", f"{ent.name[:-4]}产能置换项目", stage, state, [])
            )
    return projects
