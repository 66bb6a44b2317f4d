"""Registry frames for verification: meters and production units of a set of enterprises."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.reference.registry import load_processes
from kilnwatch.store.models import Enterprise, Meter, ProductionUnit

_CLASS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*S?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class MeterInfo:
    id: int
    code: str
    enterprise_id: int
    unit_id: int | None
    carrier: str
    level: str
    parent_id: int | None
    measurement: str
    uom: str
    accuracy_pct: float | None
    hj212_code: str | None

    @property
    def is_product(self) -> bool:
        return self.carrier.startswith("product:")


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    enterprise_id: int
    process: str
    product: str
    product_unit: str


@dataclass(frozen=True)
class EnterpriseInfo:
    id: int
    uscc: str
    industry: str
    meters: tuple[MeterInfo, ...]
    units: tuple[UnitInfo, ...]


def accuracy_pct(accuracy_class: str | None) -> float | None:
    """The maximum permissible error [%] a class index denotes (``0.5S`` -> 0.5), or None."""
    match = _CLASS.match(accuracy_class or "")
    return float(match.group(1)) if match else None


def _meter(m: Meter) -> MeterInfo:
    return MeterInfo(
        m.id,
        m.code,
        m.enterprise_id,
        m.unit_id,
        m.carrier,
        m.level,
        m.parent_meter_id,
        m.measurement,
        m.unit_of_measure,
        accuracy_pct(m.accuracy_class),
        m.hj212_code,
    )


def _unit(unit_id: int, code: str, enterprise_id: int, process: str) -> UnitInfo:
    spec = load_processes().get(process)
    product = spec.product if spec else ""
    product_unit = spec.product_unit if spec else ""
    return UnitInfo(unit_id, code, enterprise_id, process, product, product_unit)


def load_enterprises(
    session: Session, enterprise_ids: Sequence[int] | None = None
) -> list[EnterpriseInfo]:
    """Enterprises with their meters and units (all when ``enterprise_ids`` is None)."""
    stmt = select(Enterprise.id, Enterprise.uscc, Enterprise.industry).order_by(Enterprise.id)
    if enterprise_ids is not None:
        stmt = stmt.where(Enterprise.id.in_(list(enterprise_ids)))
    rows = session.execute(stmt).all()
    ids = [r[0] for r in rows]
    meters: dict[int, list[MeterInfo]] = defaultdict(list)
    for m in session.scalars(select(Meter).where(Meter.enterprise_id.in_(ids)).order_by(Meter.id)):
        meters[m.enterprise_id].append(_meter(m))
    units: dict[int, list[UnitInfo]] = defaultdict(list)
    unit_stmt = select(
        ProductionUnit.id, ProductionUnit.code, ProductionUnit.enterprise_id, ProductionUnit.process
    ).where(ProductionUnit.enterprise_id.in_(ids))
    for unit_id, code, enterprise_id, process in session.execute(
        unit_stmt.order_by(ProductionUnit.id)
    ):
        units[enterprise_id].append(_unit(unit_id, code, enterprise_id, process))
    return [
        EnterpriseInfo(i, uscc, industry, tuple(meters[i]), tuple(units[i]))
        for i, uscc, industry in rows
    ]
