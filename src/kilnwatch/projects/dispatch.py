"""Daily dispatch (日调度) of "两高" projects: for each producing project (trial operation or
operating), one day's output by product and energy by carrier from its units' meters (the day
rollups), and from enterprise entries (企业填报) for carriers no meter of the project measures,
marked as such; meters without data (missing) and readings received after the dispatch time
(``Settings.dispatch_due_h`` after the day, late) are flagged. The province sees the day by
city.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.energy import carrier_keys, energy_kgce
from kilnwatch.domain.projects import PRODUCING_STAGES
from kilnwatch.errors import InputError, KilnwatchError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.projects.figures import PRODUCT_PREFIX
from kilnwatch.projects.register import list_projects, project_status
from kilnwatch.reference.energy import load_coal_carriers
from kilnwatch.store.models import DispatchEntry, Meter, Reading, project_units
from kilnwatch.store.repos.rollups import meter_totals


@dataclass
class CarrierDay:
    """One carrier or product of a project's day: quantity, unit, and where it came from."""

    key: str
    quantity: float
    unit: str
    source: str
    """``meter`` or ``entry`` (enterprise entry, no meter)."""


@dataclass
class ProjectDay:
    project_id: int
    code: str
    name: str
    enterprise: str
    region_code: str
    stage: str
    output: list[CarrierDay] = field(default_factory=list)
    energy: list[CarrierDay] = field(default_factory=list)
    energy_tce: float = 0.0
    coal_t: float = 0.0
    meters: int = 0
    missing: list[str] = field(default_factory=list)
    """Meter codes without a reading of the day."""
    late: list[str] = field(default_factory=list)
    """Meter codes with readings of the day received after the dispatch time."""
    no_data: bool = False
    """Neither a meter nor an entry gives anything for the day."""


def _meters_of(session: Session, project_ids: list[int]) -> dict[int, list[Meter]]:
    rows = session.execute(
        select(project_units.c.project_id, Meter)
        .join(Meter, Meter.unit_id == project_units.c.unit_id)
        .where(project_units.c.project_id.in_(project_ids))
    ).all()
    out: dict[int, list[Meter]] = defaultdict(list)
    for pid, meter in rows:
        out[pid].append(meter)
    return out


def _late(
    session: Session, meter_ids: list[int], start: datetime, end: datetime, due: datetime
) -> set[int]:
    return set(
        session.scalars(
            select(Reading.meter_id)
            .where(Reading.meter_id.in_(meter_ids), Reading.ts >= start, Reading.ts < end)
            .where(Reading.received_at > due)
            .group_by(Reading.meter_id)
            .having(func.count() > 0)
        )
    )


def _add(pd: ProjectDay, key: str, quantity: float, unit: str, source: str) -> None:
    item = CarrierDay(key, quantity, unit, source)
    if key.startswith(PRODUCT_PREFIX):
        item.key = key.removeprefix(PRODUCT_PREFIX)
        pd.output.append(item)
        return
    pd.energy.append(item)
    if key in set(carrier_keys()):
        try:
            pd.energy_tce += energy_kgce(key, quantity, unit).kgce / 1e3
        except KilnwatchError:
            pass  # a carrier in a unit the coefficients do not take: shown, not converted
    if key in load_coal_carriers() and unit == "t":
        pd.coal_t += quantity


def dispatch_day(
    session: Session,
    principal: Principal,
    day: date,
    *,
    zone: Any,
    due_h: float,
    city: str | None = None,
) -> list[ProjectDay]:
    """The day's dispatch of every producing project the principal may see."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end, due = start + timedelta(days=1), start + timedelta(days=1, hours=due_h)
    statuses = [
        s
        for s in list_projects(session, principal, city=city)
        if s.project.stage in PRODUCING_STAGES
    ]
    ids = [s.project.id for s in statuses]
    meters = _meters_of(session, ids)
    all_ids = [m.id for ms in meters.values() for m in ms]
    totals = meter_totals(session, all_ids, "day", start, end)
    late = _late(session, all_ids, start, end, due)
    entries: dict[int, list[DispatchEntry]] = defaultdict(list)
    for e in session.scalars(
        select(DispatchEntry).where(DispatchEntry.project_id.in_(ids), DispatchEntry.day == day)
    ):
        entries[e.project_id].append(e)
    out = []
    for s in statuses:
        p = s.project
        pd = ProjectDay(p.id, p.code, p.name, p.enterprise.name, p.enterprise.region_code, p.stage)
        ms = [m for m in meters.get(p.id, []) if m.measurement != "instant"]
        top = [
            m for m in ms if (m.parent_meter_id, m.carrier) not in {(x.id, x.carrier) for x in ms}
        ]
        pd.meters = len(top)
        for m in top:
            total = totals.get(m.id)
            if total is None or total.count == 0:
                pd.missing.append(m.code)
                continue
            if m.id in late:
                pd.late.append(m.code)
            _add(pd, m.carrier, total.sum, m.unit_of_measure, "meter")
        metered = {m.carrier for m in top}
        for e in entries.get(p.id, []):
            if e.carrier not in metered:
                _add(pd, e.carrier, e.quantity, e.unit_of_measure, "entry")
        pd.no_data = not pd.output and not pd.energy
        out.append(pd)
    return out


def enter_figure(
    session: Session,
    principal: Principal,
    project_id: int,
    day: date,
    carrier: str,
    quantity: float,
    unit: str,
) -> DispatchEntry:
    """An enterprise's own figure for a carrier no meter of the project measures."""
    status = project_status(session, principal, project_id)
    if principal.role is not Role.ENTERPRISE and not principal.may_write_registry:
        raise PermissionDeniedError("only the enterprise or a region writer enters figures")
    if quantity < 0:
        raise InputError("a quantity cannot be negative", field="quantity")
    metered = {m.carrier for m in _meters_of(session, [project_id]).get(project_id, [])}
    if carrier in metered:
        raise InputError(
            f"{carrier} is metered for this project; entries are for unmetered carriers only",
            field="carrier",
        )
    if not carrier.startswith(PRODUCT_PREFIX) and carrier not in set(carrier_keys()):
        raise InputError(f"unknown carrier {carrier!r}", field="carrier")
    entry = session.scalar(
        select(DispatchEntry).where(
            DispatchEntry.project_id == status.project.id,
            DispatchEntry.day == day,
            DispatchEntry.carrier == carrier,
        )
    ) or DispatchEntry(project_id=status.project.id, day=day, carrier=carrier)
    entry.quantity, entry.unit_of_measure, entry.entered_by = quantity, unit, principal.subject
    session.add(entry)
    session.flush()
    return entry


@dataclass
class CityDay:
    city_code: str
    projects: int
    with_missing: int
    with_late: int
    without_data: int
    energy_tce: float


def by_city(days: list[ProjectDay]) -> list[CityDay]:
    """The province's view of the day: per city, how many projects lack data or are late."""
    cities: dict[str, CityDay] = {}
    for d in days:
        c = cities.setdefault(
            d.region_code[:4] + "00", CityDay(d.region_code[:4] + "00", 0, 0, 0, 0, 0.0)
        )
        c.projects += 1
        c.with_missing += bool(d.missing)
        c.with_late += bool(d.late)
        c.without_data += d.no_data
        c.energy_tce += d.energy_tce
    return sorted(cities.values(), key=lambda c: c.city_code)


__all__ = ["CarrierDay", "CityDay", "ProjectDay", "by_city", "dispatch_day", "enter_figure"]
