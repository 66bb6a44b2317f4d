"""``energy_factors.csv``: the energy factor (能量因数) of every simulated refinery, as the
refinery would declare it, so that refineries are classified against GB 30251-2024.

The factor is drawn, from its own random stream (a run without refineries, or any other file,
is unchanged), so that the unit's true indicator ``intensity [kgce/t] / 1.4286 / factor`` falls
uniformly between ``refinery_indicator_min`` and ``refinery_indicator_max``
(``reference/sim/constants.csv``, modelling choices).
"""

from __future__ import annotations

import numpy as np

from kilnwatch.domain.energy import kgce_per_kgoe
from kilnwatch.reference.registry import load_processes
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Province
from kilnwatch.sim.processes import load_sim_constants

STREAM_ENERGY_FACTORS = 71
COLUMNS = ("enterprise_uscc", "unit_code", "energy_factor", "valid_from", "evidence")


def energy_factor_rows(params: SimParams, province: Province) -> list[dict[str, str]]:
    """One row per refinery (process judged per energy factor) with its drawn factor."""
    rng = np.random.default_rng([params.seed, STREAM_ENERGY_FACTORS])
    constants = load_sim_constants()
    low = constants["refinery_indicator_min"].value
    high = constants["refinery_indicator_max"].value
    factor, _ = kgce_per_kgoe()
    processes = load_processes()
    rows = []
    for u in province.units:
        if processes[u.process].level_field != "oil_refining" or u.indicator != "kgce/t":
            continue
        target = float(rng.uniform(low, high))
        rows.append({
            "enterprise_uscc": province.enterprises[u.ent_idx].uscc,
            "unit_code": u.unit_code,
            "energy_factor": f"{u.intensity / factor / target:.3f}",
            "valid_from": params.start.isoformat(),
            "evidence": f"simulated (kilnwatch simulate --seed {params.seed}): synthetic factor",
        })  # fmt: skip
    return rows
