"""Stacks that keep their limits, their discharge permits, and planted exceedance episodes.

* **Limits and permits.** Each stack pollutant is held to the industry standard of its
  process (``reference/emissions/process_limits.csv``) or, for processes without a sourced
  standard, to a synthetic permitted concentration. Every stack gets a permit row per
  pollutant (``permits.csv``): that concentration and a synthetic annual quantity.
* **Emission control.** A plant operates its controls (desulphurisation, denitrification,
  filters) to stay below its limit: each pollutant's modelled concentration is scaled down so
  that its worst hourly value over the load range, at the limit's reference O2, is at most
  ``stack_control_margin_fraction`` of the limit. Clean stacks therefore never exceed, start-ups
  and low loads (high O2) included.
* **Exceedance episodes** (label ``emission_exceedance``): on some running hours of a stack
  the controls fail and one pollutant rises to ``(1 + magnitude) x limit`` at the reference O2,
  flagged ``N`` (the analyser works: the exceedance is real and visible).

All figures are modelling choices (``reference/sim/constants.csv``), not published ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kilnwatch.domain.emissions import AIR_O2_PCT, o2_corrected_mg_m3
from kilnwatch.reference.emissions import POLLUTANTS, load_process_limits
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.faults import Fault
from kilnwatch.sim.model import Province
from kilnwatch.sim.processes import PROCESS_SPECS, StackSpec, load_sim_constants

EXCEEDANCE = "emission_exceedance"
STREAM_EXCEEDANCES = 11  # rng stream of the planted episodes (independent of other faults)
#: Relative load range of a running unit over which the worst hourly value is taken.
REL_GRID = np.linspace(0.02, 1.5, 60)
#: Hourly-mean spread of the 15-minute log-normal noise of the simulator (sd 0.08-0.15 over
#: 4 readings), taken at 3 standard deviations.
NOISE_ALLOWANCE = 1.25
PERMIT_ROUND_MG_M3 = 5.0
O2_RISE_PCT = 3.0  # O2 rise from rated to no load [%] (synthetic)
O2_REL_CAP = 1.2
HOURS_PER_YEAR = 8760.0
MG_PER_T = 1e9


def _c(name: str) -> float:
    return load_sim_constants()[name].value


@dataclass(frozen=True)
class StackTerms:
    """The limit of one stack pollutant: [mg/m3] at ``o2_ref_pct`` (None: as measured)."""

    limit_mg_m3: float
    o2_ref_pct: float | None
    from_standard: bool


def shape(pollutant: str, rel: np.ndarray) -> np.ndarray:
    """Concentration relative to its rated-load value at relative load ``rel`` (the shapes
    of :meth:`kilnwatch.sim.readings.ReadingEngine._stacks`)."""
    low = {"so2": 0.6, "nox": 0.7, "dust": 0.5}[pollutant]
    return np.asarray(low + (1 - low) * rel)


def o2_rise(o2_pct: np.ndarray | float, rel: np.ndarray) -> np.ndarray:
    """Flue-gas O2 [%] at relative load ``rel`` from its rated-load value (rises at low load)."""
    return np.asarray(o2_pct + O2_RISE_PCT * (1 - np.minimum(rel, O2_REL_CAP)))


def worst_corrected(
    spec: StackSpec, pollutant: str, base_mg_m3: float, o2_ref: float | None
) -> float:
    """The largest value over the load range at the reference O2 [mg/m3], noise included."""
    conc = base_mg_m3 * shape(pollutant, REL_GRID) * NOISE_ALLOWANCE
    if o2_ref is None:
        return float(conc.max())
    return float(np.nanmax(o2_corrected_mg_m3(conc, o2_rise(spec.o2_pct, REL_GRID), o2_ref)))


def base_concentration(spec: StackSpec, pollutant: str, sulfur: float) -> float:
    base = {"so2": spec.so2_mg_m3 * sulfur, "nox": spec.nox_mg_m3, "dust": spec.dust_mg_m3}
    return float(base[pollutant])


def stack_terms(process: str, pollutant: str) -> StackTerms | None:
    """The standard's limit, else a synthetic permitted concentration (None: no stack)."""
    spec = PROCESS_SPECS[process].stack
    if spec is None:
        return None
    std = load_process_limits().get((process, pollutant))
    if std is not None:
        return StackTerms(std.limit_mg_m3, std.o2_ref_pct, True)
    typical = worst_corrected(spec, pollutant, base_concentration(spec, pollutant, 1.0), None)
    permitted = typical * _c("permit_concentration_factor")
    return StackTerms(math.ceil(permitted / PERMIT_ROUND_MG_M3) * PERMIT_ROUND_MG_M3, None, False)


def control_factor(process: str, pollutant: str, sulfur: float) -> float:
    """Scale of the modelled concentration that keeps the stack below its limit."""
    spec, terms = PROCESS_SPECS[process].stack, stack_terms(process, pollutant)
    if spec is None or terms is None:
        return 1.0
    worst = worst_corrected(
        spec, pollutant, base_concentration(spec, pollutant, sulfur), terms.o2_ref_pct
    )
    return min(1.0, _c("stack_control_margin_fraction") * terms.limit_mg_m3 / worst)


def permit_rows(province: Province, params: SimParams) -> list[dict[str, str]]:
    """``permits.csv``: one row per stack and pollutant (formats.PERMITS_FORMAT)."""
    rows = []
    for u in province.units:
        spec = PROCESS_SPECS[u.process].stack
        if spec is None:
            continue
        ent = province.enterprises[u.ent_idx]
        rated_flow = spec.flow_m3_per_product * u.rated_per_h
        for pollutant in POLLUTANTS:
            terms = stack_terms(u.process, pollutant)
            assert terms is not None
            conc = base_concentration(spec, pollutant, ent.sulfur_factor)
            conc *= control_factor(u.process, pollutant, ent.sulfur_factor)
            annual_t = conc * rated_flow * HOURS_PER_YEAR / MG_PER_T
            annual_t *= _c("permit_annual_quantity_factor")
            rows.append(
                {
                    "enterprise_uscc": ent.uscc,
                    "unit_code": u.unit_code,
                    "permit_no": f"{ent.uscc}{u.idx % 1000:03d}P",
                    "pollutant": pollutant,
                    "concentration_mg_m3": f"{terms.limit_mg_m3:g}",
                    "o2_ref_pct": "",
                    "annual_t": f"{annual_t:.3f}",
                    "valid_from": f"{params.start.year - 2}-01-01",
                    "valid_to": f"{params.start.year + 3}-12-31",
                }
            )
    return rows


def plan_exceedances(params: SimParams, province: Province) -> list[Fault]:
    """Exceedance episodes on a share of the stacks, in running hours (own random stream)."""
    if params.faulty_enterprise_fraction == 0:
        return []
    rng = np.random.default_rng([params.seed, STREAM_EXCEEDANCES])
    per_hour = max(1, 60 // params.interval_min)
    total = params.days * params.intervals_per_day
    lo_h, hi_h = _c("exceedance_min_h"), _c("exceedance_max_h")
    stacks = [m for m in province.meters if m.role == "stack" and m.carrier == "so2"]
    out: list[Fault] = []
    for first in stacks:
        if rng.random() >= _c("exceedance_stack_fraction"):
            continue
        unit = province.units[first.unit_idx]
        offset = int(rng.integers(len(POLLUTANTS)))
        hours = int(rng.integers(int(lo_h), int(hi_h) + 1))
        length = min(total, hours * per_hour)
        for _ in range(30):
            k0 = int(rng.integers(0, max(1, total - length + 1)))
            k0 -= k0 % per_hour
            k1 = k0 + length
            if all(k1 <= a or k0 >= b for a, b in unit.outages):
                break
        else:
            continue
        magnitude = float(rng.uniform(_c("exceedance_excess_min"), _c("exceedance_excess_max")))
        pollutant = POLLUTANTS[offset]
        out.append(
            Fault(
                f"E{len(out) + 1:04d}",
                EXCEEDANCE,
                first.ent_idx,
                first.idx + offset,
                first.unit_idx,
                k0,
                k1,
                magnitude,
                f"{pollutant} of {unit.unit_code} at (1 + magnitude) x its limit at the reference "
                "O2 in running hours (emission control failure)",
            )
        )
    return out


def apply_exceedance(f: Fault, province: Province, true: np.ndarray, mask: np.ndarray) -> None:
    """Raise the pollutant of fault ``f`` in the columns ``mask`` (true values, in place).
    Stack meters are consecutive: so2, nox, dust, flow, o2 (``sim/metering.py``)."""
    unit = province.units[f.unit_idx]
    offset = f.meter_idx - next(
        m.idx for m in province.meters if m.unit_idx == f.unit_idx and m.carrier == "so2"
    )
    terms = stack_terms(unit.process, POLLUTANTS[offset])
    if terms is None:
        return
    o2_row = f.meter_idx - offset + 4
    target = terms.limit_mg_m3 * (1 + f.magnitude)
    if terms.o2_ref_pct is not None:  # measured value whose reference-O2 value is the target
        target = target * (AIR_O2_PCT - true[o2_row, mask]) / (AIR_O2_PCT - terms.o2_ref_pct)
    true[f.meter_idx, mask] = np.maximum(true[f.meter_idx, mask], target)
