"""``kilnwatch demo``: build a simulated province in the embedded database and serve it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.cli._common import console, fail, session_scope, settings
from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, User

DEMO_PASSWORD = "kilnwatch-demo"


def _demo_users() -> tuple[tuple[str, Role, str | None], ...]:
    """admin, the province (``shandong``) and one user per city named after it (``jinan``)."""
    from kilnwatch.reference.registry import load_regions

    cities = [r for r in load_regions() if r.level == "city"]
    per_city = tuple(
        (r.name_en.lower().replace("'", ""), Role.CITY, r.code) for r in cities if r.name_en
    )
    return (("admin", Role.ADMIN, None), ("shandong", Role.PROVINCE, "370000"), *per_city)


DEMO_USERS = _demo_users()
DEMO_ENTERPRISE_USER = "qiye"
"""An enterprise user of the demo, for the first enterprise of Jinan."""


def months_between(start: date, days: int) -> list[str]:
    """The ``YYYY-MM`` labels of the months that ``days`` days from ``start`` touch."""
    last = start + timedelta(days=days - 1)
    labels, cursor = [], start.replace(day=1)
    while cursor <= last:
        labels.append(f"{cursor:%Y-%m}")
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return labels


def _spinner() -> Progress:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def load_province(s: Settings, directory: Path, months: list[str]) -> None:
    """Import a simulated directory, then verify each of its months."""
    from kilnwatch.ingest.directory import load_directory
    from kilnwatch.ingest.validate import ValidationPolicy
    from kilnwatch.verify.run import verify_period
    from kilnwatch.verify.settings import verify_settings

    with _spinner() as bar:
        task = bar.add_task("importing", total=None)
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            bar.update(task, description=f"importing readings: {done[0]:,}")

        with session_scope(s) as session:
            report = load_directory(
                session,
                directory,
                policy=ValidationPolicy(local_tz=s.timezone),
                on_progress=advance,
            )
        console.print(
            f"registry {report.registry_created}; {report.readings_stored:,} readings stored, "
            f"{report.readings_rejected:,} rejected to dead letters; "
            f"sources {report.sources_created}"
        )
        for month in months:
            bar.update(task, description=f"verifying {month}")
            with session_scope(s) as session:
                verify_period(session, month, None, verify_settings("default", None))


def add_demo_users(session: Session) -> list[str]:
    from kilnwatch.store.repos.users import add_user

    added = []
    for name, role, region in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == name)) is None:
            add_user(session, name, DEMO_PASSWORD, role, region_code=region)
            added.append(name)
    first = session.scalar(
        select(Enterprise.uscc)
        .where(Enterprise.region_code.startswith("3701"))
        .order_by(Enterprise.id)
    )
    exists = session.scalar(select(User.id).where(User.username == DEMO_ENTERPRISE_USER))
    if first is not None and exists is None:
        add_user(session, DEMO_ENTERPRISE_USER, DEMO_PASSWORD, Role.ENTERPRISE,
                 enterprise_uscc=first)  # fmt: skip
        added.append(DEMO_ENTERPRISE_USER)
    return added


def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the province only.")] = False,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 7,
    enterprises: Annotated[
        int, typer.Option(min=16, help="Enterprises to simulate (at least one per city).")
    ] = 30,
    start: Annotated[str, typer.Option(help="First simulated day.")] = "2025-03-01",
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 31,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Build a simulated province in the embedded database (once), then serve the dashboard."""
    from kilnwatch.cli.admin import serve
    from kilnwatch.sim.config import SimParams
    from kilnwatch.sim.run import simulate_to_dir

    s = settings()
    if s.environment == "production":
        raise typer.BadParameter("the demo refuses to run with KILNWATCH_ENVIRONMENT=production")
    try:
        with session_scope(s) as session:
            existing = session.scalar(select(func.count(Enterprise.id))) or 0
        if existing:
            console.print(f"the database already holds {existing} enterprises; not rebuilding")
        else:
            first_day = date.fromisoformat(start)
            out = s.var_dir / f"demo-province-{seed}"
            params = SimParams(
                seed=seed, enterprises=enterprises, start=first_day, days=days,
                output_format="parquet", every_city=True,
            )  # fmt: skip
            with _spinner() as bar:
                bar.add_task(f"simulating {enterprises} enterprises x {days} days", total=None)
                simulate_to_dir(params, out)
            load_province(s, out, months_between(first_day, days))
        with session_scope(s) as session:
            added = add_demo_users(session)
        if added:
            console.print(f"demo users {', '.join(added)} with password {DEMO_PASSWORD!r}")
            console.print("each city user (jinan, zibo, ...) sees its own city; qiye is an "
                          "enterprise user")  # fmt: skip
    except KilnwatchError as exc:
        raise fail(exc) from exc
    if not no_serve:
        serve(host=None, port=port)
