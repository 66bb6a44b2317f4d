"""Reading a meter's series: raw readings (every version, or the newest per timestamp) and its
rollups, in time order, paged by time. Flushes nothing; the meter is looked up scoped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.store.models import IngestBatch, Meter, Reading, Rollup
from kilnwatch.store.repos.registry import get_owned


def meter_in_scope(session: Session, principal: Principal, meter_id: int) -> Meter:
    found: Meter = get_owned(session, principal, Meter, meter_id)
    return found


@dataclass(frozen=True, slots=True)
class RawReading:
    ts: datetime
    version: int
    value: float
    flag: str | None
    source: int
    batch_id: int | None
    received_at: datetime
    versions: int


def raw_readings(
    session: Session,
    meter_id: int,
    start: datetime,
    end: datetime,
    limit: int,
    all_versions: bool = False,
) -> list[RawReading]:
    """Readings with ``start <= ts < end``, oldest first: the newest version of each timestamp
    (with how many versions it has), or every version when ``all_versions``."""
    versions = (
        select(Reading.ts, func.max(Reading.version).label("v"), func.count().label("n"))
        .where(Reading.meter_id == meter_id, Reading.ts >= start, Reading.ts < end)
        .group_by(Reading.ts)
        .subquery()
    )
    cols = (Reading.ts, Reading.version, Reading.value, Reading.flag, Reading.source,
            Reading.batch_id, Reading.received_at, versions.c.n)  # fmt: skip
    join_on = and_(Reading.ts == versions.c.ts, Reading.meter_id == meter_id)
    if not all_versions:
        join_on = and_(join_on, Reading.version == versions.c.v)
    stmt = select(*cols).join(versions, join_on).order_by(Reading.ts, Reading.version).limit(limit)
    return [RawReading(*row) for row in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class RollupRow:
    period_start: datetime
    sum: float
    count: int
    min: float
    max: float
    first: float
    last: float
    last_ts: datetime


def rollup_rows(
    session: Session, meter_id: int, grain: str, start: datetime, end: datetime, limit: int
) -> list[RollupRow]:
    stmt = (
        select(
            Rollup.period_start,
            Rollup.sum,
            Rollup.count,
            Rollup.min,
            Rollup.max,
            Rollup.first,
            Rollup.last,
            Rollup.last_ts,
        )  # fmt: skip
        .where(Rollup.meter_id == meter_id, Rollup.grain == grain)
        .where(Rollup.period_start >= start, Rollup.period_start < end)
        .order_by(Rollup.period_start)
        .limit(limit)
    )
    return [RollupRow(*row) for row in session.execute(stmt)]


def span_of(session: Session, meter_id: int) -> tuple[datetime | None, datetime | None]:
    """First and last reading time of a meter, from its monthly rollups."""
    stmt = select(func.min(Rollup.first_ts), func.max(Rollup.last_ts)).where(
        Rollup.meter_id == meter_id, Rollup.grain == "month"
    )
    first, last = session.execute(stmt).one()
    return first, last


def batches(session: Session, ids: list[int]) -> dict[int, IngestBatch]:
    if not ids:
        return {}
    return {b.id: b for b in session.scalars(select(IngestBatch).where(IngestBatch.id.in_(ids)))}
