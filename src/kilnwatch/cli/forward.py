"""``kilnwatch forward``: forwarding to other platforms over HJ 212 (docs/collection.md).

The worker ``kilnwatch forward hj212 --target NAME`` stops on SIGTERM/SIGINT after recording
the current round.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kilnwatch.cli._common import command_session, console, exit_on_error, fail, settings
from kilnwatch.domain.periods import local_instant
from kilnwatch.errors import KilnwatchError
from kilnwatch.shutdown import stop_on_signals

app = typer.Typer(help="Forward readings to other platforms (HJ 212 upstream).",
                  no_args_is_help=True)  # fmt: skip
targets_app = typer.Typer(help="Forwarding targets.", no_args_is_help=True)
app.add_typer(targets_app, name="targets")


@app.command("hj212")
def hj212_cmd(
    target: Annotated[str, typer.Option(help="Target name (kilnwatch forward targets list).")],
    poll_s: Annotated[
        float, typer.Option(help="Look for new readings this often [s].", min=0.05)
    ] = 1.0,  # fmt: skip
) -> None:
    """Run the forwarding worker of one target until SIGTERM/SIGINT."""
    from kilnwatch.forward.worker import ForwardWorker
    from kilnwatch.store.engine import make_engine, make_session_factory
    from kilnwatch.store.migrate import upgrade
    from kilnwatch.store.models import ForwardTarget

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = make_engine(settings(), server=True)
    upgrade(engine)
    stop = stop_on_signals()

    def ready(t: ForwardTarget) -> None:
        typer.echo(f"forward ready: {t.name} -> {t.host}:{t.port}")

    try:
        worker = ForwardWorker(make_session_factory(engine), target, poll_s=poll_s, on_ready=ready)
        stats = worker.run(stop)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    typer.echo(f"forward stopped: {stats.snapshot()}")


@targets_app.command("import")
def import_targets(path: Annotated[Path, typer.Argument(help="Targets file (TOML).")]) -> None:
    """Create or update targets, their devices and meters from a TOML file."""
    from kilnwatch.forward.targets import read_targets, save_targets

    with exit_on_error():
        configs = read_targets(path)
        with command_session() as session:
            n = save_targets(session, configs, file=str(path))
    console.print(f"{n} target(s) saved")


@targets_app.command("list")
def list_targets() -> None:
    """Targets with their receiver, edition, devices and policy."""
    from sqlalchemy import func, select

    from kilnwatch.store.models import ForwardDevice, ForwardTarget

    table = Table("name", "receiver", "edition", "ST", "devices", "ack timeout [s]",
                  "attempts", "active")  # fmt: skip
    with command_session() as session:
        for t in session.scalars(select(ForwardTarget).order_by(ForwardTarget.name)):
            devices = session.scalar(select(func.count()).where(ForwardDevice.target_id == t.id))
            table.add_row(t.name, f"{t.host}:{t.port}", t.edition, t.st, str(devices),
                          f"{t.ack_timeout_s:g}", str(t.max_attempts), str(t.active))  # fmt: skip
    console.print(table)


@app.command("queue")
def queue_cmd() -> None:
    """Frames per state (pending, acked, dead) for every target."""
    from kilnwatch.forward.queue import queue_summaries

    table = Table("target", "pending", "acked", "dead", "oldest pending DataTime", "next attempt")
    with command_session() as session:
        for q in queue_summaries(session):
            table.add_row(q.target, str(q.counts["pending"]), str(q.counts["acked"]),
                          str(q.counts["dead"]), _when(q.oldest_pending_at),
                          _when(q.next_attempt_at))  # fmt: skip
    console.print(table)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


@app.command("dead-letters")
def dead_letters_cmd(
    target: Annotated[str | None, typer.Option(help="Only this target.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Frames that were never acknowledged after every attempt."""
    from kilnwatch.forward.queue import dead_letters
    from kilnwatch.forward.targets import target_by_name

    table = Table("QN", "DataTime", "attempts", "last attempt", "last error", "data area")
    with command_session() as session:
        target_id = target_by_name(session, target).id if target else None
        for f in dead_letters(session, target_id, limit):
            table.add_row(f.qn, _when(f.data_time), str(f.attempts),
                          _when(f.last_attempt_at), f.last_error or "", f.cp)  # fmt: skip
    console.print(table)


@app.command("requeue")
def requeue_cmd(target: Annotated[str, typer.Option(help="Target name.")]) -> None:
    """Give every dead letter of the target a fresh set of attempts."""
    from kilnwatch.forward.queue import requeue_dead
    from kilnwatch.forward.targets import target_by_name

    with command_session() as session:
        n = requeue_dead(session, target_by_name(session, target).id, datetime.now(UTC))
    console.print(f"{n} frame(s) queued again")


@app.command("enqueue")
def enqueue_cmd(
    target: Annotated[str, typer.Option(help="Target name.")],
    since: Annotated[
        datetime, typer.Option(help="Look back to this time (local time when no offset is given).")
    ],  # fmt: skip
) -> None:
    """Queue readings since a time that the late window no longer covers (catch-up)."""
    from kilnwatch.forward.queue import enqueue_new
    from kilnwatch.forward.targets import target_by_name

    start = local_instant(since, settings().zone)
    with command_session() as session:
        t = target_by_name(session, target)
        n = enqueue_new(session, t, datetime.now(UTC), since=start)
    console.print(f"{n} frame(s) queued")
