"""Wastewater pollutants (COD, NH3-N) of each outfall (废水排放口): quantities from the HJ 212
concentrations and the wastewater flow (issue 21).

An **outfall** is a production unit with a wastewater flow meter (carrier ``wastewater_flow``,
HJ 212 ``w00000``, L/s) and at least one analyser of ``cod`` (``w01018``) or
``ammonia_nitrogen`` (``w21003``), in mg/L. Hour by hour, with the hour rules of the gas
monitoring (readings flagged ``N`` on at least ``min_valid_fraction_per_hour`` of the expected
ones for both concentration and flow; stop flags make a stopped hour: :mod:`.hours`), the amount
of a valid hour is ``M [kg] = C [mg/L] × Q [m3/h] × 1 h × 1000 L/m3 × 10⁻⁶ kg/mg``. Invalid hours
are **not substituted**: the substitution rules of HJ 75-2017 are written for gas CEMS and the
water-monitoring standards' own rules (HJ 355 / HJ 356) were not read, so the missing hours are
counted and shown instead. No wastewater limit is sourced: the amounts are not judged.

References
----------
.. [1] HJ 212-2017, Table B.1 (codes w00000, w01018, w21003 and their units).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.emissions import hourly_amount_kg
from kilnwatch.domain.periods import Period
from kilnwatch.domain.units import convert
from kilnwatch.emissions.hours import (
    STOPPED,
    VALID,
    ValiditySettings,
    hour_status,
    means_of,
    no_counts,
)
from kilnwatch.emissions.service import hour_counts_of, period_hours, visible_enterprises
from kilnwatch.identity import Principal
from kilnwatch.reference.emissions import WATER_FLOW, WATER_POLLUTANTS
from kilnwatch.store.models import Meter, ProductionUnit

FLOW = WATER_FLOW


@dataclass(frozen=True)
class OutfallPollutant:
    """One pollutant of one outfall over a period: valid-hour amount [kg], hours, flow [m3]."""

    enterprise_uscc: str
    enterprise_name: str
    unit_code: str
    pollutant: str
    amount_kg: float
    valid_hours: int
    invalid_hours: int
    stopped_hours: int
    flow_m3: float
    mean_mg_l: float | None

    def as_json(self) -> dict[str, Any]:
        running = self.valid_hours + self.invalid_hours
        return {
            "enterprise_uscc": self.enterprise_uscc,
            "enterprise_name": self.enterprise_name,
            "outfall": self.unit_code,
            "pollutant": self.pollutant,
            "amount_kg": round(self.amount_kg, 3),
            "valid_hours": self.valid_hours,
            "invalid_hours": self.invalid_hours,
            "stopped_hours": self.stopped_hours,
            "valid_share_pct": round(100 * self.valid_hours / running, 2) if running else None,
            "flow_m3": round(self.flow_m3, 1),
            "mean_mg_l": None if self.mean_mg_l is None else round(self.mean_mg_l, 3),
            "method": "C x Q per valid hour (HJ 212 w00000 flow); invalid hours not substituted",
        }


def wastewater_accounts(
    session: Session,
    principal: Principal,
    period: Period,
    *,
    city: str | None = None,
    uscc: str | None = None,
    source: str = "rollups",
) -> list[OutfallPollutant]:
    """COD and NH3-N of every outfall the principal may see in the period; the hours read
    from ``source`` (``emissions.service.SOURCES``)."""
    refs = visible_enterprises(session, principal, city, uscc)
    meters = session.execute(
        select(Meter, ProductionUnit.code)
        .join(ProductionUnit, ProductionUnit.id == Meter.unit_id)
        .where(Meter.enterprise_id.in_(list(refs)),
               Meter.carrier.in_([FLOW, *WATER_POLLUTANTS]))
        .order_by(Meter.enterprise_id, ProductionUnit.code, Meter.code)
    ).all()  # fmt: skip
    by_unit: dict[tuple[int, str], dict[str, Meter]] = defaultdict(dict)
    for m, unit_code in meters:
        by_unit[(m.enterprise_id, unit_code)][m.carrier] = m
    outfalls = {k: v for k, v in by_unit.items() if FLOW in v and set(v) & set(WATER_POLLUTANTS)}
    start_s, n_hours = period_hours(period)
    meter_ids = [m.id for v in outfalls.values() for m in v.values()]
    counts = hour_counts_of(session, meter_ids, start_s, n_hours, source)
    s = ValiditySettings.packaged()
    litres_per_m3 = convert(1.0, "m3", "L")
    rows = []
    for (eid, unit_code), found in outfalls.items():
        flow_meter = found[FLOW]
        flow = means_of(counts.get(flow_meter.id) or no_counts(n_hours))
        flow_m3_h = flow.mean * convert(1.0, flow_meter.unit_of_measure, "m3/h")
        for pollutant in WATER_POLLUTANTS:
            if pollutant not in found:
                continue
            conc = means_of(counts.get(found[pollutant].id) or no_counts(n_hours))
            status = hour_status(conc, flow, s.min_valid_fraction_per_hour)
            valid = status == VALID
            kg = hourly_amount_kg(conc.mean[valid] * litres_per_m3, flow_m3_h[valid])
            ref = refs[eid]
            rows.append(OutfallPollutant(
                ref.uscc, ref.name, unit_code, pollutant, float(np.sum(kg)),
                int(valid.sum()), int(((status != VALID) & (status != STOPPED)).sum()),
                int((status == STOPPED).sum()), float(np.nansum(flow_m3_h[valid])),
                float(np.mean(conc.mean[valid])) if valid.any() else None,
            ))  # fmt: skip
    return rows


__all__ = ["WATER_POLLUTANTS", "OutfallPollutant", "wastewater_accounts"]
