"""``/meters/{id}``: the meter's series with zoom (raw 15-minute readings to monthly rollups,
read from ``/api/v1/meters/{id}/readings``), the versions and sources of each value of a day,
and the gaps (hours without a reading) in the last weeks of data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Path
from fastapi.responses import Response

from kilnwatch.errors import InputError
from kilnwatch.store.models import SOURCE_NAMES, Meter
from kilnwatch.store.repos.readings import (
    batches,
    meter_in_scope,
    raw_readings,
    rollup_rows,
    span_of,
)
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import carrier_name, city_of, region_name

router = page_router()
GAP_WINDOW = timedelta(days=31)
RAW_DAY_LIMIT = 2000


def gaps_in(hours: list[datetime], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Spans of whole hours in [start, end) without an hourly rollup."""
    have = set(hours)
    spans: list[dict[str, Any]] = []
    cursor = start
    while cursor < end:
        if cursor not in have:
            gap_start = cursor
            while cursor < end and cursor not in have:
                cursor += timedelta(hours=1)
            spans.append({"from": gap_start, "to": cursor,
                          "hours": int((cursor - gap_start).total_seconds() // 3600)})  # fmt: skip
        cursor += timedelta(hours=1)
    return spans


def _versions_table(env: PageEnv, meter: Meter, day: date) -> Table:
    zone = ZoneInfo(env.tz)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    rows = raw_readings(env.db, meter.id, start, start + timedelta(days=1), RAW_DAY_LIMIT, True)
    refs = batches(env.db, sorted({r.batch_id for r in rows if r.batch_id}))
    out = [
        {"ts": r.ts, "version": r.version, "value": r.value, "flag": r.flag,
         "source": SOURCE_NAMES.get(r.source, str(r.source)), "batch": r.batch_id,
         "ref": refs[r.batch_id].source_ref if r.batch_id in refs else None,
         "received_at": r.received_at, "versions": r.versions,
         "_class": "corrected" if r.versions > 1 else ""}
        for r in rows
    ]  # fmt: skip
    return Table("versions", [
        Col("ts", "col.time", "time"), Col("value", "col.value", "num", 3),
        Col("version", "col.version", "num"), Col("versions", "col.versions", "num"),
        Col("flag", "col.flag"), Col("source", "col.source"), Col("batch", "col.batch", "num"),
        Col("ref", "col.source_ref"), Col("received_at", "col.received_at", "time"),
    ], out, wide=True)  # fmt: skip


@router.get("/meters/{meter_id}")
def meter_page(
    env: SignedIn, meter_id: int = Path(ge=1, le=2**31 - 1), day: str | None = None
) -> Response:
    meter = meter_in_scope(env.db, env.me, meter_id)
    t, zone = env.t, ZoneInfo(env.tz)
    first, last = span_of(env.db, meter.id)
    if day:
        try:
            chosen = date.fromisoformat(day)
        except ValueError as exc:
            raise InputError("day must be YYYY-MM-DD", field="day") from exc
    else:
        chosen = (last or datetime.now(zone)).astimezone(zone).date()
    end = (last + timedelta(microseconds=1)) if last else datetime.now(zone)
    window_start = max(first or end, end - GAP_WINDOW)
    hour0 = window_start.replace(minute=0, second=0, microsecond=0)
    hours = [r.period_start for r in rollup_rows(env.db, meter.id, "hour", hour0, end, 2000)]
    gaps = gaps_in(hours, hour0, end.replace(minute=0, second=0, microsecond=0))
    tables = [
        _versions_table(env, meter, chosen),
        Table("gaps", [Col("from", "col.from", "time"), Col("to", "col.to", "time"),
                       Col("hours", "col.hours", "num")], gaps, empty="table.no_gaps"),
    ]  # fmt: skip
    e = meter.enterprise
    city = city_of(e.region_code)
    crumbs: list[tuple[str, str | None]] = [
        (region_name("370000", t), "/"),
        (region_name(city, t), f"/regions/{city}"),
        (e.name, f"/enterprises/{e.id}"),
    ]
    if meter.unit is not None:
        crumbs.append((f"{meter.unit.code} {meter.unit.name}", f"/units/{meter.unit.id}"))
    crumbs.append((meter.code, None))
    default_start = (end - timedelta(days=7)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    context = {
        "meter": meter, "e": e, "carrier": carrier_name(meter.carrier, t), "first": first,
        "last": last, "day": chosen.isoformat(), "crumbs": crumbs,
        "default_start": default_start, "as_of": last,
        "default_end": end.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
    }  # fmt: skip
    return env.render("meter.html", context, tables)
