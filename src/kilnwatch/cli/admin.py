"""Operating commands: db, export registry, users, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kilnwatch.cli._common import SYSTEM, console, err_console, fail, session_scope, settings
from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Role

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
export_app = typer.Typer(help="Export data files.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their jurisdictions.", no_args_is_help=True)
totp_key_app = typer.Typer(
    help="The key that encrypts the TOTP secrets, kept outside the database.",
    no_args_is_help=True,
)
user_app.add_typer(totp_key_app, name="totp-key")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    from kilnwatch.store.engine import make_engine
    from kilnwatch.store.migrate import current_revision, upgrade

    s = settings()
    engine = make_engine(s)
    upgrade(engine)
    console.print(f"database at revision {current_revision(engine)}: {engine.url!r}")
    engine.dispose()
    seal_plaintext_totp(s)


def seal_plaintext_totp(s: Settings) -> None:
    """After an upgrade: seal TOTP secrets an earlier version stored in plaintext, when the key
    file exists; else say how many wait for it."""
    from kilnwatch.keyfile import key_file
    from kilnwatch.store.repos.totp import count_sealing, seal_plaintext

    keys = key_file(s.totp_key_path)
    with session_scope(s, migrate=False) as session:
        plaintext = count_sealing(session).get("plaintext", 0)
        if plaintext and keys.exists():
            try:
                sealed = seal_plaintext(session, keys.ring())
            except KilnwatchError as exc:
                raise fail(exc) from exc
            console.print(f"{sealed} TOTP secrets stored in plaintext are now encrypted",
                          soft_wrap=True)  # fmt: skip
        elif plaintext:
            err_console.print(
                f"[yellow]warning[/yellow] {plaintext} TOTP secrets are stored in plaintext and "
                f"no key file {s.totp_key_path} exists: create it with 'kilnwatch user "
                "totp-key create' (it encrypts them)",
                highlight=False, soft_wrap=True,
            )  # fmt: skip


@db_app.command("partitions")
def db_partitions(
    ahead: Annotated[
        int, typer.Option(min=0, max=120, help="Months to create after the current one.")
    ] = 3,
) -> None:
    """PostgreSQL: create the monthly partitions of readings due (this month, ``--ahead``
    months after it, every month held by the DEFAULT partition, whose rows move); run it from
    a timer. SQLite has one plain table: nothing to do."""
    from kilnwatch.store import partitions

    with session_scope() as session:
        conn = session.connection()
        if not partitions.is_partitioned(conn):
            console.print(f"{conn.dialect.name}: readings is not partitioned; nothing to do")
            return
        done = partitions.maintain(conn, ahead)
    created = ", ".join(f"{m:%Y-%m}" for m in done.created) or "none"
    span = f"{done.partitions[0]:%Y-%m}..{done.partitions[-1]:%Y-%m}" if done.partitions else "-"
    console.print(
        f"partitions created: {created}; rows moved out of DEFAULT: {done.moved_rows}; "
        f"{len(done.partitions)} monthly partitions ({span})"
    )


@db_app.command("emission-hours")
def db_emission_hours() -> None:
    """Recompute the hourly rollup of every CEMS and wastewater analyser (``emission_hours``,
    kept at ingest; read by the emissions pages, reports and API) from its stored readings:
    after readings were changed outside the ingest path, or a meter became an analyser."""
    from kilnwatch.store.rollups.emission_hours import rebuild_emission_hours

    with session_scope() as session:
        rows = rebuild_emission_hours(session)
    console.print(f"emission hours recomputed: {rows:,} analyser-hours")


@db_app.command("archive")
def db_archive(
    before: Annotated[str, typer.Option(help="Archive every month before this one: YYYY-MM.")],
    to: Annotated[Path, typer.Option("--to", help="Archive folder (Parquet + manifest.json).")],
) -> None:
    """PostgreSQL: write the monthly partitions of readings before ``--before`` to Parquet
    (one file per month, checksummed manifest), read each back, and drop the partition only
    when its row count and sums match; rollups stay. Analysis reads the archive with
    ``kilnwatch export readings --archive DIR``."""
    from datetime import date

    from kilnwatch.store import partitions
    from kilnwatch.store.archive import archive_before

    try:
        month = date.fromisoformat(f"{before}-01")
    except ValueError:
        raise typer.BadParameter("use YYYY-MM, e.g. 2025-01", param_hint="--before") from None
    try:
        with session_scope() as session:
            conn = session.connection()
            if not partitions.is_partitioned(conn):
                console.print(f"{conn.dialect.name}: readings is not partitioned; nothing to do")
                return
            done = archive_before(conn, month, to)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    for m in done:
        console.print(f"{m.month}: {m.rows:,} readings -> {to / m.file} (sha256 {m.sha256[:12]}…)")
    console.print(f"{len(done)} months archived to {to}; their partitions are dropped")


@export_app.command("registry")
def export_registry_cmd(
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("registry-export"),
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
) -> None:
    """Export the registry in the import format (secrets are never exported)."""
    from kilnwatch.ingest.registry import export_registry

    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter("use csv or xlsx", param_hint="--format")
    with session_scope() as session:
        counts = export_registry(session, SYSTEM, out, fmt)
    for kind, n in counts.items():
        console.print(f"{kind}: {n} rows -> {out / (kind + '.' + fmt)}")


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="Role of the user.")],
    region: Annotated[str | None, typer.Option(help="Region code (jurisdiction).")] = None,
    enterprise: Annotated[str | None, typer.Option(help="Enterprise USCC (jurisdiction).")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    display_name: str = "",
) -> None:
    """Add a user with a role and a jurisdiction (a region or an enterprise)."""
    from kilnwatch.store.repos.users import add_user

    try:
        with session_scope() as session:
            user = add_user(session, username, password, role, region, enterprise, display_name)
            console.print(f"user {user.username} ({user.role}) added")
    except KilnwatchError as exc:
        raise fail(exc) from exc


@user_app.command("passwd")
def user_passwd(
    username: str,
    password: Annotated[
        str, typer.Option(prompt="New password", hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Set a user's password (an administrator's reset); signs the user out everywhere."""
    from kilnwatch.store.repos.users import set_password

    try:
        with session_scope() as session:
            set_password(session, username, password)
            console.print(f"password of {username} changed; its browser sessions are closed")
    except KilnwatchError as exc:
        raise fail(exc) from exc


@user_app.command("totp-reset")
def user_totp_reset(username: str) -> None:
    """Remove a user's TOTP second factor (lost device): next sign-in needs only the password."""
    from kilnwatch.store.repos.totp import remove_totp

    try:
        with session_scope() as session:
            removed = remove_totp(session, username)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    console.print(
        f"second factor of {username} removed" if removed else f"{username} has no second factor"
    )


@totp_key_app.command("create")
def totp_key_create() -> None:
    """Create the key file (Settings.totp_key_file, default var/totp.key; refused if it exists)
    and encrypt the TOTP secrets still stored in plaintext."""
    from kilnwatch.keyfile import create_key_file
    from kilnwatch.store.repos.totp import seal_plaintext

    s = settings()
    try:
        ring = create_key_file(s.totp_key_path)
        with session_scope(s) as session:
            sealed = seal_plaintext(session, ring)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    console.print(f"key {ring.current_id} written to {ring.path} (mode 600); keep a copy apart "
                  f"from the database backups; {sealed} plaintext TOTP secrets encrypted",
                  soft_wrap=True, highlight=False)  # fmt: skip


@totp_key_app.command("rotate")
def totp_key_rotate() -> None:
    """A new key: every TOTP secret re-encrypted under it, then the old keys dropped from the
    file (running servers re-read the file; no restart)."""
    from kilnwatch.keyfile import new_key, read_key_file, write_key_file
    from kilnwatch.store.repos.totp import reseal

    s = settings()
    path = s.totp_key_path
    try:
        old = read_key_file(path)
        both = write_key_file(path, (new_key(), *old.keys))  # new seals, old still opens
        with session_scope(s) as session:
            count = reseal(session, old, both)
        new = write_key_file(path, both.keys[:1])
        with session_scope(s, migrate=False) as session:  # sealed meanwhile by a server
            count += reseal(session, both, new)  # that had read the file before the rotation
    except KilnwatchError as exc:
        raise fail(exc) from exc
    console.print(
        f"key {new.current_id} now encrypts {count} re-encrypted TOTP secrets; "
        f"dropped {', '.join(old.ids)} from {path}",
        soft_wrap=True,
        highlight=False,
    )


@totp_key_app.command("check")
def totp_key_check() -> None:
    """Open every stored TOTP secret with the key file: exit 0 when all open, 1 naming each
    that does not (or is stored in plaintext)."""
    from kilnwatch.keyfile import read_key_file
    from kilnwatch.store.repos.totp import check_sealed, count_sealing

    s = settings()
    try:
        ring = read_key_file(s.totp_key_path)
        with session_scope(s) as session:
            counts = count_sealing(session)
            problems = check_sealed(session, ring)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    for problem in problems:
        err_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    by_key = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "none stored"
    console.print(f"key file {ring.path} holds {', '.join(ring.ids)}; secrets by key: {by_key}",
                  soft_wrap=True, highlight=False)  # fmt: skip
    if problems:
        raise typer.Exit(code=1)


@user_app.command("list")
def user_list() -> None:
    """List users with their roles and jurisdictions."""
    from sqlalchemy import select

    from kilnwatch.store.models import User

    table = Table("username", "role", "region", "enterprise", "active")
    with session_scope() as session:
        for u in session.scalars(select(User).order_by(User.username)):
            table.add_row(u.username, u.role, u.region_code or "", str(u.enterprise_id or ""),
                          str(u.active))  # fmt: skip
    console.print(table)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core is typical).")
    ] = 1,
    log: Annotated[
        str | None,
        typer.Option(
            "--log",
            help="Publish gateways' HTTP readings to the ingest log (NATS JetStream) at "
            "nats://host:port[,…] instead of storing them (KILNWATCH_INGEST_LOG).",
        ),
    ] = None,
) -> None:
    """Serve the dashboard and the API (OpenAPI docs at /docs).

    Also /metrics (Prometheus) and /healthz; with --log, gateways' HTTP readings go to the
    ingest log.
    """
    import os

    import uvicorn

    from kilnwatch.store.engine import make_engine
    from kilnwatch.store.migrate import upgrade
    from kilnwatch.web.app import create_app

    if log is not None:  # worker processes build their settings from the environment
        os.environ["KILNWATCH_INGEST_LOG"] = log
    s = settings()
    engine = make_engine(s)
    upgrade(engine)
    engine.dispose()
    seal_plaintext_totp(s)
    console.print(f"serving on http://{host or s.host}:{port or s.port}  (API docs: /docs)")
    if workers == 1:
        app = create_app(s, prewarm=True)
        uvicorn.run(app, host=host or s.host, port=port or s.port, log_level="info")
    else:  # each worker builds its app from the same environment
        uvicorn.run("kilnwatch.web.app:serving_app", factory=True, workers=workers,
                    host=host or s.host, port=port or s.port, log_level="info")  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(export_app, name="export")
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)
