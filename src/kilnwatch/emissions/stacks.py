"""Gas monitoring points (stacks, 排放口) and their accounts for a period.

A stack is a production unit with a flue-gas flow analyser (HJ 212 ``a00000``) and at least
one pollutant analyser (SO2 ``a21026``, NOx ``a21002``, particulate matter ``a34013``), O2
(``a19001``) when fitted: the CEMS of HJ 75-2017. Each pollutant's account gives the amount
(valid hours plus substituted ones), the hours by status, the capture rate, the binding limit
and the exceedances (:mod:`kilnwatch.emissions.hours`, :mod:`kilnwatch.emissions.limits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.emissions import HourCounts
from kilnwatch.domain.units import convert
from kilnwatch.emissions.hours import (
    INVALID,
    STOPPED,
    VALID,
    Analyser,
    PollutantHours,
    ValiditySettings,
    no_counts,
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
from kilnwatch.reference.emissions import GAS_FLOW, MASS_SUFFIX, O2, POLLUTANTS

FLOW, MASS = GAS_FLOW, MASS_SUFFIX
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


def stack_meter_ids(stacks: Iterable[Stack]) -> list[int]:
    """Every meter the accounts of these stacks read: flow, O2, analysers, device totals."""
    return [
        m.id
        for st in stacks
        for m in (st.flow, st.o2, *st.analysers.values(), *st.totals.values())
        if m
    ]


def series_counts(
    series: Mapping[int, Series], meter_ids: Iterable[int], start_s: int, n_hours: int
) -> dict[int, HourCounts]:
    """Raw readings grouped into the hours ``(start_s + i h, …]``, i < n_hours, per meter."""
    out = {}
    for m in meter_ids:
        found = series.get(m)
        if found is not None:
            out[m] = Analyser(found.ts_s, found.value, found.flag).counts(start_s, n_hours)
    return out


def _device_kg(counts: HourCounts | None, history_h: int) -> float | None:
    """Sum of the device's period amounts [kg] in the period's hours (an hourly ``-Cou`` is
    stored at its period end); None when it sent none."""
    if counts is None or int(counts.readings[history_h:].sum()) == 0:
        return None
    return float(np.sum(counts.total[history_h:]))


def stack_account(
    stack: Stack, counts: Mapping[int, HourCounts], permits: list[PermitTerms], start_s: int,
    n_hours: int, history_h: int, s: ValiditySettings,
) -> StackAccount:  # fmt: skip
    """The account of one stack over ``n_hours`` from ``start_s`` (local midnight).

    ``counts``: each meter's readings grouped by hour over the ``history_h + n_hours`` hours
    from ``start_s - history_h h`` (:func:`series_counts` of raw readings, or the
    ``emission_hours`` rollup); a meter without an entry has no readings.
    """
    window = history_h + n_hours

    def hours_of(meter: MeterInfo) -> HourCounts:
        return counts.get(meter.id) or no_counts(window)

    flow = hours_of(stack.flow)
    to_m3_h = convert(1.0, stack.flow.uom, "m3/h")
    o2 = hours_of(stack.o2) if stack.o2 is not None else None
    mine = [p for p in permits if p.unit_id in (None, stack.unit_id)]
    accounts, hours = {}, {}
    for pollutant, meter in stack.analysers.items():
        limit = applicable_limit(stack.process, pollutant, mine)
        h = pollutant_hours(
            hours_of(meter), flow, to_m3_h, o2,
            limit.o2_ref_pct if limit else None, start_s, n_hours, history_h, s,
        )  # fmt: skip
        account = pollutant_account(h, limit, s.episode_gap_h)
        account.pollutant = pollutant
        if pollutant in stack.totals:
            account.device_kg = _device_kg(counts.get(stack.totals[pollutant].id), history_h)
        accounts[pollutant], hours[pollutant] = account, h
    return StackAccount(
        stack.enterprise_id, stack.unit_id, stack.unit_code, stack.process, accounts, hours
    )
