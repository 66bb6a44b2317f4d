"""Inspection rounds in the store: plan (:mod:`.planner`) and keep a round, export it, record a
visit's checklist against the platform's own figures, and open what a visit found.

A round is planned province-wide by a province user, an admin or the CLI; its results are
recorded once per visit and item by the department that owns the item (``inspection_items.csv``:
"谁考核、谁掌握数据") and shared with everybody who sees the enterprise.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.accounting.units import unit_accounts
from kilnwatch.domain.periods import Period
from kilnwatch.emissions.service import emissions_scope
from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.emissions import POLLUTANTS
from kilnwatch.store.models import (
    Enterprise,
    InspectionCheck,
    InspectionGroup,
    InspectionRound,
    InspectionVisit,
    ProductionUnit,
    Project,
    Region,
    SiteVisit,
    TaxInvoice,
)
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.scope import enterprise_scope
from kilnwatch.supervise.access import REGULATOR_ROLES, department_of
from kilnwatch.supervise.catalogue import lead_department, load_inspection_items, planning
from kilnwatch.supervise.planner import Candidate, RoundPlan, choose_home_cities, plan_round

EXPORT_COLUMNS = (
    "group", "group_home_city", "group_home_city_name", "enterprise_uscc", "enterprise_name",
    "enterprise_city", "enterprise_city_name", "planned_on", "load",
)  # fmt: skip
"""Columns of ``kilnwatch supervise plan-round --out`` (the first five named by issue 15)."""


@dataclass(frozen=True)
class RoundOptions:
    code: str
    period: Period
    groups: int
    tolerance_fraction: float
    visits_per_day: int
    homes: tuple[str, ...] = ()
    replace: bool = False


def default_options(code: str, period: Period, groups: int | None = None) -> RoundOptions:
    return RoundOptions(
        code=code, period=period, groups=groups or int(planning("groups")),
        tolerance_fraction=planning("load_tolerance_fraction"),
        visits_per_day=int(planning("visits_per_day")),
    )  # fmt: skip


def candidates(
    session: Session, principal: Principal, first: date, last: date, code: str
) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Enterprises to visit (in the principal's scope) and those left out, with the reason."""
    units = dict(
        session.execute(
            select(ProductionUnit.enterprise_id, func.count()).group_by(
                ProductionUnit.enterprise_id
            )
        ).all()
    )
    other_rounds = set(
        session.scalars(
            select(InspectionVisit.enterprise_id)
            .join(InspectionRound, InspectionRound.id == InspectionVisit.round_id)
            .where(
                InspectionRound.code != code,
                InspectionVisit.planned_on >= first,
                InspectionVisit.planned_on <= last,
            )  # fmt: skip
        )
    )
    on_site = set(
        session.scalars(
            select(Project.enterprise_id)
            .join(SiteVisit, SiteVisit.project_id == Project.id)
            .where(SiteVisit.visited_on >= first, SiteVisit.visited_on <= last)
        )
    )
    base, per_unit = planning("visit_base_load"), planning("unit_load")
    found, excluded = [], []
    stmt = select(Enterprise).where(enterprise_scope(principal)).order_by(Enterprise.uscc)
    for e in session.scalars(stmt):
        if e.status != "operating":
            excluded.append({"enterprise_uscc": e.uscc, "reason": f"status {e.status}"})
        elif e.id in other_rounds:
            reason = "inspected by another round in the window"
            excluded.append({"enterprise_uscc": e.uscc, "reason": reason})
        elif e.id in on_site:
            reason = "inspected by a monthly on-site supervision of its project in the window"
            excluded.append({"enterprise_uscc": e.uscc, "reason": reason})
        else:
            load = base + per_unit * int(units.get(e.id, 0))
            found.append(Candidate(e.id, e.uscc, e.name, e.region_code[:4] + "00", load))
    return found, excluded


def cities_in_scope(session: Session, principal: Principal) -> list[str]:
    stmt = select(Region.code).where(Region.level == "city")
    if not principal.sees_everything and principal.region_code:
        stmt = stmt.where(Region.code.startswith(principal.region_code[:2]))
    return list(session.scalars(stmt.order_by(Region.code)))


def plan_and_store(
    session: Session, principal: Principal, options: RoundOptions
) -> tuple[InspectionRound, RoundPlan]:
    """Plan the round and keep it (groups, visits, what was left out). Only a province user or
    an admin plans: a round covers the province."""
    if not (principal.sees_everything or principal.role is Role.PROVINCE):
        raise PermissionDeniedError("only the province plans a joint inspection round")
    old = session.scalar(select(InspectionRound).where(InspectionRound.code == options.code))
    if old is not None:
        if not options.replace:
            raise InputError(f"round {options.code} exists; replace it explicitly", field="round")
        done = session.scalar(select(func.count()).where(
            InspectionVisit.round_id == old.id, InspectionVisit.status != "planned"))  # fmt: skip
        if done:
            raise InputError(f"round {options.code} has {done} recorded visits; it stays",
                             field="round")  # fmt: skip
        session.delete(old)
        session.flush()
    first, last = options.period.first, options.period.dates()[-1]
    found, excluded = candidates(session, principal, first, last, options.code)
    cities = cities_in_scope(session, principal)
    homes = list(options.homes) or choose_home_cities(found, options.groups, cities)
    unknown = set(homes) - set(cities)
    if unknown:
        raise InputError(f"unknown home cities {sorted(unknown)}", field="homes")
    if len(homes) != options.groups:
        raise InputError(f"{options.groups} groups need {options.groups} home cities",
                         field="homes")  # fmt: skip
    plan = plan_round(found, homes=homes, first=first, last=last,
                      tolerance=options.tolerance_fraction,
                      visits_per_day=options.visits_per_day)  # fmt: skip
    round_ = InspectionRound(
        code=options.code, window_start=first, window_end=last, groups=options.groups,
        tolerance_fraction=options.tolerance_fraction, department=department_of(session, principal),
        status="planned", excluded=excluded, created_by=principal.subject, created_at=utcnow(),
    )  # fmt: skip
    session.add(round_)
    session.flush()
    ids = {}
    for g in plan.groups:
        row = InspectionGroup(round_id=round_.id, number=g.number, home_city=g.home_city,
                              load=g.load)  # fmt: skip
        session.add(row)
        session.flush()
        ids[g.number] = row.id
    session.add_all(
        InspectionVisit(
            round_id=round_.id,
            group_id=ids[v.group],
            enterprise_id=v.candidate.enterprise_id,
            planned_on=v.planned_on,
            load=v.candidate.load,
            status="planned",
            summary="",
        )  # fmt: skip
        for v in plan.visits
    )
    session.flush()
    return round_, plan


def get_round(session: Session, code: str) -> InspectionRound:
    found = session.scalar(select(InspectionRound).where(InspectionRound.code == code))
    if found is None:
        raise NotFoundError(f"round {code} not found")
    return found


def all_rounds(session: Session) -> list[InspectionRound]:
    return list(session.scalars(select(InspectionRound).order_by(InspectionRound.code.desc())))


def round_period(session: Session, round_id: int, zone: tzinfo) -> Period:
    """The half-year a round inspects (its window), for the platform's figures."""
    row = session.get(InspectionRound, round_id)
    if row is None:
        raise NotFoundError(f"round {round_id} not found")
    return Period.of_days(row.window_start, row.window_end, zone)


def visit_rows(session: Session, principal: Principal, round_id: int) -> list[dict[str, Any]]:
    """One row per visit the principal may see, in :data:`EXPORT_COLUMNS` (plus ids)."""
    names = {str(c): str(n) for c, n in session.execute(select(Region.code, Region.name_zh))}
    stmt = (
        select(InspectionVisit, InspectionGroup, Enterprise)
        .join(InspectionGroup, InspectionGroup.id == InspectionVisit.group_id)
        .join(Enterprise, Enterprise.id == InspectionVisit.enterprise_id)
        .where(InspectionVisit.round_id == round_id, enterprise_scope(principal))
        .order_by(InspectionGroup.number, InspectionVisit.planned_on, Enterprise.uscc)
    )
    rows = []
    for v, g, e in session.execute(stmt):
        city = e.region_code[:4] + "00"
        rows.append({
            "group": g.number, "group_home_city": g.home_city,
            "group_home_city_name": names.get(g.home_city, ""), "enterprise_uscc": e.uscc,
            "enterprise_name": e.name, "enterprise_city": city,
            "enterprise_city_name": names.get(city, ""), "planned_on": v.planned_on.isoformat(),
            "load": v.load, "visit_id": v.id, "enterprise_id": e.id, "status": v.status,
        })  # fmt: skip
    return rows


def write_plan(rows: list[dict[str, Any]], out: Path) -> None:
    """The plan as CSV (UTF-8 with BOM, for spreadsheet programs) or XLSX, by ``out``'s suffix."""
    suffix = out.suffix.lower()
    if suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        out.write_text(buffer.getvalue(), encoding="utf-8-sig")
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "plan"
        ws.append(list(EXPORT_COLUMNS))
        for r in rows:
            ws.append([date.fromisoformat(r[c]) if c == "planned_on" else r[c]
                       for c in EXPORT_COLUMNS])  # fmt: skip
        ws.freeze_panes = "A2"
        wb.save(out)
    else:
        raise InputError(f"{out.name}: write .csv or .xlsx", file=str(out), field="out")


def platform_figures(session: Session, enterprise_id: int, period: Period) -> dict[str, float]:
    """The platform's own figures of an enterprise for the checklist (``platform_figure`` column
    of ``inspection_items.csv``): metered energy, CO2, coal, electricity, water, output
    (accounting over the rollups), invoiced sales (VAT invoices) and the SO2, NOx and
    particulate matter emitted (HJ 75-2017 accounts of its stacks, when it has any)."""
    me = Principal("supervise", Role.ENTERPRISE, enterprise_id=enterprise_id)
    figures: dict[str, float] = defaultdict(float)
    for acc in unit_accounts(session, me, period):
        figures["energy_tce"] += acc.energy_tce or 0.0
        figures["co2_t"] += acc.co2_t or 0.0
        if acc.production is not None and acc.production_unit == "t":
            figures["output_t"] += acc.production
        for i in acc.inputs:
            key = {("raw_coal", "t"): "raw_coal_t", ("electricity", "kWh"): "electricity_kwh",
                   ("water", "m3"): "water_m3"}.get((i.carrier, i.unit))  # fmt: skip
            if key:
                figures[key] += i.quantity
    sales = session.scalar(select(func.sum(TaxInvoice.amount_cny)).where(
        TaxInvoice.enterprise_id == enterprise_id, TaxInvoice.direction == "sale",
        TaxInvoice.issued_on >= period.first, TaxInvoice.issued_on < period.stop))  # fmt: skip
    if sales is not None:
        figures["revenue_cny"] = float(sales)
    accounts = emissions_scope(session, me, period).accounts
    if accounts:
        figures["pollutants_kg"] = sum(a.amount_kg(p) for a in accounts for p in POLLUTANTS)
    return dict(figures)


def get_visit(session: Session, principal: Principal, visit_id: int) -> InspectionVisit:
    visit = session.get(InspectionVisit, visit_id)
    if visit is None or not session.scalar(
        select(Enterprise.id).where(
            Enterprise.id == visit.enterprise_id, enterprise_scope(principal)
        )
    ):
        raise NotFoundError(f"visit {visit_id} not found")
    return visit


def record_checks(
    session: Session,
    principal: Principal,
    visit_id: int,
    checked: dict[str, tuple[float | None, bool, str]],
    period: Period,
    summary: str = "",
) -> list[InspectionCheck]:
    """Record checklist items of a visit: the inspector's figure, whether it passes, a note;
    the platform's figure and the gap are added here. An item is recorded by the department
    that owns it (or the lead department, or an admin) and once: a second recording corrects
    it in place."""
    if principal.role not in REGULATOR_ROLES:
        raise PermissionDeniedError("only a supervisor records an inspection")
    visit = get_visit(session, principal, visit_id)
    items = load_inspection_items()
    mine = department_of(session, principal)
    platform = platform_figures(session, visit.enterprise_id, period)
    out = []
    for code, (value, ok, note) in checked.items():
        item = items.get(code)
        if item is None:
            raise InputError(f"unknown checklist item {code!r}; one of {list(items)}", field="item")
        if not (principal.sees_everything or mine in (item.department, lead_department())):
            raise PermissionDeniedError(f"the {item.department} department records {code}")
        reference = platform.get(item.platform_figure or "")
        gap = None if value is None or not reference else (value - reference) / reference
        row = session.scalar(select(InspectionCheck).where(
            InspectionCheck.visit_id == visit.id, InspectionCheck.item == code))  # fmt: skip
        if row is None:
            row = InspectionCheck(visit_id=visit.id, item=code)
            session.add(row)
        row.unit, row.platform_value, row.checked_value = item.unit, reference, value
        row.deviation_fraction, row.ok, row.note = gap, ok, note.strip()[:500]
        out.append(row)
    visit.status = "done"
    visit.done_on = visit.done_on or utcnow().date()
    visit.recorded_by = principal.subject
    if summary.strip():
        visit.summary = summary.strip()
    session.flush()
    return out


def checks_of(session: Session, visit_id: int) -> list[InspectionCheck]:
    stmt = select(InspectionCheck).where(InspectionCheck.visit_id == visit_id)
    return list(session.scalars(stmt.order_by(InspectionCheck.id)))
