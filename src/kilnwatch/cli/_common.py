"""Helpers shared by CLI commands: settings, sessions, periods, errors, progress."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.domain.periods import PERIOD_FORMS, Period, parse_period
from kilnwatch.errors import ImportRejected, InputError, KilnwatchError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.audit import ACTOR_KEY
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.outage import outage_code

console = Console()
err_console = Console(stderr=True)

SYSTEM = Principal(subject="cli", role=Role.ADMIN)
"""The CLI runs as the operator of the installation, with an administrator's scope."""


def settings() -> Settings:
    return Settings()


@contextmanager
def session_scope(s: Settings | None = None, *, migrate: bool = True) -> Iterator[Session]:
    """A committed-at-the-end session on a migrated database."""
    s = s or settings()
    engine = make_engine(s)
    try:
        if migrate:
            upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            session.info[ACTOR_KEY] = f"cli:{getpass.getuser()}"  # the audit trail's "who"
            yield session
    finally:
        engine.dispose()


def period_parser(field: str = "period") -> Callable[[str], Period]:
    """A Typer ``parser`` for ``--<field>``: the text as a :class:`Period` in
    ``Settings.timezone``; a bad value is a usage error naming the option and the forms."""

    def parse(text: str) -> Period:
        try:
            return parse_period(text, settings().zone, field=field)
        except InputError as exc:
            raise typer.BadParameter(exc.reason) from None

    return parse


def period_option(help_text: str, field: str = "period") -> Any:
    """The Typer option of a period (every form of :data:`PERIOD_FORMS`)."""
    return typer.Option(
        help=f"{help_text} {PERIOD_FORMS}.", parser=period_parser(field), metavar="PERIOD"
    )


def fail(exc: KilnwatchError) -> typer.Exit:
    """Print a clear error (every located fault on its own line) and give exit code 2."""
    if isinstance(exc, ImportRejected):
        for error in exc.errors:
            err_console.print(f"[red]error[/red] {error.message}", highlight=False, soft_wrap=True)
    err_console.print(f"[red]error[/red] {exc.message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a :class:`KilnwatchError` raised in the block into a clear error and exit code 2;
    so too a database that is full or away (``store.disk_full``, ``store.unavailable``): the
    transaction was rolled back, nothing of the command is stored."""
    try:
        yield
    except KilnwatchError as exc:
        raise fail(exc) from exc
    except Exception as exc:
        code = outage_code(exc)
        if code is None:
            raise
        where = make_url(settings().effective_database_url).render_as_string(hide_password=True)
        what = "is full" if code == "store.disk_full" else "is not available"
        cause = str(getattr(exc, "orig", exc)).splitlines()[0]
        message = (f"{code}: the database {where} {what} ({cause}); "
                   "nothing of this command was stored, run it again once it is fixed")  # fmt: skip
        raise fail(KilnwatchError(message, code=code)) from exc


@contextmanager
def command_session(s: Settings | None = None) -> Iterator[Session]:
    """The session of one command: :func:`session_scope` under :func:`exit_on_error`, so an
    error in the block or at commit is printed with exit code 2 and nothing is stored."""
    with exit_on_error(), session_scope(s) as session:
        yield session


def spinner() -> Progress:
    """A transient spinner with the elapsed time, for work of unknown length."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


@contextmanager
def counting_rows(label: str) -> Iterator[Callable[[int], None]]:
    """A spinner counting rows and rows/s as they are done (on a terminal; nothing is drawn
    otherwise); yields the callback that adds ``n`` rows."""
    with spinner() as bar:
        task = bar.add_task(f"{label}: 0 rows", total=None)
        done = [0]
        started = time.perf_counter()

        def advance(n: int) -> None:
            done[0] += n
            rate = done[0] / max(time.perf_counter() - started, 1e-9)
            bar.update(task, description=f"{label}: {done[0]:,} rows, {rate:,.0f} rows/s")

        yield advance
