"""Vectorised meter series, one day at a time.

For day ``d`` the engine builds (meters x intervals) matrices: the true quantity of every
meter, what the meter measures (gain bias and noise), the reported value (cumulative register
for counters) and HJ 212 flags. Reading-level faults are applied by :mod:`.faultapply`.

Physics (all coefficients synthetic except the GB/T 2589 conversions in :mod:`.processes`):

* output of a unit = rated output x load;
* carrier use = rate x ((1 - idle) x output + idle x usual output), where ``rate`` yields the
  unit's energy indicator at its usual load (``idle`` use continues while a hot process
  stands, and always for electricity);
* an entry meter = sum of its sub-meters / (1 - loss fraction of the enterprise and carrier);
  equipment meters take fixed shares of their sub-unit meter;
* stack: flue-gas flow follows load, O2 rises at low load, SO2 with fuel sulphur and load;
  each pollutant scaled by the plant's emission control (:mod:`.emissions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.emissions import control_factor, o2_rise, shape
from kilnwatch.sim.model import Province
from kilnwatch.sim.processes import PROCESS_SPECS
from kilnwatch.sim.retrofits import rate_multipliers
from kilnwatch.sim.timeline import LoadModel

FLAG_CODES = ("", "N", "F", "C", "M", "D")
FLAG = {name: i for i, name in enumerate(FLAG_CODES)}
RUNNING_LOAD = 0.02
HOT_STANDBY_IDLE = 0.5  # processes with idle use at least this high never go cold
WATER_IDLE = 0.1
CALIBRATION_PER_DAY = 1.0 / 7.0  # daily chance of a 1-hour zero/span check (flag C)
MAINTENANCE_PER_DAY = 1.0 / 30.0  # daily chance of a 2-6 h analyser maintenance (flag M)
ANALYSER_FAULT_PER_DAY = 1.0 / 45.0  # daily chance of a 1-4 h analyser fault (flag D)
STANDBY_FLOW = 0.03  # stack draft while the unit is down, share of rated flow
O2_AMBIENT = 20.6


@dataclass
class DayData:
    d: int
    kcols: np.ndarray  # (T,) interval index of each column (reading ts = t0 + k * step)
    load: np.ndarray  # (U, T)
    true: np.ndarray  # (M, T)
    measured: np.ndarray  # (M, T) after tampering
    values: np.ndarray  # (M, T) reported values (registers for counters)
    flags: np.ndarray  # (M, T) int8 index into FLAG_CODES
    present: np.ndarray  # (M, T) bool
    extra: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )  # (meter, k, value, flag, delivery k) rows delivered in addition


class ReadingEngine:
    """Generates :class:`DayData` for consecutive days of one run."""

    def __init__(self, params: SimParams, province: Province) -> None:
        self.params = params
        self.p = province
        meters, units = province.meters, province.units
        self.T = params.intervals_per_day
        self.loads = LoadModel(params, units)
        hours_per_interval = params.interval_min / 60.0
        self.rated = np.array([u.rated_per_h for u in units]) * hours_per_interval
        self.usual = self.rated * np.array([u.base_util for u in units])
        self.m_unit = np.array([m.unit_idx for m in meters])
        self.m_parent = np.array([m.parent_idx for m in meters])
        self.bias = np.array([m.bias for m in meters])
        self.noise = np.array([m.noise_sd for m in meters])
        self.scale = 10.0 ** np.array([m.decimals for m in meters])
        self.counter = np.array([m.measurement == "counter" for m in meters])
        self.register = np.array([m.initial_register for m in meters])
        self.stack_rows = np.array([m.role == "stack" for m in meters])
        self._index_roles()

    def _index_roles(self) -> None:
        meters, units = self.p.meters, self.p.units
        ents = self.p.enterprises
        self.cons = np.array([m.idx for m in meters if m.role == "consumption"], dtype=np.int64)
        self.cons_rate = np.array(
            [units[meters[i].unit_idx].carrier_rates[meters[i].carrier] for i in self.cons]
        )
        idle = [PROCESS_SPECS[units[meters[i].unit_idx].process].idle_fraction for i in self.cons]
        self.cons_idle = np.array(idle)
        self.cons_hot = np.array(
            [
                meters[i].carrier == "electricity" or f >= HOT_STANDBY_IDLE
                for i, f in zip(self.cons, idle, strict=True)
            ]
        )
        self.water = np.array([m.idx for m in meters if m.role == "water"], dtype=np.int64)
        self.water_rate = np.array(
            [
                PROCESS_SPECS[units[meters[i].unit_idx].process].water_m3_per_product
                for i in self.water
            ]
        )
        self.product = np.array([m.idx for m in meters if m.role == "product"], dtype=np.int64)
        self.equip = np.array([m.idx for m in meters if m.role == "equipment"], dtype=np.int64)
        self.equip_share = np.array([meters[i].share for i in self.equip])
        self.entry = np.array([m.idx for m in meters if m.role == "entry"], dtype=np.int64)
        self.entry_loss = np.array(
            [ents[meters[i].ent_idx].loss_fraction[meters[i].carrier] for i in self.entry]
        )
        subs = np.array(
            [m.idx for m in meters if m.level == "sub_unit" and m.parent_idx >= 0], dtype=np.int64
        )
        self.subs_sorted = subs[np.argsort(self.m_parent[subs], kind="stable")]
        parents = self.m_parent[self.subs_sorted]
        self.sub_parents, self.sub_starts = np.unique(parents, return_index=True)
        self._index_stacks()

    def _index_stacks(self) -> None:
        meters, units = self.p.meters, self.p.units
        first = [m.idx for m in meters if m.role == "stack" and m.carrier == "so2"]
        self.stack_first = np.array(first, dtype=np.int64)  # so2, nox, dust, flow, o2 follow
        self.stack_unit = np.array([meters[i].unit_idx for i in first], dtype=np.int64)
        specs = [PROCESS_SPECS[units[u].process].stack for u in self.stack_unit]
        self.st = {
            name: np.array([getattr(s, name) for s in specs if s is not None])
            for name in ("flow_m3_per_product", "so2_mg_m3", "nox_mg_m3", "dust_mg_m3", "o2_pct")
        }
        self.sulfur = np.array(
            [self.p.enterprises[units[u].ent_idx].sulfur_factor for u in self.stack_unit]
        )
        self.stack_rated_h = np.array([units[u].rated_per_h for u in self.stack_unit])
        self.control = {
            p: np.array(
                [
                    control_factor(
                        units[u].process, p, self.p.enterprises[units[u].ent_idx].sulfur_factor
                    )
                    for u in self.stack_unit
                ]
            )
            for p in ("so2", "nox", "dust")
        }
        self.stack_base = np.array([units[u].base_util for u in self.stack_unit])

    def generate_true(self, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Loads (U, T) and true quantities (M, T) of day ``d``; entry rows not yet summed."""
        load = self.loads.day(d, rng)
        out = self.rated[:, None] * load
        true = np.zeros((len(self.p.meters), self.T))
        factor = rate_multipliers(self.p.retrofits, len(self.p.units), d, self.params)
        u = self.m_unit[self.cons]
        running = (load[u] > RUNNING_LOAD) | self.cons_hot[:, None]
        idle = self.cons_idle[:, None]
        rate = (self.cons_rate * factor[u])[:, None]
        true[self.cons] = rate * ((1 - idle) * out[u] + idle * self.usual[u][:, None] * running)
        uw = self.m_unit[self.water]
        true[self.water] = self.water_rate[:, None] * (
            (1 - WATER_IDLE) * out[uw] + WATER_IDLE * self.usual[uw][:, None]
        )
        true[self.product] = out[self.m_unit[self.product]]
        true[self.equip] = true[self.m_parent[self.equip]] * self.equip_share[:, None]
        self._stacks(true, load, rng)
        return load, true

    def sum_entries(self, true: np.ndarray) -> None:
        """Entry rows = sum of their sub-meters / (1 - loss)."""
        sums = np.add.reduceat(true[self.subs_sorted], self.sub_starts, axis=0)
        true[self.sub_parents] = sums
        true[self.entry] /= (1.0 - self.entry_loss)[:, None]

    def _stacks(self, true: np.ndarray, load: np.ndarray, rng: np.random.Generator) -> None:
        if len(self.stack_first) == 0:
            return
        n = len(self.stack_first)
        lu = load[self.stack_unit]
        rel = lu / self.stack_base[:, None]
        down = lu <= RUNNING_LOAD
        ln = rng.normal(0.0, 1.0, (5, n, self.T))
        rated_flow = (self.st["flow_m3_per_product"] * self.stack_rated_h)[:, None]
        flow = rated_flow * (0.3 + 0.7 * lu) * (1 + 0.02 * ln[3])
        flow = np.where(down, rated_flow * STANDBY_FLOW * (1 + 0.1 * np.abs(ln[3])), flow)
        c = self.control
        so2 = (self.st["so2_mg_m3"] * self.sulfur * c["so2"])[:, None] * shape("so2", rel)
        nox = (self.st["nox_mg_m3"] * c["nox"])[:, None] * shape("nox", rel)
        dust = (self.st["dust_mg_m3"] * c["dust"])[:, None] * shape("dust", rel)
        o2 = o2_rise(self.st["o2_pct"][:, None], rel) + 0.15 * ln[4]
        f = self.stack_first
        true[f] = np.where(down, 1.0 + np.abs(ln[0]), so2 * np.exp(0.10 * ln[0]))
        true[f + 1] = np.where(down, 4.0 + np.abs(ln[1]), nox * np.exp(0.08 * ln[1]))
        true[f + 2] = np.where(down, 0.3 + 0.1 * np.abs(ln[2]), dust * np.exp(0.15 * ln[2]))
        true[f + 3] = flow
        true[f + 4] = np.clip(np.where(down, O2_AMBIENT + 0.1 * ln[4], o2), 0.5, 20.9)

    def measure(self, true: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """What the meters see: gain bias and random error (stack noise is already in ``true``)."""
        err = rng.normal(0.0, 1.0, true.shape) * self.noise[:, None]
        result: np.ndarray = np.maximum(true * self.bias[:, None] * (1.0 + err), 0.0)
        return result

    def stack_flags(self, load: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(stacks, T) flags: N normal, F stopped, C calibration, M maintenance, D fault."""
        n = len(self.stack_first)
        flags = np.full((n, self.T), FLAG["N"], dtype=np.int8)
        flags[load[self.stack_unit] <= RUNNING_LOAD] = FLAG["F"]
        per_hour = max(1, 60 // self.params.interval_min)
        for i in range(n):
            if rng.random() < CALIBRATION_PER_DAY:
                t0 = int(rng.integers(0, self.T - per_hour + 1))
                flags[i, t0 : t0 + per_hour] = FLAG["C"]
            for chance, hours, flag in (
                (MAINTENANCE_PER_DAY, (2, 7), FLAG["M"]),
                (ANALYSER_FAULT_PER_DAY, (1, 5), FLAG["D"]),
            ):
                if rng.random() < chance:
                    length = per_hour * int(rng.integers(*hours))
                    t0 = int(rng.integers(0, max(1, self.T - length + 1)))
                    flags[i, t0 : t0 + length] = flag
        return flags

    def report(self, measured: np.ndarray) -> np.ndarray:
        """Reported values: registers for counters, the quantity otherwise; rounded per meter."""
        values = measured.copy()
        c = self.counter
        values[c] = self.register[c][:, None] + np.cumsum(measured[c], axis=1)
        self.register[c] = values[c][:, -1]
        return np.round(values * self.scale[:, None]) / self.scale[:, None]
