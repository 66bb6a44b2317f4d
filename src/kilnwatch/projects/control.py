"""Production control (限产管控): caps per enterprise and period, their use to date from
metered data, resident supervisors (驻企监管) and their weekly logs.

An enterprise is under production control in a period when it has a cap whose period overlaps
it. A cap is breached when the metered output, energy or coal from the cap period's first day
to the day considered exceeds it; ``pace`` compares the fraction used with the fraction of the
cap period elapsed (above 1: on course to exceed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.domain.periods import Period, parse_period, week_period
from kilnwatch.domain.projects import DEPARTMENTS
from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal
from kilnwatch.projects.figures import Figures, metered_figures
from kilnwatch.store.models import Enterprise, ProductionCap, ResidentLog, ResidentSupervisor
from kilnwatch.store.repos.scope import owned_by_visible_enterprise, region_in_scope

CAPPED = ("output_t", "energy_tce", "coal_t")
M = TypeVar("M", ProductionCap, ResidentSupervisor)


@dataclass(frozen=True)
class CapUse:
    """A cap and its use from the cap period's start to ``through`` (excluded)."""

    cap: ProductionCap
    period: Period
    through: date
    output_t: float | None
    energy_tce: float
    coal_t: float
    elapsed_fraction: float

    def used_fraction(self, key: str) -> float | None:
        limit = getattr(self.cap, key)
        value = getattr(self, key)
        return None if not limit or value is None else value / limit

    @property
    def breaches(self) -> list[str]:
        """The capped quantities exceeded (``output_t``, ``energy_tce``, ``coal_t``)."""
        return [k for k in CAPPED if (f := self.used_fraction(k)) is not None and f > 1.0]


def _visible(model: type[M], principal: Principal, city: str | None) -> Select[M]:
    """Rows of ``model`` of the enterprises the principal may see (in ``city`` if given), each
    with its enterprise loaded."""
    stmt = (
        select(model)
        .join(Enterprise, Enterprise.id == model.enterprise_id)
        .where(owned_by_visible_enterprise(model.enterprise_id, principal))
        .options(selectinload(model.enterprise))
    )
    return stmt.where(Enterprise.region_code.startswith(city[:4])) if city else stmt


def caps_in(
    session: Session, principal: Principal, period: Period, *, city: str | None = None
) -> list[ProductionCap]:
    """Caps whose period overlaps ``period``, for enterprises the principal may see."""
    stmt = _visible(ProductionCap, principal, city).order_by(
        Enterprise.region_code, Enterprise.uscc, ProductionCap.period
    )
    out = []
    for cap in session.scalars(stmt):
        cp = parse_period(cap.period, period.zone, field="period")
        if cp.first < period.stop and period.first < cp.stop:
            out.append(cap)
    return out


def cap_uses(
    session: Session, caps: list[ProductionCap], through: date, zone: tzinfo
) -> list[CapUse]:
    """Each cap's use from its period's start to ``through`` (excluded, capped at its end)."""
    out = []
    for cap in caps:
        cp = parse_period(cap.period, zone, field="period")
        stop = min(max(through, cp.first), cp.stop)
        fig = Figures()
        if stop > cp.first:
            end = datetime.combine(stop, time(), tzinfo=zone)
            fig = metered_figures(session, [cap.enterprise_id], cp.start, end)[cap.enterprise_id]
        out.append(
            CapUse(cap, cp, stop, fig.output_of(cap.product), fig.energy_tce, fig.coal_t,
                   (stop - cp.first).days / cp.days)
        )  # fmt: skip
    return out


def set_cap(
    session: Session, principal: Principal, enterprise_id: int, period_label: str, product: str,
    *, output_t: float | None, energy_tce: float | None, coal_t: float | None,
    document_no: str = "", zone: ZoneInfo,
) -> ProductionCap:  # fmt: skip
    """Create or replace an enterprise's cap for a period (region writers only)."""
    ent = _writable_enterprise(session, principal, enterprise_id)
    label = parse_period(period_label, zone, field="period").label
    for key, value in (("output_t", output_t), ("energy_tce", energy_tce), ("coal_t", coal_t)):
        if value is not None and value <= 0:
            raise InputError(f"{key} must be positive", field=key)
    cap = session.scalar(
        select(ProductionCap).where(
            ProductionCap.enterprise_id == ent.id, ProductionCap.period == label
        )
    ) or ProductionCap(enterprise_id=ent.id, period=label)
    cap.product, cap.output_t, cap.energy_tce, cap.coal_t = product, output_t, energy_tce, coal_t
    cap.document_no = document_no
    session.add(cap)
    session.flush()
    return cap


def _writable_enterprise(session: Session, principal: Principal, enterprise_id: int) -> Enterprise:
    ent = session.get(Enterprise, enterprise_id)
    if ent is None or not region_in_scope(principal, ent.region_code):
        raise NotFoundError(f"enterprise {enterprise_id} not found")
    if not principal.may_write_registry:
        raise PermissionDeniedError(f"a {principal.role.value} user may not set caps")
    return ent


def assign_supervisor(
    session: Session, principal: Principal, enterprise_id: int, name: str, department: str,
    assigned_on: date, *, username: str | None = None,
) -> ResidentSupervisor:  # fmt: skip
    """Assign a resident supervisor (city or county users of the enterprise's region)."""
    ent = _writable_enterprise(session, principal, enterprise_id)
    if department not in DEPARTMENTS:
        raise InputError(f"department must be one of {', '.join(DEPARTMENTS)}", field="department")
    if not name.strip():
        raise InputError("a supervisor needs a name", field="name")
    region = principal.region_code or ent.region_code
    sup = ResidentSupervisor(enterprise_id=ent.id, name=name.strip(), username=username,
                             department=department, assigned_by_region=region,
                             assigned_on=assigned_on)  # fmt: skip
    session.add(sup)
    session.flush()
    return sup


def supervisors(
    session: Session, principal: Principal, *, city: str | None = None, on: date | None = None
) -> list[ResidentSupervisor]:
    """Resident supervisors of enterprises the principal may see (active on ``on`` if given)."""
    stmt = _visible(ResidentSupervisor, principal, city)
    found = list(session.scalars(stmt.order_by(Enterprise.region_code, ResidentSupervisor.id)))
    if on is not None:
        found = [
            s for s in found if s.assigned_on <= on and (s.ended_on is None or s.ended_on >= on)
        ]
    return found


def write_log(
    session: Session, principal: Principal, supervisor_id: int, week: str, *,
    days_on_site: int, observed_output_t: float | None, production_normal: bool, notes: str,
    zone: ZoneInfo,
) -> ResidentLog:  # fmt: skip
    """A supervisor's weekly log (the supervisor's own user, or a region writer)."""
    sup = session.get(ResidentSupervisor, supervisor_id)
    if sup is None or not region_in_scope(principal, sup.enterprise.region_code):
        raise NotFoundError(f"supervisor {supervisor_id} not found")
    own = sup.username is not None and sup.username == principal.subject
    if not own and not principal.may_write_registry:
        raise PermissionDeniedError("only the supervisor or a region writer may write the log")
    period = week_period(week, zone)
    if not 0 <= days_on_site <= period.days:
        raise InputError(f"days_on_site must be 0 to {period.days}", field="days_on_site")
    log = session.scalar(
        select(ResidentLog).where(
            ResidentLog.supervisor_id == sup.id, ResidentLog.week == period.label
        )
    ) or ResidentLog(supervisor_id=sup.id, week=period.label)
    log.days_on_site, log.observed_output_t = days_on_site, observed_output_t
    log.production_normal, log.notes, log.written_by = production_normal, notes, principal.subject
    session.add(log)
    session.flush()
    return log


def logs_of_week(
    session: Session, principal: Principal, week: str, *, city: str | None = None
) -> list[ResidentLog]:
    """The weekly logs of ``week`` for supervisors the principal may see."""
    ids = [s.id for s in supervisors(session, principal, city=city)]
    return list(
        session.scalars(
            select(ResidentLog)
            .where(ResidentLog.supervisor_id.in_(ids), ResidentLog.week == week)
            .options(selectinload(ResidentLog.supervisor))
        )
    )


__all__ = [
    "CAPPED",
    "CapUse",
    "assign_supervisor",
    "cap_uses",
    "caps_in",
    "logs_of_week",
    "set_cap",
    "supervisors",
    "write_log",
]
