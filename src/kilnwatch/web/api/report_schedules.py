"""Report schedules and the report archive (what a page needs to list, download and manage).

Registered before ``/reports/{name}`` so that ``schedules`` and ``archive`` are not taken for
report names. Schedules and archive entries belong to their owner; an administrator sees all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from kilnwatch.reports import scheduler
from kilnwatch.reports.catalogue import report_spec
from kilnwatch.reports.render import MEDIA_TYPES, content_disposition
from kilnwatch.reports.schedule_rules import Rule, next_occurrence
from kilnwatch.store.models import ReportSchedule
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.schemas.common import PageParams
from kilnwatch.web.schemas.reports import (
    ArchiveEntryPublic,
    ArchivePage,
    Bilingual,
    DeliveryPublic,
    ScheduleCreate,
    SchedulePublic,
)

router = APIRouter(prefix="/reports", tags=["reports"])


def _public(schedule: ReportSchedule, tz: str) -> SchedulePublic:
    out = SchedulePublic.model_validate(schedule)
    if schedule.active:
        rule = Rule(schedule.rule, schedule.time_of_day, schedule.weekday, schedule.day_of_month)
        after = max(schedule.created_at, datetime.now(UTC))
        out.next_due_at = next_occurrence(rule, after, tz)
    return out


def _request(body: ScheduleCreate) -> scheduler.ScheduleRequest:
    return scheduler.ScheduleRequest(
        body.report, body.rule, body.time_of_day, tuple(body.recipients), body.format,
        body.lang, body.city, body.enterprise, body.weekday, body.day_of_month,
    )  # fmt: skip


@router.post("/schedules", status_code=201)
def create_schedule(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: ScheduleCreate
) -> SchedulePublic:
    """Schedule a report in the caller's jurisdiction (narrowed to ``city``/``enterprise``)."""
    return _public(scheduler.add_schedule(session, principal, _request(body)), settings.timezone)


@router.put("/schedules/{schedule_id}")
def update_schedule(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    schedule_id: int,
    body: ScheduleCreate,
) -> SchedulePublic:
    """Change a schedule (same checks as creating one); a change of its timing counts from
    now, so no occurrence before the change is generated."""
    schedule = scheduler.update_schedule(session, principal, schedule_id, _request(body))
    return _public(schedule, settings.timezone)


@router.get("/schedules")
def list_schedules(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> list[SchedulePublic]:
    return [_public(s, settings.timezone) for s in scheduler.list_schedules(session, principal)]


@router.delete("/schedules/{schedule_id}")
def cancel_schedule(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, schedule_id: int
) -> SchedulePublic:
    """Stop a schedule (its archived reports stay)."""
    schedule = scheduler.cancel_schedule(session, principal, schedule_id)
    return _public(schedule, settings.timezone)


@router.get("/archive")
def list_archive(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageParams,
) -> ArchivePage:
    """Generated reports, newest first, with the state of their e-mails."""
    entries, total = scheduler.list_archive(session, principal, page.offset, page.limit)
    deliveries = scheduler.deliveries_of(session, [e.id for e in entries])
    items = []
    for e in entries:
        title = report_spec(e.report).title
        items.append(
            ArchiveEntryPublic(
                id=e.id, schedule_id=e.schedule_id, report=e.report,
                title=Bilingual(zh=title.zh, en=title.en), period=e.period, scope=e.scope,
                format=e.format, lang=e.lang, status=e.status, error=e.error,
                filename=e.filename, size_bytes=e.size_bytes, sha256=e.sha256, due_at=e.due_at,
                generated_at=e.generated_at,
                download_url=f"/api/v1/reports/archive/{e.id}/file" if e.path else None,
                deliveries=[DeliveryPublic.model_validate(d) for d in deliveries[e.id]],
            )
        )  # fmt: skip
    return ArchivePage(items=items, total=total, offset=page.offset, limit=page.limit)


@router.get(
    "/archive/{archive_id}/file",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def archived_file(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, archive_id: int
) -> Response:
    entry, content = scheduler.archived_file(session, principal, settings, archive_id)
    name = entry.filename or f"report-{entry.id}.{entry.format}"
    return Response(
        content,
        media_type=MEDIA_TYPES[entry.format],
        headers={"Content-Disposition": content_disposition(name)},
    )
