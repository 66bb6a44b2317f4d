"""Scheduled reports: schedules, the archive, and the worker that generates and e-mails them.

``tick(factory, settings, now)`` is one pass of the worker (``kilnwatch schedule tick --now``
for cron and tests; ``kilnwatch schedule run`` calls it every ``schedule_poll_s``). It is the
worker's edge, so it commits, one unit of work per schedule and per delivery attempt:

1. every active schedule whose latest occurrence (``schedule_rules``) is due and not yet in the
   archive is generated: the document is built in the owner's jurisdiction, written under
   ``var_dir/reports/`` and recorded in ``report_archive`` (unique per schedule and due time,
   so a second tick at the same time, or a second worker, generates nothing);
2. every delivery that is due is claimed (its attempt counter moves by one in a conditional
   update, so two workers never send the same attempt) and sent over SMTP; a failure is
   recorded with its error and retried after ``report_retry_s`` (doubling each time) until
   ``report_delivery_attempts`` are used.

Delivery is at least once: a worker that dies between sending and recording may send again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from kilnwatch.config import Settings
from kilnwatch.errors import InputError, KilnwatchError, NotFoundError
from kilnwatch.identity import Principal, Role
from kilnwatch.reports.catalogue import build_report, report_spec
from kilnwatch.reports.document import Text
from kilnwatch.reports.labels import check_lang, local_time
from kilnwatch.reports.mail import DeliveryError, report_message, send_message
from kilnwatch.reports.render import MEDIA_TYPES, check_format, render
from kilnwatch.reports.schedule_rules import Rule, due_occurrence, period_for
from kilnwatch.reports.scope import resolve_scope
from kilnwatch.store.models import ReportArchive, ReportDelivery, ReportSchedule, User

log = logging.getLogger(__name__)
ARCHIVE_DIR = "reports"
"""Folder of archived report files, under ``Settings.var_dir``."""


@dataclass(frozen=True)
class ScheduleRequest:
    report: str
    rule: str
    time_of_day: str
    recipients: tuple[str, ...]
    format: str = "xlsx"
    lang: str = "zh-CN"
    city: str | None = None
    enterprise_uscc: str | None = None
    weekday: int = 1
    day_of_month: int = 1


@dataclass
class TickResult:
    generated: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    sent: int = 0
    send_failures: int = 0


def principal_of(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFoundError(f"user {username} does not exist or is disabled")
    return Principal(user.username, Role(user.role), user.region_code, user.enterprise_id)


def _check_recipients(recipients: Sequence[str]) -> list[str]:
    cleaned = [r.strip() for r in recipients if r.strip()]
    for r in cleaned:
        local, _, domain = r.partition("@")
        if not local or "." not in domain or any(c.isspace() for c in r):
            raise InputError(f"{r!r} is not an e-mail address", field="recipients")
    return cleaned


def _checked(session: Session, principal: Principal, req: ScheduleRequest) -> dict[str, object]:
    """The fields of a schedule for ``req``, validated; its scope must be inside the
    principal's (outside it is "not found", as in the API)."""
    spec = report_spec(req.report)
    rule = Rule(req.rule, req.time_of_day, req.weekday, req.day_of_month)
    fmt, lang = check_format(req.format), req.lang
    try:
        check_lang(lang)
    except ValueError as exc:
        raise InputError(str(exc), field="lang") from None
    if fmt not in spec.formats:
        raise InputError(f"report {spec.name} is made as {', '.join(spec.formats)}", field="format")
    if spec.needs_enterprise and not req.enterprise_uscc:
        raise InputError(f"report {spec.name} needs an enterprise", field="enterprise")
    if spec.needs_city and not req.city:
        raise InputError(f"report {spec.name} is a city's: give the city", field="city")
    resolve_scope(session, principal, req.city, req.enterprise_uscc)  # not found outside scope
    return {
        "report": spec.name, "city": req.city, "enterprise_uscc": req.enterprise_uscc,
        "rule": rule.rule, "weekday": rule.weekday, "day_of_month": rule.day_of_month,
        "time_of_day": rule.time_of_day, "recipients": _check_recipients(req.recipients),
        "format": fmt, "lang": lang,
    }  # fmt: skip


def add_schedule(
    session: Session, principal: Principal, req: ScheduleRequest, now: datetime | None = None
) -> ReportSchedule:
    """Record a schedule owned by ``principal``; its scope must be inside the principal's."""
    fields = _checked(session, principal, req)
    schedule = ReportSchedule(owner=principal.subject, active=True,
                              created_at=now or datetime.now(UTC), **fields)  # fmt: skip
    session.add(schedule)
    session.flush()
    return schedule


def _schedule_of(session: Session, principal: Principal, schedule_id: int) -> ReportSchedule:
    schedule = session.get(ReportSchedule, schedule_id)
    if schedule is None or not (principal.sees_everything or schedule.owner == principal.subject):
        raise NotFoundError(f"schedule {schedule_id} not found")
    return schedule


def update_schedule(
    session: Session,
    principal: Principal,
    schedule_id: int,
    req: ScheduleRequest,
    now: datetime | None = None,
) -> ReportSchedule:
    """Change a schedule with the checks of :func:`add_schedule` (checked in the caller's
    jurisdiction; the owner stays). When its timing changes, it counts from ``now``: an
    occurrence before the change is not generated (as a new schedule's would not be)."""
    schedule = _schedule_of(session, principal, schedule_id)
    fields = _checked(session, principal, req)
    timing = ("rule", "weekday", "day_of_month", "time_of_day")
    if any(getattr(schedule, k) != fields[k] for k in timing):
        schedule.created_at = now or datetime.now(UTC)
    for key, value in fields.items():
        setattr(schedule, key, value)
    session.flush()
    return schedule


def _owned(principal: Principal, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Schedules and archive entries are their owner's (an administrator sees all)."""
    return true() if principal.sees_everything else column == principal.subject


def list_schedules(session: Session, principal: Principal) -> list[ReportSchedule]:
    stmt = select(ReportSchedule).where(_owned(principal, ReportSchedule.owner))
    return list(session.scalars(stmt.order_by(ReportSchedule.id)))


def get_schedule(session: Session, principal: Principal, schedule_id: int) -> ReportSchedule:
    """One schedule of the caller (any for an administrator); others are "not found"."""
    return _schedule_of(session, principal, schedule_id)


def cancel_schedule(session: Session, principal: Principal, schedule_id: int) -> ReportSchedule:
    """Stop a schedule (kept, with its archived reports, as inactive)."""
    schedule = _schedule_of(session, principal, schedule_id)
    schedule.active = False
    session.flush()
    return schedule


def list_archive(
    session: Session, principal: Principal, offset: int = 0, limit: int = 50
) -> tuple[list[ReportArchive], int]:
    where = _owned(principal, ReportArchive.created_by)
    total = session.scalar(select(func.count(ReportArchive.id)).where(where)) or 0
    stmt = select(ReportArchive).where(where).order_by(ReportArchive.id.desc())
    return list(session.scalars(stmt.offset(offset).limit(limit))), total


def deliveries_of(session: Session, archive_ids: Sequence[int]) -> dict[int, list[ReportDelivery]]:
    out: dict[int, list[ReportDelivery]] = {i: [] for i in archive_ids}
    stmt = select(ReportDelivery).where(ReportDelivery.archive_id.in_(list(archive_ids)))
    for d in session.scalars(stmt.order_by(ReportDelivery.id)):
        out[d.archive_id].append(d)
    return out


def archived_file(
    session: Session, principal: Principal, settings: Settings, archive_id: int
) -> tuple[ReportArchive, bytes]:
    entry = session.get(ReportArchive, archive_id)
    if entry is None or not (principal.sees_everything or entry.created_by == principal.subject):
        raise NotFoundError(f"archived report {archive_id} not found")
    if entry.path is None:
        raise NotFoundError(f"archived report {archive_id} has no file ({entry.status})")
    return entry, (settings.var_dir / entry.path).read_bytes()


def _scope_name(scope: object, lang: str) -> str:
    return scope(lang) if isinstance(scope, Text) else str(scope)


def _generate(
    session: Session, settings: Settings, schedule: ReportSchedule, due: datetime, now: datetime
) -> ReportArchive:
    rule = Rule(schedule.rule, schedule.time_of_day, schedule.weekday, schedule.day_of_month)
    period = period_for(rule, due, settings.timezone)
    entry = ReportArchive(
        schedule_id=schedule.id, due_at=due, created_by=schedule.owner, report=schedule.report,
        period=period.label, scope=schedule.enterprise_uscc or schedule.city or "",
        lang=schedule.lang, format=schedule.format, status="generated", generated_at=now,
    )  # fmt: skip
    session.add(entry)
    session.flush()  # the unique (schedule, due) key: a second generation fails here
    try:
        doc = build_report(
            session, principal_of(session, schedule.owner), schedule.report, period,
            timezone=settings.timezone, city=schedule.city,
            enterprise=schedule.enterprise_uscc, now=now,
        )  # fmt: skip
        rendered = render(doc, schedule.format, schedule.lang)
    except KilnwatchError as exc:
        entry.status, entry.error = "failed", exc.message
        session.flush()
        return entry
    relative = Path(ARCHIVE_DIR) / f"{due:%Y}" / f"{entry.id:06d}-{rendered.ascii_filename}"
    target = settings.var_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(rendered.content)
    entry.path, entry.filename = relative.as_posix(), rendered.filename
    entry.scope = _scope_name(doc.scope, schedule.lang)[:200]
    entry.size_bytes = len(rendered.content)
    entry.sha256 = hashlib.sha256(rendered.content).hexdigest()
    if settings.smtp_configured:
        for recipient in schedule.recipients:
            session.add(
                ReportDelivery(
                    archive_id=entry.id,
                    recipient=recipient,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    log=[],
                )  # fmt: skip
            )
    session.flush()
    return entry


def generate_due(
    factory: sessionmaker[Session], settings: Settings, now: datetime, result: TickResult
) -> None:
    with factory() as session:
        schedules = session.scalars(select(ReportSchedule).where(ReportSchedule.active)).all()
        ids = [s.id for s in schedules]
    for schedule_id in ids:
        with factory() as session:
            schedule = session.get(ReportSchedule, schedule_id)
            assert schedule is not None
            rule = Rule(schedule.rule, schedule.time_of_day, schedule.weekday,
                        schedule.day_of_month)  # fmt: skip
            due = due_occurrence(rule, schedule.created_at, now, settings.timezone)
            if due is None or session.scalar(
                select(ReportArchive.id).where(
                    ReportArchive.schedule_id == schedule_id, ReportArchive.due_at == due
                )
            ):
                continue
            try:
                entry = _generate(session, settings, schedule, due, now)
                session.commit()
            except IntegrityError:  # another worker generated this occurrence first
                session.rollback()
                continue
            (result.generated if entry.status == "generated" else result.failed).append(entry.id)
            log.info("report %s %s archived as %s", schedule.report, entry.period, entry.id)


def _subject_and_body(entry: ReportArchive, settings: Settings) -> tuple[str, str]:
    spec = report_spec(entry.report)
    title = spec.title(entry.lang)
    generated = local_time(entry.generated_at, settings.timezone)
    if entry.lang == "en":
        body = (f"{title}\nPeriod: {entry.period}\nScope: {entry.scope}\n"
                f"Generated: {generated:%Y-%m-%d %H:%M} ({settings.timezone})\n"
                f"Archive entry: {entry.id}\n")  # fmt: skip
    else:
        body = (f"{title}\n统计期：{entry.period}\n范围：{entry.scope}\n"
                f"生成时间：{generated:%Y-%m-%d %H:%M}（{settings.timezone}）\n"
                f"报表归档编号：{entry.id}\n")  # fmt: skip
    return f"[kilnwatch] {title} {entry.period} {entry.scope}", body


def _attempt(
    factory: sessionmaker[Session], settings: Settings, delivery_id: int, now: datetime
) -> bool | None:
    """One claimed attempt; True sent, False failed, None when another worker had it."""
    with factory() as session:
        d = session.get(ReportDelivery, delivery_id)
        if d is None or d.status != "pending" or d.next_attempt_at > now:
            return None
        claimed = session.execute(
            update(ReportDelivery)
            .where(ReportDelivery.id == d.id, ReportDelivery.attempts == d.attempts)
            .values(attempts=d.attempts + 1, last_attempt_at=now)
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.refresh(d)
        entry = session.get(ReportArchive, d.archive_id)
        assert entry is not None and entry.path is not None
        subject, body = _subject_and_body(entry, settings)
        content = (settings.var_dir / entry.path).read_bytes()
        media = MEDIA_TYPES[entry.format]
        msg = report_message(settings, d.recipient, subject, body, content,
                             entry.filename or Path(entry.path).name, media)  # fmt: skip
        # no transaction open across the SMTP exchange: PostgreSQL ends a session idle in one
        # for Settings.db_idle_in_transaction_timeout_s
        session.commit()
        try:
            send_message(settings, msg)
        except DeliveryError as exc:
            d.last_error = exc.message
            d.log = [*d.log, {"at": now.isoformat(), "ok": False, "error": exc.message}]
            if d.attempts >= settings.report_delivery_attempts:
                d.status = "failed"
            else:
                wait_s = settings.report_retry_s * 2 ** (d.attempts - 1)
                d.next_attempt_at = now + timedelta(seconds=wait_s)
            session.commit()
            log.warning("report mail to %s failed: %s", d.recipient, exc.message)
            return False
        d.status, d.sent_at, d.last_error = "sent", now, None
        d.log = [*d.log, {"at": now.isoformat(), "ok": True, "error": None}]
        session.commit()
        return True


def deliver_due(
    factory: sessionmaker[Session], settings: Settings, now: datetime, result: TickResult
) -> None:
    if not settings.smtp_configured:
        return
    with factory() as session:
        due = session.scalars(
            select(ReportDelivery.id)
            .where(ReportDelivery.status == "pending", ReportDelivery.next_attempt_at <= now)
            .order_by(ReportDelivery.id)
        ).all()
    for delivery_id in due:
        outcome = _attempt(factory, settings, delivery_id, now)
        if outcome is True:
            result.sent += 1
        elif outcome is False:
            result.send_failures += 1


def tick(factory: sessionmaker[Session], settings: Settings, now: datetime) -> TickResult:
    """Generate what is due at ``now`` and send what is due; safe to repeat."""
    if now.tzinfo is None:
        raise InputError("now needs a UTC offset", field="now")
    result = TickResult()
    generate_due(factory, settings, now, result)
    deliver_due(factory, settings, now, result)
    return result


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], object],
    should_stop: Callable[[], bool],
) -> None:
    """Tick every ``schedule_poll_s`` until ``should_stop()``; a failed tick is logged and
    the next one tries again."""
    while not should_stop():
        try:
            tick(factory, settings, clock())
        except Exception:  # the worker outlives a bad tick (database restart, full disk)
            log.exception("schedule tick failed")
        sleep(settings.schedule_poll_s)


__all__ = [
    "ARCHIVE_DIR",
    "ScheduleRequest",
    "TickResult",
    "add_schedule",
    "archived_file",
    "cancel_schedule",
    "deliver_due",
    "deliveries_of",
    "generate_due",
    "list_archive",
    "list_schedules",
    "principal_of",
    "run",
    "tick",
]
