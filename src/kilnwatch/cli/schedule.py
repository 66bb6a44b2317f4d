"""``kilnwatch schedule add|list|cancel|tick|run``: scheduled reports and their worker."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.cli._common import command_session, console, fail, settings
from kilnwatch.config import Settings
from kilnwatch.errors import InputError, KilnwatchError
from kilnwatch.shutdown import stop_on_signals

app = typer.Typer(help="Scheduled reports: archive and e-mail.", no_args_is_help=True)


@app.command("add")
def add(
    report: Annotated[str, typer.Option(help="Report name (monthly, enterprise …).")],
    rule: Annotated[str, typer.Option(help="weekly or monthly (the previous full period).")],
    at: Annotated[str, typer.Option("--at", help="Local time of day, HH:MM.")],
    owner: Annotated[str, typer.Option(help="User whose jurisdiction the report covers.")],
    to: Annotated[list[str] | None, typer.Option("--to", help="Recipient (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or pdf")] = "xlsx",
    lang: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
    city: Annotated[str | None, typer.Option(help="City code, e.g. 3703.")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise USCC.")] = None,
    weekday: Annotated[int, typer.Option(help="ISO weekday for weekly (1 = Monday).")] = 1,
    day: Annotated[int, typer.Option(help="Day of month for monthly (1-28).")] = 1,
) -> None:
    """Schedule a report for a user."""
    from kilnwatch.reports.scheduler import ScheduleRequest, add_schedule, principal_of

    req = ScheduleRequest(report, rule, at, tuple(to or ()), fmt, lang, city, enterprise,
                          weekday, day)  # fmt: skip
    with command_session() as session:
        schedule = add_schedule(session, principal_of(session, owner), req)
        console.print(f"schedule {schedule.id}: {report} {rule} at {at} for {owner}")


@app.command("list")
def list_cmd() -> None:
    """Every schedule."""
    from kilnwatch.cli._common import SYSTEM
    from kilnwatch.reports.scheduler import list_schedules

    table = Table("id", "owner", "report", "rule", "at", "scope", "format", "to", "active")
    with command_session() as session:
        for s in list_schedules(session, SYSTEM):
            table.add_row(str(s.id), s.owner, s.report, s.rule, s.time_of_day,
                          s.enterprise_uscc or s.city or "", s.format, ", ".join(s.recipients),
                          str(s.active))  # fmt: skip
    console.print(table)


@app.command("cancel")
def cancel(schedule_id: int) -> None:
    """Stop a schedule (its archive stays)."""
    from kilnwatch.cli._common import SYSTEM
    from kilnwatch.reports.scheduler import cancel_schedule

    with command_session() as session:
        cancel_schedule(session, SYSTEM, schedule_id)


def _factory() -> tuple[Settings, Engine, sessionmaker[Session]]:
    from kilnwatch.store.engine import make_engine, make_session_factory
    from kilnwatch.store.migrate import upgrade

    s = settings()
    engine = make_engine(s)
    upgrade(engine)
    return s, engine, make_session_factory(engine)


@app.command("tick")
def tick_cmd(
    now: Annotated[
        str | None, typer.Option(help="The time to act at (ISO 8601 with offset).")
    ] = None,
) -> None:
    """One pass: generate due reports into the archive and send due e-mails (for cron)."""
    from datetime import UTC

    from kilnwatch.reports.scheduler import tick

    s, engine, factory = _factory()
    try:
        at = datetime.fromisoformat(now) if now else datetime.now(UTC)
        if at.tzinfo is None:
            raise InputError("--now needs a UTC offset (e.g. 2025-04-01T08:00+08:00)", field="now")
        result = tick(factory, s, at)
    except (KilnwatchError, ValueError) as exc:
        raise fail(exc if isinstance(exc, KilnwatchError) else InputError(str(exc))) from exc
    finally:
        engine.dispose()
    console.print(
        f"generated {len(result.generated)}, failed {len(result.failed)}, "
        f"e-mails sent {result.sent}, send failures {result.send_failures}"
    )


@app.command("run")
def run_cmd() -> None:
    """The scheduler worker: tick every KILNWATCH_SCHEDULE_POLL_S seconds until stopped."""
    from kilnwatch.reports.scheduler import run

    s, engine, factory = _factory()
    stop = stop_on_signals()
    console.print(f"scheduler running, every {s.schedule_poll_s:g} s (Ctrl-C stops)")
    try:
        run(factory, s, sleep=stop.wait, should_stop=stop.is_set)
    finally:
        engine.dispose()
