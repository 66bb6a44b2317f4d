"""Energy-saving retrofits (节能改造): known dates, planned and true savings.

Units worse than the limit level are retrofitted first, then units in the upper part of the
band. Some plans never deliver (true saving well below plan). All fractions are synthetic.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Retrofit, Unit

PLANNED_SAVING = (0.04, 0.15)
DELIVERED_RATIO = (0.7, 1.1)  # true / planned when the retrofit delivers
UNDELIVERED_RATIO = (0.0, 0.15)
EFFECTIVE_WINDOW = (0.3, 0.6)  # effective date as a fraction of the simulated span


def plan_retrofits(
    params: SimParams, units: list[Unit], rng: np.random.Generator
) -> list[Retrofit]:
    """Choose retrofitted units, dates and savings."""
    rank = {"worse_than_limit": 0, "between": 1, "no_level": 2, "better_than_advanced": 3}
    candidates = sorted(
        (u for u in units if u.efficiency_class != "better_than_advanced"),
        key=lambda u: (rank[u.efficiency_class], float(rng.random())),
    )
    n = min(len(candidates), max(2, round(params.retrofit_unit_fraction * len(units))))
    retrofits = []
    for i, unit in enumerate(candidates[:n]):
        undelivered = (i == 1) or rng.random() < params.retrofit_undelivered_fraction
        if i == 0:
            undelivered = False
        planned = float(rng.uniform(*PLANNED_SAVING))
        ratio = UNDELIVERED_RATIO if undelivered else DELIVERED_RATIO
        offset = int(params.days * rng.uniform(*EFFECTIVE_WINDOW))
        retrofits.append(
            Retrofit(
                ent_idx=unit.ent_idx,
                unit_idx=unit.idx,
                effective_on=params.start + timedelta(days=max(1, offset)),
                planned_saving_fraction=round(planned, 4),
                true_saving_fraction=round(planned * float(rng.uniform(*ratio)), 4),
                delivered=not undelivered,
            )
        )
    return retrofits


def rate_multipliers(
    retrofits: list[Retrofit], n_units: int, day_index: int, params: SimParams
) -> np.ndarray:
    """Factor on each unit's energy rates on day ``day_index`` (1 - true saving once effective)."""
    factor = np.ones(n_units)
    day = params.start + timedelta(days=day_index)
    for r in retrofits:
        if day >= r.effective_on:
            factor[r.unit_idx] = 1.0 - r.true_saving_fraction
    return factor
