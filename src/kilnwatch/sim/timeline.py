"""Load of every production unit over time: daily and weekly cycles, drift, outages, campaigns.

Outages are planned once for the whole run; loads are generated day by day from a generator
seeded with (seed, day), so a day's values do not depend on how the run is chunked.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Unit
from kilnwatch.sim.processes import PROCESS_SPECS

OUTAGE_HOURS = (6.0, 96.0)  # duration range of an ordinary stop (synthetic)
#: Winter staggered production (错峰生产) of clinker kilns: probability per winter and length
#: range in days (synthetic).
WINTER_CAMPAIGN = (0.7, 15, 35)
DRIFT_KEEP = 0.85
DRIFT_SD = 0.012
MAX_LOAD = 1.05
SUNDAY, SATURDAY = 6, 5


def plan_outages(params: SimParams, units: list[Unit], rng: np.random.Generator) -> None:
    """Fill ``unit.outages`` with [start, end) interval indices."""
    per_day = params.intervals_per_day
    total = params.days * per_day
    for u in units:
        spec = PROCESS_SPECS[u.process]
        n = rng.poisson(spec.outages_per_year * params.days / 365.0)
        for _ in range(n):
            k0 = int(rng.integers(0, total))
            hours = float(np.exp(rng.uniform(np.log(OUTAGE_HOURS[0]), np.log(OUTAGE_HOURS[1]))))
            u.outages.append((k0, min(total, k0 + int(hours * 60 / params.interval_min))))
        if u.process == "cement_clinker_line":
            _winter_campaign(params, u, rng, per_day, total)
        u.outages.sort()


def _winter_campaign(
    params: SimParams, u: Unit, rng: np.random.Generator, per_day: int, total: int
) -> None:
    prob, lo, hi = WINTER_CAMPAIGN
    for year in range(params.start.year, (params.start + timedelta(days=params.days)).year + 1):
        if rng.random() >= prob:
            continue
        first = date(year, 1, 5) + timedelta(days=int(rng.integers(0, 40)))
        k0 = (first - params.start).days * per_day
        k1 = k0 + int(rng.integers(lo, hi + 1)) * per_day
        if k1 > 0 and k0 < total:
            u.outages.append((max(0, k0), min(total, k1)))


class LoadModel:
    """Vectorised unit loads; call :meth:`day` for consecutive days."""

    def __init__(self, params: SimParams, units: list[Unit]) -> None:
        self.params = params
        self.units = units
        specs = [PROCESS_SPECS[u.process] for u in units]
        self.base = np.array([u.base_util for u in units])
        self.daily_amp = np.array([s.daily_amp for s in specs])
        self.peak_h = np.array([s.daily_peak_h for s in specs])
        self.weekly_amp = np.array([s.weekly_amp for s in specs])
        self.noise_sd = np.array([s.noise_sd for s in specs])
        self.drift = np.zeros(len(units))
        per_day = params.intervals_per_day
        self.hours = (np.arange(per_day) + 0.5) * params.interval_min / 60.0

    def day(self, d: int, rng: np.random.Generator) -> np.ndarray:
        """Load [fraction of rated output], shape (units, intervals) for day ``d``."""
        n, per_day = len(self.units), self.params.intervals_per_day
        self.drift = DRIFT_KEEP * self.drift + rng.normal(0.0, DRIFT_SD, n)
        phase = 2 * np.pi * (self.hours[None, :] - self.peak_h[:, None]) / 24.0
        shape = 1.0 + self.daily_amp[:, None] * np.cos(phase)
        weekday = (self.params.start + timedelta(days=d)).weekday()
        week = {SUNDAY: 1.0, SATURDAY: 0.5}.get(weekday, 0.0) * self.weekly_amp
        noise = rng.normal(0.0, 1.0, (n, per_day)) * self.noise_sd[:, None]
        load = (self.base * (1.0 - week + self.drift))[:, None] * shape * (1.0 + noise)
        np.clip(load, 0.0, MAX_LOAD, out=load)
        k_day = d * per_day
        for i, u in enumerate(self.units):
            for k0, k1 in u.outages:
                if k0 < k_day + per_day and k1 > k_day:
                    load[i, max(0, k0 - k_day) : min(per_day, k1 - k_day)] = 0.0
        result: np.ndarray = load
        return result
