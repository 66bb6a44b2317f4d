"""The metering census of each enterprise: required vs installed instruments per level and
carrier, configuration rate against GB 17167-2006 Table 3, accuracy classes against
Table 4, calibration due dates, and every gap named (:mod:`.gaps`).

References
----------
.. [1] GB 17167-2006, clause 3.2 (配备率), 4.3.5 and Table 3 (rates), 4.3.8 and Table 4 (accuracy),
   5.3.1 (instrument list with status 合格/准用/停用), 5.3.6 (periodic verification; an
   instrument failing it or past its period is not used).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.metering import gaps as g
from kilnwatch.metering.compliance import (
    configuration_rate_pct,
    meets_accuracy,
    parse_accuracy_class,
    rate_meets,
)
from kilnwatch.reference.metering import (
    LEVELS,
    accuracy_requirement,
    carrier_group,
    load_configuration_rates,
)
from kilnwatch.store.models import Enterprise, Meter, MeterCalibration, MeteringPoint
from kilnwatch.store.repos.scope import enterprise_scope

DEFAULT_ALERT_DAYS = 30
"""Days before a calibration is due at which it is flagged ``due_soon`` (a setting of
:func:`enterprise_census`; policy default, one month of notice to book the verification)."""


def census_day(last_day: date, today: date) -> date:
    """The day a census over a period is taken: today, at the latest the period's last day."""
    return min(today, last_day)


@dataclass(frozen=True)
class CensusRow:
    """One enterprise, carrier and level: required and installed instruments, the rate."""

    carrier: str
    carrier_group: str
    level: str
    required: int
    installed: int
    rate_pct: float | None
    min_pct: float | None
    missing: tuple[str, ...]
    """Codes of the required points without an instrument."""
    accuracy_faults: int
    meets: bool
    """Whether the rate meets GB 17167 Table 3 for this level and carrier."""


@dataclass
class EnterpriseCensus:
    """The census of one enterprise and its gaps."""

    enterprise_id: int
    uscc: str
    name: str
    region_code: str
    industry: str
    rows: list[CensusRow] = field(default_factory=list)
    gaps: list[g.Gap] = field(default_factory=list)
    meters: int = 0
    unlinked_meters: int = 0
    """Meters of the registry that answer no declared point (not counted in the rates)."""

    @property
    def has_census(self) -> bool:
        return bool(self.rows)

    @property
    def configured(self) -> bool:
        """Every level and carrier meets its configuration rate and accuracy class."""
        codes = {*g.CONFIGURATION_CODES, *g.ACCURACY_CODES} - {g.MISSING_INSTRUMENT}
        return self.has_census and not any(x.code in codes for x in self.gaps)

    def count(self, *codes: str) -> int:
        """Number of gaps with one of ``codes``."""
        return sum(x.code in codes for x in self.gaps)


def _rows_for(
    ent_id: int, points: Sequence[MeteringPoint], meters: dict[int, Meter], out: list[g.Gap]
) -> list[CensusRow]:
    rates = load_configuration_rates()
    by_key: dict[tuple[str, str], list[MeteringPoint]] = defaultdict(list)
    for p in points:
        by_key[(p.carrier, p.level)].append(p)
    rows = []
    for (carrier, level), pts in sorted(
        by_key.items(), key=lambda kv: (kv[0][0], LEVELS.index(kv[0][1]))
    ):
        group = carrier_group(carrier)
        table_row = rates.get(group)
        min_pct = table_row.min_pct(level) if table_row else None
        missing = tuple(p.code for p in pts if p.meter_id is None)
        out += [
            g.Gap(g.MISSING_INSTRUMENT, ent_id, carrier, level, p.code, None,
                  {"name": p.name, "planned_on": p.planned_on.isoformat() if p.planned_on
                   else None})
            for p in pts if p.meter_id is None
        ]  # fmt: skip
        faults = _accuracy_gaps(ent_id, [p for p in pts if p.meter_id is not None], meters)
        out += faults
        rate = configuration_rate_pct(len(pts) - len(missing), len(pts))
        row = CensusRow(carrier, group, level, len(pts), len(pts) - len(missing), rate, min_pct,
                        missing, len(faults), rate_meets(rate, min_pct))  # fmt: skip
        if not row.meets:
            out.append(
                g.Gap(g.RATE_BELOW_MINIMUM, ent_id, carrier, level,
                      evidence={"rate_pct": rate, "min_pct": min_pct, "required": len(pts),
                                "installed": row.installed,
                                "clause": table_row.clause if table_row else ""})
            )  # fmt: skip
        rows.append(row)
    return rows


def _accuracy_gaps(
    ent_id: int, points: Iterable[MeteringPoint], meters: dict[int, Meter]
) -> list[g.Gap]:
    out = []
    for p in points:
        meter = meters[p.meter_id or 0]
        need = accuracy_requirement(p.carrier, p.level, p.accuracy_variant)
        if need is None or meets_accuracy(meter.accuracy_class, need.required_class):
            continue
        code = g.ACCURACY_UNKNOWN if parse_accuracy_class(meter.accuracy_class) is None else (
            g.ACCURACY_BELOW)  # fmt: skip
        out.append(
            g.Gap(code, ent_id, p.carrier, p.level, p.code, meter.code,
                  {"installed_class": meter.accuracy_class, "required_class": need.required_class,
                   "variant": need.variant, "clause": need.clause})
        )  # fmt: skip
    return out


def calibration_gaps(
    meter: Meter, latest_result: str | None, as_of: date, alert_days: int = DEFAULT_ALERT_DAYS
) -> list[g.Gap]:
    """Calibration gaps of one meter on ``as_of`` (GB 17167-2006 5.3.6: verified within its
    period; an instrument whose latest certificate says 停用 is out of service)."""
    due = meter.calibration_due_on
    out = []

    def gap(code: str, **evidence: object) -> None:
        out.append(g.Gap(code, meter.enterprise_id, meter.carrier, meter.level, None,
                         meter.code, dict(evidence)))  # fmt: skip

    if latest_result == "fail":
        gap(g.CALIBRATION_FAILED, result="fail")
    if due is None:
        gap(g.CALIBRATION_MISSING)
    elif due < as_of:
        gap(g.CALIBRATION_OVERDUE, due_on=due.isoformat(), days_overdue=(as_of - due).days)
    elif due <= as_of + timedelta(days=alert_days):
        gap(g.CALIBRATION_DUE_SOON, due_on=due.isoformat(), days_left=(due - as_of).days)
    return out


def latest_results(session: Session, meter_ids: Sequence[int]) -> dict[int, str]:
    """The result of each meter's latest certificate (by calibration date)."""
    if not meter_ids:
        return {}
    latest = (
        select(MeterCalibration.meter_id, func.max(MeterCalibration.calibrated_on).label("on"))
        .where(MeterCalibration.meter_id.in_(meter_ids))
        .group_by(MeterCalibration.meter_id)
        .subquery()
    )
    rows = session.execute(
        select(MeterCalibration.meter_id, MeterCalibration.result).join(
            latest,
            (latest.c.meter_id == MeterCalibration.meter_id)
            & (latest.c.on == MeterCalibration.calibrated_on),
        )
    )
    return {int(m): str(r) for m, r in rows}


def enterprise_census(
    session: Session,
    principal: Principal,
    as_of: date,
    *,
    enterprise_ids: Sequence[int] | None = None,
    region_prefix: str | None = None,
    alert_days: int = DEFAULT_ALERT_DAYS,
) -> list[EnterpriseCensus]:
    """The census of every enterprise the principal sees (optionally only ``enterprise_ids``
    or those whose division code starts with ``region_prefix``), ordered by credit code."""
    query = select(Enterprise).where(enterprise_scope(principal)).order_by(Enterprise.uscc)
    if enterprise_ids is not None:
        query = query.where(Enterprise.id.in_(enterprise_ids))
    if region_prefix:
        query = query.where(Enterprise.region_code.startswith(region_prefix))
    enterprises = list(session.scalars(query))
    ids = [e.id for e in enterprises]
    points: dict[int, list[MeteringPoint]] = defaultdict(list)
    meters: dict[int, list[Meter]] = defaultdict(list)
    for p in session.scalars(select(MeteringPoint).where(MeteringPoint.enterprise_id.in_(ids))):
        points[p.enterprise_id].append(p)
    for m in session.scalars(select(Meter).where(Meter.enterprise_id.in_(ids))):
        meters[m.enterprise_id].append(m)
    results = latest_results(session, [m.id for ms in meters.values() for m in ms])
    out = []
    for e in enterprises:
        census = EnterpriseCensus(e.id, e.uscc, e.name, e.region_code, e.industry)
        by_id = {m.id: m for m in meters[e.id]}
        census.rows = _rows_for(e.id, points[e.id], by_id, census.gaps)
        if not census.rows:
            census.gaps.append(g.Gap(g.CENSUS_MISSING, e.id))
        for m in meters[e.id]:
            census.gaps += calibration_gaps(m, results.get(m.id), as_of, alert_days)
        linked = {p.meter_id for p in points[e.id]}
        census.meters = len(by_id)
        census.unlinked_meters = sum(m not in linked for m in by_id)
        out.append(census)
    return out
