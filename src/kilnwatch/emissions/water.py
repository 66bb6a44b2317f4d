"""Water withdrawal (取水量) per enterprise and production unit against the water-withdrawal
quotas (GB/T 18916 series; ``reference/emissions/water_quotas.csv``).

Withdrawal is what the water meters count in the period (their daily rollups): the
enterprise's entry meters give its withdrawal, a unit's sub-unit meters the unit's. A unit's
specific withdrawal is its withdrawal per product unit of the quota (m3/t, m3/MWh) from its
product meters; it is compared with the general (通用) value, the one that applies to existing
plants (FACTS.md §5). Units whose process has no sourced quota are shown without a judgement.
Withdrawal is also split by source (取水水源, ``reference/emissions/water_sources.csv``): each
water meter may name its source in the registry (``meters.water_source``); the quantity of a
meter that names none is reported as ``unspecified`` (never guessed, nor taken from its parent).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import Period
from kilnwatch.emissions.service import visible_enterprises
from kilnwatch.identity import Principal
from kilnwatch.reference.emissions import load_water_sources, water_quota_for
from kilnwatch.store.models import Meter, ProductionUnit
from kilnwatch.store.repos.rollups import meter_totals

WATER = "water"
PRODUCT_PREFIX = "product:"
UNSPECIFIED = "unspecified"
"""The by-source key of the withdrawal of meters whose source the registry does not give."""


@dataclass
class WaterAccount:
    """Withdrawal [m3] of an enterprise (``unit_code`` None) or of one of its units, with the
    unit's output, specific withdrawal [m3 per quota unit] and its quota."""

    enterprise_uscc: str
    enterprise_name: str
    unit_code: str | None
    process: str | None
    withdrawal_m3: float
    product_qty: float | None = None
    product_unit: str | None = None
    specific_per_quota_unit: float | None = None
    quota_id: str | None = None
    quota_general: float | None = None
    quota_unit: str | None = None
    quota_confidence: str | None = None
    by_source: dict[str, float] = field(default_factory=dict)
    """Withdrawal [m3] per source id of ``water_sources.csv`` (or ``unspecified``)."""

    @property
    def over_quota(self) -> bool | None:
        if self.specific_per_quota_unit is None or self.quota_general is None:
            return None
        return self.specific_per_quota_unit > self.quota_general

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"over_quota": self.over_quota}


def water_accounts(
    session: Session,
    principal: Principal,
    period: Period,
    *,
    city: str | None = None,
    uscc: str | None = None,
) -> list[WaterAccount]:
    """Enterprise and unit withdrawal of every visible enterprise with water meters."""
    refs = visible_enterprises(session, principal, city, uscc)
    if not refs:
        return []
    meters = session.scalars(
        select(Meter).where(
            Meter.enterprise_id.in_(list(refs)),
            (Meter.carrier == WATER) | Meter.carrier.startswith(PRODUCT_PREFIX),
        )
    ).all()
    totals = meter_totals(session, [m.id for m in meters], "day", period.start, period.end)
    units = {
        u.id: u
        for u in session.scalars(
            select(ProductionUnit).where(ProductionUnit.enterprise_id.in_(list(refs)))
        )
    }
    entry: dict[int, float] = defaultdict(float)
    entry_sources: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    unit_water: dict[int, float] = defaultdict(float)
    unit_sources: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    unit_product: dict[int, tuple[float, str]] = {}
    for m in meters:
        qty = totals[m.id].sum if m.id in totals else 0.0
        source = m.water_source or UNSPECIFIED
        if m.carrier == WATER and m.level == "entry":
            entry[m.enterprise_id] += qty
            entry_sources[m.enterprise_id][source] += qty
        elif m.carrier == WATER and m.unit_id is not None and m.level == "sub_unit":
            unit_water[m.unit_id] += qty
            unit_sources[m.unit_id][source] += qty
        elif m.unit_id is not None and m.carrier.startswith(PRODUCT_PREFIX):
            prev = unit_product.get(m.unit_id, (0.0, m.unit_of_measure))[0]
            unit_product[m.unit_id] = (prev + qty, m.unit_of_measure)
    out = []
    for eid, ref in refs.items():
        if eid in entry:
            out.append(WaterAccount(ref.uscc, ref.name, None, None, entry[eid]))
            out[-1].by_source = _ordered(entry_sources[eid])
        for uid in sorted(u for u in unit_water if units[u].enterprise_id == eid):
            out.append(
                _unit_account(
                    ref.uscc, ref.name, units[uid], unit_water[uid], unit_product.get(uid)
                )
            )
            out[-1].by_source = _ordered(unit_sources[uid])
    return out


def source_keys() -> list[str]:
    """The by-source keys in report order: the reference rows, then ``unspecified``."""
    return [*load_water_sources(), UNSPECIFIED]


def water_source_names() -> dict[str, str]:
    """``source id -> "中文名 / English name"`` of every by-source key."""
    names = {k: f"{s.name_zh} / {s.name_en}" for k, s in load_water_sources().items()}
    return names | {UNSPECIFIED: "未说明 / unspecified"}


def _ordered(amounts: dict[str, float]) -> dict[str, float]:
    return {k: amounts[k] for k in source_keys() if k in amounts}


def _unit_account(
    uscc: str, name: str, unit: ProductionUnit, water_m3: float, product: tuple[float, str] | None
) -> WaterAccount:
    a = WaterAccount(uscc, name, unit.code, unit.process, water_m3)
    if product is not None:
        a.product_qty, a.product_unit = product
    found = water_quota_for(unit.process, unit.capacity)
    if found is None:
        return a
    quota, per_quota_unit = found
    a.quota_id, a.quota_general, a.quota_unit = quota.quota_id, quota.quota_general, quota.unit
    a.quota_confidence = quota.confidence
    if a.product_qty:
        a.specific_per_quota_unit = water_m3 / (a.product_qty / per_quota_unit)
    return a
