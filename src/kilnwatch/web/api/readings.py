"""A meter's readings and rollups: ``GET /api/v1/meters/{id}/readings``.

``resolution``: ``raw`` (each reading; the newest version per timestamp unless
``versions=all``), ``hour``, ``day`` or ``month`` (the rollups). ``value`` is, per period, the
consumption (counter meters: register differences), the total (interval meters) or the mean
(instant meters). Paged by time: at most ``limit`` items from ``start``; when more remain,
``next_start`` is the ``start`` of the next page. Raw windows are bounded to
``RAW_MAX_DAYS`` days so that a page never scans a meter's whole history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from kilnwatch.domain.periods import local_instant
from kilnwatch.errors import InputError
from kilnwatch.store.models import SOURCE_NAMES
from kilnwatch.store.repos.readings import meter_in_scope, raw_readings, rollup_rows, span_of
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(tags=["readings"])

RAW_MAX_DAYS = 31
DEFAULT_SPAN = {"raw": timedelta(days=2), "hour": timedelta(days=14),
                "day": timedelta(days=400), "month": timedelta(days=3660)}  # fmt: skip
Resolution = Literal["raw", "hour", "day", "month"]


class ReadingPoint(BaseModel):
    at: datetime
    at_local: str
    value: float
    count: int | None = None
    min: float | None = None
    max: float | None = None
    version: int | None = None
    versions: int | None = None
    flag: str | None = None
    source: str | None = None
    batch_id: int | None = None
    received_at: datetime | None = None


class ReadingsPage(BaseModel):
    meter_id: int
    meter_code: str
    unit: str
    measurement: str
    resolution: str
    start: datetime
    end: datetime
    items: list[ReadingPoint]
    next_start: datetime | None
    summary: str


@router.get("/meters/{meter_id}/readings")
def meter_readings(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    meter_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Resolution = "day",
    versions: Literal["latest", "all"] = "latest",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 5000,
) -> ReadingsPage:
    """A meter's series between ``start`` and ``end`` (ISO 8601; naive times are local)."""
    meter = meter_in_scope(session, principal, meter_id)
    tz = settings.timezone
    start = local_instant(start, settings.zone) if start is not None else None
    end = local_instant(end, settings.zone) if end is not None else None
    if end is None:
        last = span_of(session, meter.id)[1]
        end = (last + timedelta(microseconds=1)) if last else datetime.now(UTC)
    start = start or end - DEFAULT_SPAN[resolution]
    if start >= end:
        raise InputError("start must be before end", field="start")
    if resolution == "raw" and end - start > timedelta(days=RAW_MAX_DAYS):
        raise InputError(f"raw readings: at most {RAW_MAX_DAYS} days per request", field="end")
    zone = ZoneInfo(tz)
    fmt = "%Y-%m-%d %H:%M" if resolution in ("raw", "hour") else "%Y-%m-%d"
    items: list[ReadingPoint] = []
    if resolution == "raw":
        rows = raw_readings(session, meter.id, start, end, limit + 1, versions == "all")
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            ReadingPoint(
                at=r.ts,
                at_local=r.ts.astimezone(zone).strftime(fmt),
                value=r.value,
                version=r.version,
                versions=r.versions,
                flag=r.flag,
                source=SOURCE_NAMES.get(r.source, str(r.source)),
                batch_id=r.batch_id,
                received_at=r.received_at,
            )  # fmt: skip
            for r in rows
        ]
    else:
        agg = rollup_rows(session, meter.id, resolution, start, end, limit + 1)
        more = len(agg) > limit
        agg = agg[:limit]
        mean = meter.measurement == "instant"
        items = [
            ReadingPoint(
                at=r.period_start,
                at_local=r.period_start.astimezone(zone).strftime(fmt),
                value=(r.sum / r.count if mean and r.count else r.sum),
                count=r.count,
                min=r.min,
                max=r.max,
            )  # fmt: skip
            for r in agg
        ]
    next_start = None
    if more and items:
        next_start = items[-1].at + timedelta(microseconds=1)
    kind = "mean" if meter.measurement == "instant" and resolution != "raw" else "value"
    summary = f"{len(items)} {resolution} points ({kind}), {start.isoformat()} to {end.isoformat()}"
    return ReadingsPage(
        meter_id=meter.id, meter_code=meter.code, unit=meter.unit_of_measure,
        measurement=meter.measurement, resolution=resolution, start=start, end=end,
        items=items, next_start=next_start, summary=summary,
    )  # fmt: skip
