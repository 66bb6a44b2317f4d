"""``kilnwatch demo``: build a simulated province in the embedded database and serve it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.cli._common import console, counting_rows, fail, session_scope, settings, spinner
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
DEMO_METERING_GAPS = {
    "wrong_accuracy_fraction": 0.1,
    "silent_meter_fraction": 0.01,
    "meter_replacement_fraction": 0.02,
}
"""Metering gaps the demo province shows (docs/metering.md); the readings faults as default."""
DEMO_ENTERPRISE_USER = "qiye"
"""An enterprise user of the demo, for the first enterprise of Jinan."""


def load_province(s: Settings, folder: Path, first_day: date, days: int) -> None:
    """Import a simulated province folder of ``days`` days from ``first_day``, then verify each
    month those days touch."""
    from kilnwatch.domain.periods import Period
    from kilnwatch.ingest.folder import import_folder
    from kilnwatch.ingest.validate import ValidationPolicy
    from kilnwatch.verify.run import verify_period
    from kilnwatch.verify.settings import verify_settings

    policy = ValidationPolicy(local_tz=s.timezone)
    from kilnwatch.metering.imports import import_metering

    with counting_rows("importing readings") as advance, session_scope(s) as session:
        report = import_folder(session, folder, policy=policy, on_progress=advance)
        if (folder / "metering_points.csv").exists():
            import_metering(session, folder)
        if (folder / "energy_factors.csv").exists():
            from kilnwatch.identity import Principal, Role
            from kilnwatch.programme.energy_factors import import_energy_factors

            simulator = Principal("simulator", Role.ADMIN)
            import_energy_factors(session, simulator, folder / "energy_factors.csv")
    console.print(
        f"registry {report.registry_created}; {report.readings.accepted:,} readings stored, "
        f"{report.readings.rejected:,} rejected to dead letters; "
        f"sources {report.sources_created}"
    )
    if (folder / "projects").is_dir():
        from kilnwatch.ingest.project_control import import_project_control

        with session_scope(s) as session:
            control = import_project_control(session, folder / "projects", zone=s.zone)
        console.print(f"project control {control.created}")
    with spinner() as bar:
        task = bar.add_task("verifying", total=None)
        last_day = first_day + timedelta(days=days - 1)
        for month in Period.of_days(first_day, last_day, s.zone).split("month"):
            bar.update(task, description=f"verifying {month}")
            with session_scope(s) as session:
                verify_period(session, month, None, verify_settings())


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
                output_format="parquet", every_city=True, **DEMO_METERING_GAPS,
            )  # fmt: skip
            with spinner() as bar:
                bar.add_task(f"simulating {enterprises} enterprises x {days} days", total=None)
                simulate_to_dir(params, out)
            load_province(s, out, first_day, days)
        with session_scope(s) as session:
            added = add_demo_users(session)
        if not s.totp_key_path.exists():  # the second factor works out of the box
            from kilnwatch.keyfile import create_key_file

            create_key_file(s.totp_key_path)
            console.print(f"TOTP key file {s.totp_key_path} created (docs/security.md)")
        if added:
            console.print(f"demo users {', '.join(added)} with password {DEMO_PASSWORD!r}")
            console.print("each city user (jinan, zibo, ...) sees its own city; qiye is an "
                          "enterprise user")  # fmt: skip
    except KilnwatchError as exc:
        raise fail(exc) from exc
    if not no_serve:
        serve(host=None, port=port)
