"""The weekly joint report (每周联合报告) of a city's production-controlled enterprises.

Each week a city's four departments (industry and IT, development and reform, ecology and
environment, statistics) report to the same four departments of the province: output, energy
and coal of each production-controlled enterprise and how its meters operate. Here:

1. :func:`generate` snapshots the figures from metered data (:mod:`.figures`, :mod:`.control`);
   the reported figures start equal to the metered ones.
2. A department may :func:`correct` a reported figure (the difference from metering stays
   visible); any change voids the signatures already given.
3. Each department :func:`sign`\\ s once (a user with a department, ``user_departments``,
   signs only for it); :func:`submit` needs all four.
4. The province's :func:`province_week` shows each city's state, which cities are late
   (not submitted by the due time, ``Settings.weekly_report_due_h`` after the week ends),
   which reported figures differ from metering by more than
   ``Settings.weekly_difference_tolerance_fraction``, and which caps are exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.domain.periods import Period, parse_period, week_period
from kilnwatch.domain.projects import DEPARTMENTS
from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.projects.control import cap_uses, caps_in, logs_of_week, supervisors
from kilnwatch.projects.figures import meter_operation, metered_figures
from kilnwatch.store.models import Region, WeeklyReport, WeeklySignature
from kilnwatch.store.repos.scope import region_in_scope
from kilnwatch.supervise.access import recorded_department

REPORTED = ("output_t", "energy_tce", "coal_t")
"""The figures a department may correct (the rest are metering facts)."""


def _city(code: str) -> str:
    code = code.strip()
    if len(code) not in (4, 6) or not code.isdigit() or code[2:4] == "00":
        raise InputError(f"{code!r} is not a city code such as 3703", field="city")
    return code[:4] + "00"


def compute_rows(
    session: Session, principal: Principal, city: str, period: Period
) -> list[dict[str, Any]]:
    """One row per production-controlled enterprise of ``city`` for the week ``period``."""
    caps = caps_in(session, principal, period, city=city)
    by_ent = {}
    for cap in caps:  # the cap whose period holds the week's last day
        cp = parse_period(cap.period, period.zone)
        if cp.first <= period.stop - timedelta(days=1) < cp.stop or cap.enterprise_id not in by_ent:
            by_ent[cap.enterprise_id] = cap
    ids = sorted(by_ent)
    figures = metered_figures(session, ids, period.start, period.end)
    ops = meter_operation(session, ids, period.start, period.end)
    uses = {u.cap.enterprise_id: u for u in cap_uses(session, list(by_ent.values()), period.stop,
                                                     period.zone)}  # fmt: skip
    sups: dict[int, list[str]] = {}
    for s in supervisors(session, principal, city=city, on=period.stop - timedelta(days=1)):
        sups.setdefault(s.enterprise_id, []).append(s.name)
    log_days: dict[int, int] = {}
    for log in logs_of_week(session, principal, period.label, city=city):
        eid = log.supervisor.enterprise_id
        log_days[eid] = log_days.get(eid, 0) + log.days_on_site
    rows = []
    for eid in ids:
        cap, fig, op, use = by_ent[eid], figures[eid], ops[eid], uses[eid]
        ent = cap.enterprise
        output = fig.output_of(cap.product)
        rows.append({
            "uscc": ent.uscc, "enterprise": ent.name, "region_code": ent.region_code,
            "industry": ent.industry, "product": cap.product,
            "output_t": output, "energy_tce": fig.energy_tce, "coal_t": fig.coal_t,
            "electricity_kwh": fig.electricity_kwh,
            "reported_output_t": output, "reported_energy_tce": fig.energy_tce,
            "reported_coal_t": fig.coal_t,
            "meters": op.meters, "online_fraction": op.online_fraction,
            "calibration_overdue": op.calibration_overdue, "anomalies": op.anomalies,
            "findings": op.findings,
            "cap_period": cap.period, "cap_output_t": cap.output_t,
            "cap_energy_tce": cap.energy_tce, "cap_coal_t": cap.coal_t,
            "cum_output_t": use.output_t, "cum_energy_tce": use.energy_tce,
            "cum_coal_t": use.coal_t, "elapsed_fraction": use.elapsed_fraction,
            "breaches": use.breaches, "supervisors": sups.get(eid, []),
            "log_days": log_days.get(eid), "notes": fig.notes,
        })  # fmt: skip
    return rows


def _may_report(principal: Principal, city_code: str) -> None:
    if principal.role is Role.ADMIN:
        return
    if principal.role is not Role.CITY or not region_in_scope(principal, city_code):
        raise PermissionDeniedError("only the city's own users report its week")


def find_report(
    session: Session, principal: Principal, city: str, week: str
) -> WeeklyReport | None:
    """The city's report of ``week`` if it exists and the principal may see it."""
    code = _city(city)
    if not region_in_scope(principal, code) and principal.role is not Role.PROVINCE:
        raise NotFoundError(f"city {city} not found")
    return session.scalar(
        select(WeeklyReport)
        .where(WeeklyReport.city_code == code, WeeklyReport.week == week)
        .options(selectinload(WeeklyReport.signatures))
    )


@dataclass
class WeekView:
    """A city's week: its stored report, or the rows computed now when there is none."""

    city_code: str
    week: str
    status: str
    """``none`` (not generated), ``draft`` or ``submitted``."""
    rows: list[dict[str, Any]]
    report: WeeklyReport | None
    signatures: list[WeeklySignature]


def week_view(
    session: Session, principal: Principal, city: str, week: str, *, zone: Any
) -> WeekView:
    """What the city's report of ``week`` says now (the stored snapshot if generated)."""
    code, period = _city(city), week_period(week, zone)
    report = find_report(session, principal, code, period.label)
    if report is not None:
        return WeekView(code, period.label, report.status, list(report.rows), report,
                        list(report.signatures))  # fmt: skip
    rows = compute_rows(session, principal, code, period)
    return WeekView(code, period.label, "none", rows, None, [])


def report_by_id(session: Session, principal: Principal, report_id: int) -> WeeklyReport:
    report = session.get(WeeklyReport, report_id)
    if report is None or not region_in_scope(principal, report.city_code):
        raise NotFoundError(f"weekly report {report_id} not found")
    return report


def generate(
    session: Session, principal: Principal, city: str, week: str, *, zone: Any,
    now: datetime | None = None,
) -> WeeklyReport:  # fmt: skip
    """Create or refresh the city's draft of ``week`` from metered data (signatures voided)."""
    code, period = _city(city), week_period(week, zone)
    _may_report(principal, code)
    report = find_report(session, principal, code, period.label)
    if report is not None and report.status == "submitted":
        raise InputError(f"the report of {period.label} was submitted; it cannot change",
                         field="week")  # fmt: skip
    rows = compute_rows(session, principal, code, period)
    if report is None:
        report = WeeklyReport(city_code=code, week=period.label, generated_by=principal.subject)
        session.add(report)
    report.rows = rows
    report.generated_at, report.generated_by = now or datetime.now(UTC), principal.subject
    _void_signatures(session, report)
    session.flush()
    return report


def _void_signatures(session: Session, report: WeeklyReport) -> None:
    for sig in list(report.signatures):
        session.delete(sig)
    session.flush()
    session.expire(report, ["signatures"])


def correct(
    session: Session, principal: Principal, report_id: int, uscc: str, key: str, value: float
) -> WeeklyReport:
    """Set a reported figure of one enterprise (voids the signatures)."""
    report = report_by_id(session, principal, report_id)
    _may_report(principal, report.city_code)
    if report.status == "submitted":
        raise InputError("a submitted report cannot change", field="status")
    if key not in REPORTED:
        raise InputError(f"only {', '.join(REPORTED)} may be corrected", field="field")
    if value < 0:
        raise InputError("a figure cannot be negative", field="value")
    rows = [dict(r) for r in report.rows]
    for r in rows:
        if r["uscc"] == uscc:
            r[f"reported_{key}"] = value
            break
    else:
        raise NotFoundError(f"no enterprise {uscc} in this report")
    report.rows = rows
    _void_signatures(session, report)
    session.flush()
    return report


def sign(
    session: Session, principal: Principal, report_id: int, department: str, opinion: str = "",
    *, now: datetime | None = None,
) -> WeeklySignature:  # fmt: skip
    """One department's signature (会签) of a draft."""
    report = report_by_id(session, principal, report_id)
    _may_report(principal, report.city_code)
    if department not in DEPARTMENTS:
        raise InputError(f"department must be one of {', '.join(DEPARTMENTS)}", field="department")
    if report.status == "submitted":
        raise InputError("the report was submitted already", field="status")
    works_for = recorded_department(session, principal)
    if works_for is not None and works_for != department:
        raise PermissionDeniedError(f"{principal.subject} signs for {works_for}, not {department}")
    if any(s.department == department for s in report.signatures):
        raise InputError(f"{department} has signed this report already", field="department")
    sig = WeeklySignature(report_id=report.id, department=department, signer=principal.subject,
                          opinion=opinion, signed_at=now or datetime.now(UTC))  # fmt: skip
    session.add(sig)
    session.flush()
    session.expire(report, ["signatures"])
    return sig


def submit(
    session: Session, principal: Principal, report_id: int, *, now: datetime | None = None
) -> WeeklyReport:
    """Submit a draft signed by all four departments to the province."""
    report = report_by_id(session, principal, report_id)
    _may_report(principal, report.city_code)
    if report.status == "submitted":
        raise InputError("the report was submitted already", field="status")
    missing = [d for d in DEPARTMENTS if d not in {s.department for s in report.signatures}]
    if missing:
        raise InputError(f"not yet signed by {', '.join(missing)}", field="signatures")
    report.status, report.submitted_at = "submitted", now or datetime.now(UTC)
    report.submitted_by = principal.subject
    session.flush()
    return report


def differences(row: dict[str, Any], tolerance_fraction: float) -> list[str]:
    """The reported figures that differ from metering by more than the tolerance."""
    out = []
    for key in REPORTED:
        metered, reported = row.get(key), row.get(f"reported_{key}")
        if metered is None and reported is None:
            continue
        if metered is None or reported is None:
            out.append(key)
        elif abs(reported - metered) > tolerance_fraction * max(abs(metered), 1e-9):
            out.append(key)
    return out


@dataclass
class CityWeek:
    """One city's week as the province sees it."""

    city_code: str
    name_zh: str
    name_en: str
    enterprises: int
    status: str
    """``missing`` (no report), ``draft`` or ``submitted``."""
    signed: list[str]
    due_at: datetime
    submitted_at: datetime | None
    late: bool
    report_id: int | None
    differences: list[dict[str, Any]] = field(default_factory=list)
    breaches: list[dict[str, Any]] = field(default_factory=list)


def province_week(
    session: Session, principal: Principal, week: str, *, zone: Any, due_h: float,
    tolerance_fraction: float, now: datetime | None = None,
) -> list[CityWeek]:  # fmt: skip
    """Every city with production-controlled enterprises in ``week``, late ones first; cap
    breaches come from metering (to the week's end), whether or not the city reported."""
    if principal.role not in (Role.ADMIN, Role.PROVINCE):
        raise PermissionDeniedError("the province's view is for province users")
    period = week_period(week, zone)
    now = now or datetime.now(UTC)
    due_at = period.end + timedelta(hours=due_h)
    caps = caps_in(session, principal, period)
    counts: dict[str, set[int]] = {}
    for cap in caps:
        counts.setdefault(cap.enterprise.region_code[:4] + "00", set()).add(cap.enterprise_id)
    breaches: dict[str, list[dict[str, Any]]] = {}
    for use in cap_uses(session, caps, period.stop, period.zone):
        if use.breaches:
            ent = use.cap.enterprise
            breaches.setdefault(ent.region_code[:4] + "00", []).append(
                {"uscc": ent.uscc, "enterprise": ent.name, "fields": use.breaches,
                 "cap_period": use.cap.period}
            )  # fmt: skip
    reports = {
        r.city_code: r
        for r in session.scalars(
            select(WeeklyReport).where(WeeklyReport.week == period.label)
            .options(selectinload(WeeklyReport.signatures))
        )
    }  # fmt: skip
    names = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(counts)))}
    out = []
    for code in sorted(counts):
        rep = reports.get(code)
        submitted_at = rep.submitted_at if rep and rep.status == "submitted" else None
        late = submitted_at > due_at if submitted_at else now > due_at
        cw = CityWeek(code, names[code].name_zh if code in names else code,
                      names[code].name_en if code in names else code, len(counts[code]),
                      rep.status if rep else "missing",
                      sorted(s.department for s in rep.signatures) if rep else [],
                      due_at, submitted_at, late, rep.id if rep else None,
                      breaches=breaches.get(code, []))  # fmt: skip
        for row in rep.rows if rep else []:
            if diff := differences(row, tolerance_fraction):
                cw.differences.append({"uscc": row["uscc"], "enterprise": row["enterprise"],
                                       "fields": diff})  # fmt: skip
        out.append(cw)
    out.sort(key=lambda c: (not c.late, c.city_code))
    return out


__all__ = [
    "REPORTED",
    "CityWeek",
    "compute_rows",
    "correct",
    "differences",
    "find_report",
    "generate",
    "province_week",
    "report_by_id",
    "sign",
    "submit",
    "week_view",
    "WeekView",
]
