"""Physics parameters of each process, as a table.

Each :class:`ProcessSpec` row says what a production unit of a process consumes and emits.
Energy-efficiency *anchors* (the advanced and the limit level of the indicator) are copied from
``/work/shared/reference`` with their source; everything else is a **synthetic** simulation
parameter (typical orders of magnitude chosen for plausibility, not reference values), and the
``notes`` field says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# GB/T 2589 standard-coal coefficients [kgce per metered unit], per /work/shared/reference/
# standard_coal_coefficients.csv ("good" confidence rows): raw coal 0.7143 kgce/kg, coke
# 0.9714 kgce/kg, gas-field natural gas 1.2143 kgce/m3, electricity (当量值) 0.1229 kgce/kWh,
# low-pressure steam 0.1286 kgce/kg, heat 0.03412 kgce/MJ.
KGCE_PER_METERED_UNIT: dict[tuple[str, str], float] = {
    ("raw_coal", "t"): 714.3,
    ("coke", "t"): 971.4,
    ("natural_gas", "m3"): 1.2143,
    ("electricity", "kWh"): 0.1229,
    ("steam", "t"): 128.6,
    ("steam", "GJ"): 34.12,
}
COEFFICIENT_SOURCE = "GB/T 2589 via /work/shared/reference/standard_coal_coefficients.csv"

#: Mass of one weight box (重量箱) of flat glass [t]: 50 kg by the unit's definition
#: (10 m2 of 2 mm glass). Used only to put glass on trucks in logistics; synthetic.
T_PER_WEIGHT_BOX = 0.05


@dataclass(frozen=True)
class Anchor:
    """Advanced (benchmark / grade 1) and limit (baseline / grade 3) level of an indicator."""

    indicator: str  # "kgce/t", "kWh/t", "gce/kWh", "kgce/weight_box"
    advanced: float
    limit: float
    source: str
    variant: str = ""  # the level tables' variant (sub-type) the anchor was read from


@dataclass(frozen=True)
class StackSpec:
    """Flue gas of a unit at rated load (synthetic, ultra-low-emission-era magnitudes)."""

    flow_m3_per_product: float  # flue gas per unit of hourly product at rated load [m3/h per (t/h)]
    so2_mg_m3: float
    nox_mg_m3: float
    dust_mg_m3: float
    o2_pct: float


@dataclass(frozen=True)
class ProcessSpec:
    """One process: how a unit of it runs, consumes and emits."""

    process: str
    product: str
    product_unit: str
    capacity_unit: str
    capacity_range: tuple[float, float]  # [capacity_unit], synthetic typical sizes
    carriers: dict[str, float]  # carrier -> share of the energy indicator (sums to 1)
    anchor: Anchor | None  # None: no confirmed level; ``nominal`` is used, class not defined
    nominal: float  # synthetic centre of the indicator when anchor is None
    idle_fraction: float  # energy use at zero output as a share of rated use (synthetic)
    daily_amp: float  # relative amplitude of the daily load cycle (synthetic)
    daily_peak_h: float  # hour of the daily maximum
    weekly_amp: float  # relative dip on Sundays (synthetic)
    noise_sd: float  # relative load noise per interval (synthetic)
    outages_per_year: float  # unplanned + planned stops per year (synthetic)
    water_m3_per_product: float  # fresh water [m3 per product unit] (synthetic)
    stack: StackSpec | None
    materials_in: dict[str, float] = field(default_factory=dict)  # t per product unit, synthetic
    sold: bool = True
    notes: str = "capacities, load shapes, water, materials and stack figures are synthetic"


_GB16780 = "GB 16780-2021 grade 1 / grade 3 (gb_energy_limit_grades.csv)"
_GB21256 = "GB 21256-2025 grade 1 / grade 3 (gb_energy_limit_grades.csv)"


def _spec(**kw: object) -> ProcessSpec:
    return ProcessSpec(**kw)  # type: ignore[arg-type]


PROCESS_SPECS: dict[str, ProcessSpec] = {
    s.process: s
    for s in [
        _spec(
            process="cement_clinker_line",
            product="clinker",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(1.2e6, 1.9e6),
            carriers={"raw_coal": 0.94, "electricity": 0.06},
            anchor=Anchor(
                "kgce/t",
                100.0,
                117.0,
                _GB16780 + "; NDRC 2021 benchmark/baseline 100/117 (efficiency_levels.csv)",
            ),
            nominal=0.0,
            idle_fraction=0.08,
            daily_amp=0.02,
            daily_peak_h=3.0,
            weekly_amp=0.0,
            noise_sd=0.03,
            outages_per_year=6.0,
            water_m3_per_product=0.25,
            stack=StackSpec(2200.0, 35.0, 90.0, 8.0, 10.0),
            materials_in={"material:limestone": 1.25},
        ),
        _spec(
            process="cement_grinding",
            product="cement",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(0.6e6, 2.0e6),
            carriers={"electricity": 1.0},
            anchor=Anchor(
                "kWh/t",
                26.0,
                34.0,
                "GB 16780-2021 cement grinding section electricity, grade 1 / grade 3",
            ),
            nominal=0.0,
            idle_fraction=0.05,
            daily_amp=0.35,
            daily_peak_h=2.0,
            weekly_amp=0.05,
            noise_sd=0.06,
            outages_per_year=10.0,
            water_m3_per_product=0.05,
            stack=None,
        ),
        _spec(
            process="coke_oven_top",
            product="coke",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(0.6e6, 1.5e6),
            carriers={"raw_coal": 0.85, "electricity": 0.10, "steam": 0.05},
            anchor=Anchor("kgce/t", 110.0, 135.0, "GB 21342-2025 grade 1 / grade 3"),
            nominal=0.0,
            idle_fraction=0.6,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=1.0,
            water_m3_per_product=0.9,
            stack=StackSpec(1000.0, 25.0, 120.0, 8.0, 8.0),
            materials_in={"material:coking_coal": 1.32},
            notes="synthetic; the heating gas is metered as its coal equivalent (raw_coal)",
        ),
        _spec(
            process="coke_oven_stamp",
            product="coke",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(0.6e6, 1.5e6),
            carriers={"raw_coal": 0.85, "electricity": 0.10, "steam": 0.05},
            anchor=Anchor("kgce/t", 115.0, 140.0, "GB 21342-2025 grade 1 / grade 3"),
            nominal=0.0,
            idle_fraction=0.6,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=1.0,
            water_m3_per_product=0.9,
            stack=StackSpec(1000.0, 25.0, 120.0, 8.0, 8.0),
            materials_in={"material:coking_coal": 1.33},
            notes="synthetic; the heating gas is metered as its coal equivalent (raw_coal)",
        ),
        _spec(
            process="sinter_machine",
            product="sinter",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(2.0e6, 5.0e6),
            carriers={"coke": 0.80, "electricity": 0.17, "natural_gas": 0.03},
            anchor=Anchor("kgce/t", 43.0, 52.0, _GB21256),
            nominal=0.0,
            idle_fraction=0.1,
            daily_amp=0.02,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.03,
            outages_per_year=8.0,
            water_m3_per_product=0.1,
            stack=StackSpec(3500.0, 30.0, 45.0, 8.0, 15.0),
            materials_in={"material:iron_ore": 0.95},
            sold=False,
        ),
        _spec(
            process="blast_furnace",
            product="hot_metal",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(1.0e6, 3.0e6),
            carriers={"coke": 0.70, "raw_coal": 0.27, "electricity": 0.03},
            anchor=Anchor(
                "kgce/t", 361.0, 415.0, _GB21256 + "; NDRC 2023 361/435 (low confidence)"
            ),
            nominal=0.0,
            idle_fraction=0.15,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=4.0,
            water_m3_per_product=0.8,
            stack=StackSpec(1500.0, 40.0, 60.0, 6.0, 5.0),
            sold=False,
        ),
        _spec(
            process="converter",
            product="crude_steel",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(1.1e6, 3.2e6),
            carriers={"electricity": 0.6, "natural_gas": 0.4},
            anchor=None,
            nominal=25.0,
            idle_fraction=0.1,
            daily_amp=0.02,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.12,
            outages_per_year=8.0,
            water_m3_per_product=0.6,
            stack=None,
            notes="no confirmed positive level (GB 21256 converter levels are negative, net of "
            "gas recovery); synthetic consumption-side indicator in kgce/t",
        ),
        _spec(
            process="electric_arc_furnace",
            product="crude_steel",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(0.3e6, 1.0e6),
            carriers={"electricity": 0.85, "natural_gas": 0.15},
            anchor=Anchor(
                "kgce/t", 61.0, 72.0, "GB 21256-2025 EAF >= 70 t, grade 1 / grade 3", "ge70t"
            ),
            nominal=0.0,
            idle_fraction=0.04,
            daily_amp=0.25,
            daily_peak_h=3.0,
            weekly_amp=0.05,
            noise_sd=0.25,
            outages_per_year=12.0,
            water_m3_per_product=0.5,
            stack=StackSpec(6000.0, 15.0, 40.0, 6.0, 17.0),
            materials_in={"material:scrap": 1.1},
        ),
        _spec(
            process="coal_power_unit",
            product="electricity_supplied",
            product_unit="kWh",
            capacity_unit="MW",
            capacity_range=(300.0, 1000.0),
            carriers={"raw_coal": 1.0},
            anchor=None,
            nominal=0.0,
            idle_fraction=0.03,
            daily_amp=0.15,
            daily_peak_h=11.0,
            weekly_amp=0.06,
            noise_sd=0.03,
            outages_per_year=2.0,
            water_m3_per_product=0.0018,
            stack=StackSpec(3.3, 20.0, 35.0, 4.0, 6.0),
            notes="anchor chosen by capacity from COAL_POWER_ANCHORS; rest synthetic",
        ),
        _spec(
            process="aluminium_potline",
            product="aluminium_liquid",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(2.0e5, 6.0e5),
            carriers={"electricity": 1.0},
            anchor=Anchor(
                "kWh/t", 13250.0, 13700.0, "GB 21346-2022 铝液综合交流电耗 grade 1 / grade 3"
            ),
            nominal=0.0,
            idle_fraction=0.02,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.01,
            outages_per_year=0.0,
            water_m3_per_product=1.5,
            stack=StackSpec(9000.0, 60.0, 5.0, 5.0, 20.0),
            materials_in={"material:alumina": 1.92},
        ),
        _spec(
            process="float_glass_line",
            product="flat_glass",
            product_unit="weight_box",
            capacity_unit="t/d",
            capacity_range=(600.0, 1200.0),
            carriers={"natural_gas": 0.85, "electricity": 0.15},
            anchor=None,
            nominal=0.0,
            idle_fraction=0.7,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=0.0,
            water_m3_per_product=0.02,
            stack=StackSpec(3200.0, 80.0, 250.0, 10.0, 9.0),
            materials_in={"material:silica_sand": 0.6 * T_PER_WEIGHT_BOX},
            notes="anchor chosen by capacity from GLASS_ANCHORS; rest synthetic",
        ),
        _spec(
            process="refinery",
            product="crude_processed",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(3.0e6, 1.0e7),
            carriers={"natural_gas": 0.45, "steam": 0.2, "electricity": 0.2, "raw_coal": 0.15},
            anchor=None,
            nominal=80.0,
            idle_fraction=0.3,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=0.5,
            water_m3_per_product=0.5,
            stack=StackSpec(300.0, 20.0, 60.0, 5.0, 3.5),
            materials_in={"material:crude_oil": 1.0},
            notes="no confirmed kgce/t level (GB 30251 uses kgoe per energy factor); synthetic",
        ),
        _spec(
            process="tire_line",
            product="tire",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(3.0e4, 1.5e5),
            carriers={"electricity": 0.45, "steam": 0.55},
            anchor=None,
            nominal=350.0,
            idle_fraction=0.1,
            daily_amp=0.05,
            daily_peak_h=10.0,
            weekly_amp=0.15,
            noise_sd=0.05,
            outages_per_year=6.0,
            water_m3_per_product=3.0,
            stack=None,
            materials_in={"material:rubber": 0.55},
            notes="no confirmed radial-tire level in any stored source; synthetic",
        ),
        _spec(
            process="methanol_plant",
            product="methanol",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(2.0e5, 1.0e6),
            carriers={"raw_coal": 0.92, "electricity": 0.08},
            anchor=Anchor(
                "kgce/t",
                1380.0,
                1800.0,
                "GB 29436-2023 methanol from bituminous coal, grade 1 / grade 3",
            ),
            nominal=0.0,
            idle_fraction=0.2,
            daily_amp=0.01,
            daily_peak_h=12.0,
            weekly_amp=0.0,
            noise_sd=0.02,
            outages_per_year=1.5,
            water_m3_per_product=8.0,
            stack=StackSpec(1500.0, 25.0, 45.0, 5.0, 6.0),
        ),
        _spec(
            process="ferroalloy_furnace",
            product="ferroalloy",
            product_unit="t",
            capacity_unit="t/a",
            capacity_range=(3.0e4, 1.2e5),
            carriers={"electricity": 0.55, "coke": 0.45},
            anchor=Anchor(
                "kgce/t", 850.0, 950.0, "GB 21341-2022 silicomanganese, grade 1 / grade 3"
            ),
            nominal=0.0,
            idle_fraction=0.08,
            daily_amp=0.1,
            daily_peak_h=3.0,
            weekly_amp=0.0,
            noise_sd=0.06,
            outages_per_year=6.0,
            water_m3_per_product=2.0,
            stack=StackSpec(4000.0, 30.0, 60.0, 10.0, 17.0),
            materials_in={"material:manganese_ore": 2.0},
        ),
    ]
}

#: GB 21258-2024 Table 1 供电煤耗 (gce/kWh), grade 1 / grade 3 by rated capacity [MW]
#: (coal_power_limits.csv). Grade 2 is left out: it is non-monotonic as transcribed.
COAL_POWER_ANCHORS: dict[float, Anchor] = {
    300.0: Anchor(
        "gce/kWh",
        309.0,
        321.0,
        "GB 21258-2024 subcritical 300 MW, grade 1 / 3",
        "subcritical_300mw",
    ),
    600.0: Anchor(
        "gce/kWh",
        275.0,
        291.0,
        "GB 21258-2024 ultra-supercritical 600 MW, grade 1 / 3",
        "ultra_supercritical_600mw",
    ),
    1000.0: Anchor(
        "gce/kWh",
        268.0,
        283.0,
        "GB 21258-2024 ultra-supercritical 1000 MW, grade 1 / 3",
        "ultra_supercritical_1000mw",
    ),
}

#: GB 21340-2019 flat glass (kgce/重量箱), grade 1 / grade 3 by line capacity [t/d].
GLASS_ANCHORS: tuple[tuple[float, Anchor], ...] = (
    (
        800.0,
        Anchor(
            "kgce/weight_box",
            9.5,
            13.5,
            "GB 21340-2019 line 500-800 t/d, grade 1 / 3",
            "capacity_500_to_800_t_per_d",
        ),
    ),
    (
        1e9,
        Anchor(
            "kgce/weight_box",
            8.0,
            12.0,
            "GB 21340-2019 line > 800 t/d, grade 1 / 3",
            "capacity_gt800_t_per_d",
        ),
    ),
)

#: Aftermarket carrier prices and product prices [CNY per unit] used as the centre of the
#: synthetic monthly market: SYNTHETIC figures, not market data.
BASE_PRICES_CNY: dict[str, tuple[float, str]] = {
    "electricity": (0.62, "kWh"),
    "raw_coal": (820.0, "t"),
    "coke": (1950.0, "t"),
    "natural_gas": (3.4, "m3"),
    "steam": (190.0, "t"),
    "steam_gj": (65.0, "GJ"),
    "product:clinker": (310.0, "t"),
    "product:cement": (380.0, "t"),
    "product:coke": (1950.0, "t"),
    "product:crude_steel": (3300.0, "t"),
    "product:electricity_supplied": (0.39, "kWh"),
    "product:aluminium_liquid": (18500.0, "t"),
    "product:flat_glass": (78.0, "weight_box"),
    "product:crude_processed": (5200.0, "t"),
    "product:tire": (21000.0, "t"),
    "product:methanol": (2350.0, "t"),
    "product:ferroalloy": (6300.0, "t"),
}


def anchor_for(process: str, capacity: float) -> Anchor | None:
    """The efficiency anchor of a unit of ``process`` with ``capacity``, or None."""
    if process == "coal_power_unit":
        return COAL_POWER_ANCHORS[min(COAL_POWER_ANCHORS, key=lambda c: abs(c - capacity))]
    if process == "float_glass_line":
        return next(a for top, a in GLASS_ANCHORS if capacity <= top)
    return PROCESS_SPECS[process].anchor
