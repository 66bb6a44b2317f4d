"""The in-memory registry of a synthetic province: plain dataclasses shared by all modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kilnwatch.sim.census import MeterEvent


@dataclass
class Enterprise:
    idx: int
    code: str  # short simulator code, used to build meter codes
    uscc: str
    name: str
    region_code: str
    industry: str
    status: str
    rail_siding: bool
    sulfur_factor: float  # fuel sulphur relative to the process default (synthetic)
    loss_fraction: dict[str, float]  # carrier -> entry-to-sub-meter loss [fraction of entry]
    steam_unit: str  # "t" or "GJ"
    unit_idx: list[int] = field(default_factory=list)


@dataclass
class Unit:
    idx: int
    ent_idx: int
    unit_code: str
    name: str
    process: str
    capacity: float
    capacity_unit: str
    commissioned_on: date
    status: str
    rated_per_h: float  # rated output [product unit / h]
    base_util: float  # usual load as a fraction of rated output
    indicator: str  # unit of ``intensity``
    intensity: float  # true energy indicator before any retrofit
    efficiency_class: str  # better_than_advanced | between | worse_than_limit | no_level
    carrier_rates: dict[str, float]  # carrier -> metered quantity per product unit
    outages: list[tuple[int, int]] = field(default_factory=list)  # [k0, k1) interval indices
    equipment: dict[str, float | str] = field(default_factory=dict)  # sim/equipment.py


@dataclass
class Meter:
    idx: int
    code: str
    ent_idx: int
    unit_idx: int  # -1 for entry meters
    carrier: str
    level: str  # entry | sub_unit | equipment
    parent_idx: int  # -1 when none
    measurement: str  # counter | interval | instant
    uom: str
    role: str  # consumption | equipment | entry | product | water | stack
    accuracy_class: str
    calibrated_on: date
    calibration_due_on: date
    gateway_code: str
    hj212_code: str = ""
    water_source: str = ""  # water meters: reference/emissions/water_sources.csv ("" unknown)
    share: float = 1.0  # equipment meters: share of the parent's quantity
    bias: float = 1.0  # systematic gain error of the meter
    noise_sd: float = 0.0  # relative random error per reading
    decimals: int = 3
    initial_register: float = 0.0


@dataclass
class Gateway:
    gateway_code: str
    ent_idx: int
    protocol: str
    mn: str
    secret: str


@dataclass
class Project:
    ent_idx: int
    project_code: str
    name: str
    stage: str
    approval_state: str
    unit_codes: list[str]


@dataclass
class Retrofit:
    ent_idx: int
    unit_idx: int
    effective_on: date
    planned_saving_fraction: float
    true_saving_fraction: float
    delivered: bool


@dataclass
class ProjectControl:
    """Project control files of a run (docs/formats.md, "Project control"): rows by file kind,
    the truth files, and the new projects that join the registry's ``projects``."""

    files: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    truth: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)

    def add(self, kind: str, row: dict[str, str]) -> None:
        self.files.setdefault(kind, []).append(row)


@dataclass
class Province:
    enterprises: list[Enterprise]
    units: list[Unit]
    meters: list[Meter]
    gateways: list[Gateway]
    projects: list[Project]
    retrofits: list[Retrofit] = field(default_factory=list)
    meter_events: list[MeterEvent] = field(default_factory=list)
    """Planted silent and replaced meters (:mod:`.census`)."""
    control: ProjectControl = field(default_factory=ProjectControl)
