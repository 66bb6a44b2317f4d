"""Gas monitoring points (stacks, 排放口) and their accounts for a period.

A stack is a production unit with a flue-gas flow analyser (HJ 212 ``a00000``) and at least
one pollutant analyser (SO2 ``a21026``, NOx ``a21002``, particulate matter ``a34013``), O2
(``a19001``) when fitted: the CEMS of HJ 75-2017. Each pollutant's account gives the amount
(valid hours plus substituted ones), the hours by status, the capture rate, the binding limit
and the exceedances (:mod:`kilnwatch.emissions.hours`, :mod:`kilnwatch.emissions.limits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.units import convert
from kilnwatch.emissions.hours import (
    HOUR_S,
    INVALID,
    STOPPED,
    VALID,
    Analyser,
    PollutantHours,
    ValiditySettings,
    pollutant_hours,
)
from kilnwatch.emissions.limits import (
    AppliedLimit,
    Episode,
    PermitTerms,
    applicable_limit,
    episodes,
    exceedance_days,
    exceedance_mask,
)
from kilnwatch.reference.emissions import POLLUTANTS

FLOW, O2, MASS = "flue_gas_flow", "o2", "_mass"
KG_PER_T = 1000.0


@dataclass(frozen=True)
class Stack:
    enterprise_id: int
    unit_id: int
    unit_code: str
    process: str
    flow: MeterInfo
    o2: MeterInfo | None
    analysers: dict[str, MeterInfo]
    totals: dict[str, MeterInfo] = field(default_factory=dict)
    """The device's own emission amounts (HJ 212 ``-Cou``, carriers ``<pollutant>_mass``)."""


def find_stacks(info: EnterpriseInfo) -> list[Stack]:
    """The stacks of an enterprise, by production unit."""
    by_unit: dict[int, dict[str, MeterInfo]] = {}
    for m in info.meters:
        if m.unit_id is not None and (m.measurement == "instant" or m.carrier.endswith(MASS)):
            by_unit.setdefault(m.unit_id, {})[m.carrier] = m
    out = []
    for u in info.units:
        meters = by_unit.get(u.id, {})
        analysers = {p: meters[p] for p in POLLUTANTS if p in meters}
        totals = {p: meters[p + MASS] for p in analysers if p + MASS in meters}
        if FLOW in meters and analysers:
            out.append(
                Stack(
                    info.id,
                    u.id,
                    u.code,
                    u.process,
                    meters[FLOW],
                    meters.get(O2),
                    analysers,
                    totals,
                )
            )
    return out


@dataclass
class PollutantAccount:
    """One pollutant of one stack in the period; amounts [kg], hours [h], capture [%]."""

    pollutant: str
    amount_kg: float
    measured_kg: float
    substituted_kg: float
    valid_hours: int
    invalid_hours: int
    stopped_hours: int
    substituted_hours: int
    missing_hours: int
    capture_pct: float | None
    limit: AppliedLimit | None
    exceedance_hours: int
    exceedance_days: int
    max_corrected_mg_m3: float | None
    episodes: list[Episode] = field(default_factory=list)
    device_kg: float | None = None
    """The device's own total of the period (HJ 212 ``-Cou``), when it sends one."""

    @property
    def device_gap_fraction(self) -> float | None:
        """(computed − device) / device: the cross-check of the two amounts."""
        if self.device_kg is None or self.device_kg <= 0:
            return None
        return (self.amount_kg - self.device_kg) / self.device_kg

    def as_json(self) -> dict[str, Any]:
        return {
            "pollutant": self.pollutant,
            "amount_kg": round(self.amount_kg, 3),
            "amount_t": round(self.amount_kg / KG_PER_T, 6),
            "measured_kg": round(self.measured_kg, 3),
            "substituted_kg": round(self.substituted_kg, 3),
            "valid_hours": self.valid_hours,
            "invalid_hours": self.invalid_hours,
            "stopped_hours": self.stopped_hours,
            "substituted_hours": self.substituted_hours,
            "missing_hours": self.missing_hours,
            "capture_pct": None if self.capture_pct is None else round(self.capture_pct, 2),
            "limit": None if self.limit is None else self.limit.as_json(),
            "exceedance_hours": self.exceedance_hours,
            "exceedance_days": self.exceedance_days,
            "max_corrected_mg_m3": self.max_corrected_mg_m3,
            "method": "HJ 75-2017: C x Q x 1 h per valid hour; invalid hours substituted",
            "device_kg": None if self.device_kg is None else round(self.device_kg, 3),
            "device_gap_fraction": None
            if self.device_gap_fraction is None
            else round(self.device_gap_fraction, 4),
        }


def pollutant_account(
    h: PollutantHours, limit: AppliedLimit | None, gap_h: int
) -> PollutantAccount:
    valid = h.status == VALID
    measured = float(np.nansum(h.amount_kg[valid]))
    substituted = float(np.nansum(h.amount_kg[h.substituted]))
    finite = h.corrected_mg_m3[np.isfinite(h.corrected_mg_m3)]
    return PollutantAccount(
        pollutant=limit.pollutant if limit else "",
        amount_kg=measured + substituted,
        measured_kg=measured,
        substituted_kg=substituted,
        valid_hours=h.count(VALID),
        invalid_hours=h.count(INVALID),
        stopped_hours=h.count(STOPPED),
        substituted_hours=int(h.substituted.sum()),
        missing_hours=int(((h.status == INVALID) & ~h.substituted).sum()),
        capture_pct=h.capture_pct,
        limit=limit,
        exceedance_hours=int(exceedance_mask(h, limit).sum()) if limit else 0,
        exceedance_days=exceedance_days(h, limit) if limit else 0,
        max_corrected_mg_m3=round(float(finite.max()), 3) if finite.size else None,
        episodes=episodes(h, limit, gap_h) if limit else [],
    )


@dataclass
class StackAccount:
    enterprise_id: int
    unit_id: int
    unit_code: str
    process: str
    pollutants: dict[str, PollutantAccount]
    hours: dict[str, PollutantHours] = field(default_factory=dict, repr=False)

    def amount_kg(self, pollutant: str) -> float:
        p = self.pollutants.get(pollutant)
        return p.amount_kg if p else 0.0


def _analyser(series: Series | None) -> Analyser:
    if series is None:
        return Analyser(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, dtype=object))
    return Analyser(series.ts_s, series.value, series.flag)


def _device_kg(series: Series | None, start_s: int, n_hours: int) -> float | None:
    """Sum of the device's period amounts [kg] stamped in ``(start, start + n_hours h]``
    (an hourly ``-Cou`` is stored at its period end)."""
    if series is None:
        return None
    end_s = start_s + n_hours * HOUR_S
    inside = (series.ts_s > start_s) & (series.ts_s <= end_s)
    return float(series.value[inside].sum()) if inside.any() else None


def stack_account(
    stack: Stack, series: dict[int, Series], permits: list[PermitTerms], start_s: int,
    n_hours: int, history_h: int, s: ValiditySettings,
) -> StackAccount:  # fmt: skip
    """The account of one stack over ``n_hours`` from ``start_s`` (local midnight)."""
    flow = _analyser(series.get(stack.flow.id))
    to_m3_h = convert(1.0, stack.flow.uom, "m3/h")
    o2 = _analyser(series.get(stack.o2.id)) if stack.o2 is not None else None
    mine = [p for p in permits if p.unit_id in (None, stack.unit_id)]
    accounts, hours = {}, {}
    for pollutant, meter in stack.analysers.items():
        limit = applicable_limit(stack.process, pollutant, mine)
        h = pollutant_hours(
            _analyser(series.get(meter.id)), flow, to_m3_h, o2,
            limit.o2_ref_pct if limit else None, start_s, n_hours, history_h, s,
        )  # fmt: skip
        account = pollutant_account(h, limit, s.episode_gap_h)
        account.pollutant = pollutant
        if pollutant in stack.totals:
            account.device_kg = _device_kg(series.get(stack.totals[pollutant].id), start_s, n_hours)
        accounts[pollutant], hours[pollutant] = account, h
    return StackAccount(
        stack.enterprise_id, stack.unit_id, stack.unit_code, stack.process, accounts, hours
    )
