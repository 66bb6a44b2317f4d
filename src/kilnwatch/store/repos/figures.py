"""Read queries behind the pages' figures: sums of monthly rollups of entry meters, sales,
open findings, meters' last readings, coverage. All scoped through ``scope.py``; no raw scans.

Entry meters (进出用能单位计量, GB 17167 level 1) measure what crosses the enterprise's
boundary, so their sums are the enterprise's consumption (GB/T 2589 comprehensive energy
consumption is counted at the boundary); sub-unit and equipment meters are not added to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.identity import Principal
from kilnwatch.store.models import (
    DeadLetter,
    EnergyFactor,
    Enterprise,
    FindingEvent,
    FindingRecord,
    ForwardDevice,
    ForwardFrame,
    ForwardTarget,
    Gateway,
    IngestBatch,
    Meter,
    Rollup,
    TaxInvoice,
    VerificationRun,
)
from kilnwatch.store.repos.scope import enterprise_scope


@dataclass(frozen=True)
class Where:
    """Which enterprises: the principal's jurisdiction, narrowed to a region or one enterprise."""

    principal: Principal
    region_code: str | None = None
    enterprise_id: int | None = None

    def enterprises(self) -> list[ColumnElement[bool]]:
        conds = [enterprise_scope(self.principal)]
        if self.region_code:
            conds.append(Enterprise.region_code.startswith(region_prefix(self.region_code)))
        if self.enterprise_id is not None:
            conds.append(Enterprise.id == self.enterprise_id)
        return conds


@dataclass(frozen=True, slots=True)
class EnterpriseFacts:
    id: int
    uscc: str
    name: str
    region_code: str
    industry: str
    status: str


def enterprises_in(session: Session, where: Where) -> list[EnterpriseFacts]:
    stmt = select(
        Enterprise.id, Enterprise.uscc, Enterprise.name, Enterprise.region_code,
        Enterprise.industry, Enterprise.status,
    ).where(*where.enterprises()).order_by(Enterprise.id)  # fmt: skip
    return [EnterpriseFacts(*row) for row in session.execute(stmt)]


def rollups_in(
    where: Where, grain: str, start: datetime, end: datetime, *columns: Any
) -> Select[Any]:
    """``columns`` of the ``grain`` rollups of [start, end) of the meters in scope."""
    return (
        select(*columns)
        .join(Meter, Meter.id == Rollup.meter_id)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(*where.enterprises(), Rollup.grain == grain)
        .where(Rollup.period_start >= start, Rollup.period_start < end)
    )


@dataclass(frozen=True, slots=True)
class CarrierSum:
    """Σ of one enterprise's entry meters of one carrier and unit over one month."""

    enterprise_id: int
    carrier: str
    unit_of_measure: str
    month_start: datetime
    quantity: float
    readings: int


def entry_sums(session: Session, where: Where, start: datetime, end: datetime) -> list[CarrierSum]:
    """Monthly sums of the entry meters' consumption (counter and interval meters)."""
    keys = (Meter.enterprise_id, Meter.carrier, Meter.unit_of_measure, Rollup.period_start)
    stmt = (
        rollups_in(
            where, "month", start, end, *keys, func.sum(Rollup.sum), func.sum(Rollup.count)
        )  # fmt: skip
        .where(Meter.level == "entry", Meter.measurement != "instant")
        .group_by(*keys)
    )
    return [
        CarrierSum(int(e), c, u, p, float(q), int(n)) for e, c, u, p, q, n in session.execute(stmt)
    ]


def sales_by_month(
    session: Session, where: Where, first_day: date, last_day: date
) -> list[tuple[int, str, float]]:
    """(enterprise, ``YYYY-MM``, Σ sales amount [CNY]) from VAT invoices (增值税发票)."""
    month = func.substr(cast(TaxInvoice.issued_on, String), 1, 7)
    stmt = (
        select(TaxInvoice.enterprise_id, month, func.sum(TaxInvoice.amount_cny))
        .join(Enterprise, Enterprise.id == TaxInvoice.enterprise_id)
        .where(*where.enterprises(), TaxInvoice.direction == "sale")
        .where(TaxInvoice.issued_on >= first_day, TaxInvoice.issued_on <= last_day)
        .group_by(TaxInvoice.enterprise_id, month)
    )
    return [(int(e), str(m), float(a or 0.0)) for e, m, a in session.execute(stmt)]


def newest_month(session: Session, where: Where) -> datetime | None:
    """Start of the newest month holding an entry meter's consumption."""
    stmt = (
        select(func.max(Rollup.period_start))
        .join(Meter, Meter.id == Rollup.meter_id)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(*where.enterprises(), Meter.level == "entry", Meter.measurement != "instant")
        .where(Rollup.grain == "month")
    )
    return session.scalar(stmt)


def open_findings(
    session: Session, where: Where, statuses: Sequence[str] = ("open",)
) -> list[tuple[int, str, int, float]]:
    """(enterprise, severity, count, Σ magnitude [tce]) of findings in ``statuses``."""
    stmt = (
        select(
            FindingRecord.enterprise_id,
            FindingRecord.severity,
            func.count(FindingRecord.id),
            func.sum(FindingRecord.magnitude_tce),
        )  # fmt: skip
        .join(Enterprise, Enterprise.id == FindingRecord.enterprise_id)
        .where(*where.enterprises(), FindingRecord.status.in_(list(statuses)))
        .group_by(FindingRecord.enterprise_id, FindingRecord.severity)
    )
    return [(int(e), s, int(n), float(t or 0.0)) for e, s, n, t in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class MeterSeen:
    meter_id: int
    enterprise_id: int
    gateway_id: int | None
    last_at: datetime | None


def meters_last_seen(session: Session, where: Where) -> list[MeterSeen]:
    """Every meter in scope with the time of its newest reading: the largest ``last_ts`` of
    its monthly rollups (read through ``ix_rollups_coarse_period``)."""
    in_scope = select(Meter.id).join(Enterprise, Enterprise.id == Meter.enterprise_id)
    last = (
        select(Rollup.meter_id, func.max(Rollup.last_ts).label("last_ts"))
        .where(Rollup.grain == "month", Rollup.meter_id.in_(in_scope.where(*where.enterprises())))
        .group_by(Rollup.meter_id)
        .subquery()
    )
    stmt = (
        select(Meter.id, Meter.enterprise_id, Meter.gateway_id, last.c.last_ts)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .outerjoin(last, last.c.meter_id == Meter.id)
        .where(*where.enterprises())
    )
    return [MeterSeen(m, e, g, ts) for m, e, g, ts in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Coverage:
    """A meter's readings over a period: days with data, readings, the busiest day's count."""

    meter_id: int
    days: int
    readings: int
    max_per_day: int


def coverage(session: Session, where: Where, start: datetime, end: datetime) -> list[Coverage]:
    """Per meter in scope, from the daily rollups of [start, end)."""
    stmt = rollups_in(
        where, "day", start, end, Rollup.meter_id, func.count(Rollup.period_start),
        func.sum(Rollup.count), func.max(Rollup.count),
    ).group_by(Rollup.meter_id)  # fmt: skip
    return [
        Coverage(int(m), int(d), int(n or 0), int(x or 0)) for m, d, n, x in session.execute(stmt)
    ]


def dead_letter_counts(session: Session, where: Where, since: datetime) -> list[tuple[str, int]]:
    """(reason, count) of rejected values since ``since`` within scope (unknown senders:
    administrators only, as in ``dead_letters.list_dead_letters``)."""
    stmt = select(DeadLetter.reason, func.count(DeadLetter.id)).where(
        DeadLetter.received_at >= since
    )
    if not where.principal.sees_everything or where.region_code or where.enterprise_id:
        ids = select(Enterprise.id).where(*where.enterprises())
        stmt = stmt.where(DeadLetter.enterprise_id.in_(ids))
    stmt = stmt.group_by(DeadLetter.reason).order_by(func.count(DeadLetter.id).desc())
    return [(str(r), int(n)) for r, n in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class ForwardQueueRow:
    """The forwarding queue of one upstream target, counted over the frames of the devices
    (gateways) in scope (docs/collection.md, "Forwarding")."""

    target: str
    address: str
    active: bool
    counts: dict[str, int]
    oldest_pending_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None


def forward_queues(session: Session, where: Where) -> list[ForwardQueueRow]:
    """Frames per state, the oldest pending DataTime, the next attempt and the newest error
    of each forwarding target, counting only frames of gateways in scope."""
    in_scope = (
        select(ForwardFrame.id)
        .join(ForwardDevice, ForwardDevice.id == ForwardFrame.device_id)
        .join(Gateway, Gateway.id == ForwardDevice.gateway_id)
        .join(Enterprise, Enterprise.id == Gateway.enterprise_id)
        .where(*where.enterprises())
    )
    frames = select(ForwardFrame).where(ForwardFrame.id.in_(in_scope)).subquery()
    pending = frames.c.state == "pending"
    stmt = (
        select(frames.c.target_id, frames.c.state, func.count(),
               func.min(frames.c.data_time).filter(pending),
               func.min(frames.c.next_attempt_at).filter(pending))
        .group_by(frames.c.target_id, frames.c.state)
    )  # fmt: skip
    found: dict[int, list[Any]] = {}
    for target_id, state, n, oldest, due in session.execute(stmt):
        row = found.setdefault(target_id, [{}, None, None])
        row[0][state] = int(n)
        if state == "pending":
            row[1], row[2] = oldest, due
    rows = []
    for t in session.scalars(select(ForwardTarget).order_by(ForwardTarget.name)):
        if t.id not in found and not where.principal.sees_everything:
            continue
        error = session.scalar(
            select(frames.c.last_error)
            .where(frames.c.target_id == t.id, frames.c.last_error.is_not(None))
            .order_by(frames.c.last_attempt_at.desc())
            .limit(1)
        )
        counts, oldest, due = found.get(t.id, [{}, None, None])
        rows.append(ForwardQueueRow(t.name, f"{t.host}:{t.port}", t.active, counts, oldest,
                                    due, error))  # fmt: skip
    return rows


def gateways_in(session: Session, where: Where) -> list[tuple[int, str, int, str, datetime | None]]:
    """(gateway id, code, enterprise id, protocol, newest delivery received) in scope."""
    newest = (
        select(IngestBatch.gateway_id, func.max(IngestBatch.received_at).label("at"))
        .where(IngestBatch.gateway_id.is_not(None))
        .group_by(IngestBatch.gateway_id)
        .subquery()
    )
    stmt = (
        select(Gateway.id, Gateway.code, Gateway.enterprise_id, Gateway.protocol, newest.c.at)
        .join(Enterprise, Enterprise.id == Gateway.enterprise_id)
        .outerjoin(newest, newest.c.gateway_id == Gateway.id)
        .where(*where.enterprises(), Gateway.active)
        .order_by(Gateway.code)
    )
    return [(int(i), c, int(e), p, at) for i, c, e, p, at in session.execute(stmt)]


def data_version(session: Session) -> tuple[int, ...]:
    """Changes whenever data that figures depend on changes: a new delivery, verification run,
    registry row, sales invoice, refinery energy factor or action on a finding (ids only
    grow)."""
    stmt = select(
        select(func.max(IngestBatch.id)).scalar_subquery(),
        select(func.max(VerificationRun.id)).scalar_subquery(),
        select(func.max(Enterprise.id)).scalar_subquery(),
        select(func.max(Meter.id)).scalar_subquery(),
        select(func.count(Meter.id)).scalar_subquery(),
        select(func.max(FindingEvent.id)).scalar_subquery(),
        select(func.max(TaxInvoice.id)).scalar_subquery(),
        select(func.max(EnergyFactor.id)).scalar_subquery(),
    )
    row = session.execute(stmt).one()
    return tuple(int(v or 0) for v in row)


def period_fingerprint(session: Session, start: datetime, end: datetime) -> tuple[Any, ...]:
    """What the figures of [start, end) are computed from, condensed: the monthly rollups of
    every meter (rows, readings, Σ values, newest reading), the registry's enterprises and
    meters, refinery energy factors, and the sales invoices of the range. Equal fingerprints
    mean a period's figures need not be computed again when data of *another* period arrived
    (the rollups are read through ``ix_rollups_coarse_period``)."""
    months = select(
        func.count(),
        func.sum(Rollup.count),
        func.sum(Rollup.sum),
        func.max(Rollup.last_ts),
        func.sum(Rollup.meter_id * Rollup.count),
        select(func.max(Enterprise.id)).scalar_subquery(),
        select(func.max(Meter.id)).scalar_subquery(),
        select(func.count(Meter.id)).scalar_subquery(),
        select(func.max(EnergyFactor.id)).scalar_subquery(),
    ).where(Rollup.grain == "month", Rollup.period_start >= start, Rollup.period_start < end)
    sales = select(func.count(), func.sum(TaxInvoice.amount_cny), func.max(TaxInvoice.id)).where(
        TaxInvoice.issued_on >= start.date() - timedelta(days=1),
        TaxInvoice.issued_on <= end.date() + timedelta(days=1),
    )
    return (*session.execute(months).one(), *session.execute(sales).one())


def calibration_overdue(session: Session, where: Where, today: date) -> list[Meter]:
    stmt = (
        select(Meter)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(*where.enterprises(), Meter.calibration_due_on < today)
        .order_by(Meter.calibration_due_on)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class DailySum:
    carrier: str
    unit_of_measure: str
    level: str
    measurement: str
    day_start: datetime
    quantity: float
    readings: int


def daily_sums(
    session: Session, where: Where, start: datetime, end: datetime, unit_id: int | None = None
) -> list[DailySum]:
    """Daily sums per carrier and meter level of the enterprises (or one unit) in scope."""
    keys = (Meter.carrier, Meter.unit_of_measure, Meter.level, Meter.measurement,
            Rollup.period_start)  # fmt: skip
    stmt = (
        rollups_in(where, "day", start, end, *keys, func.sum(Rollup.sum), func.sum(Rollup.count))
        .where(Meter.measurement != "instant")
        .group_by(*keys)
        .order_by(Rollup.period_start)
    )
    if unit_id is not None:
        stmt = stmt.where(Meter.unit_id == unit_id, Meter.level == "sub_unit")
    return [
        DailySum(c, u, lv, ms, p, float(q), int(n))
        for c, u, lv, ms, p, q, n in session.execute(stmt)
    ]
