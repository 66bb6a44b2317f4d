"""``kilnwatch collect``: the edge collector's commands.

Also runnable as ``python -m kilnwatch.collect`` on an edge box: this module imports only the
collector (no database layer, no web stack).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from kilnwatch.errors import ImportRejected, KilnwatchError
from kilnwatch.shutdown import stop_on_signals

app = typer.Typer(help="Edge collectors: poll field devices, buffer on disk, send to the "
                  "platform.", no_args_is_help=True)  # fmt: skip


@app.callback()
def main() -> None:
    """Edge collectors (docs/collection.md)."""


def _fail(exc: KilnwatchError) -> typer.Exit:
    if isinstance(exc, ImportRejected):
        for error in exc.errors:
            typer.echo(f"error {error.message}", err=True)
    typer.echo(f"error {exc.message}", err=True)
    return typer.Exit(code=2)


@app.command("modbus")
def modbus_cmd(
    config: Annotated[Path, typer.Option(help="Collector configuration (.toml, .yaml).")],
    once: Annotated[
        bool, typer.Option("--once", help="Poll every point once, send, exit.")
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Show the buffer and recent events, then exit.")
    ] = False,  # fmt: skip
) -> None:
    """Poll Modbus TCP meters and send their readings to the platform (HTTP or MQTT)."""
    from kilnwatch.collect.collector import Collector
    from kilnwatch.collect.config import read_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = read_config(config)
    except KilnwatchError as exc:
        raise _fail(exc) from exc
    if status:
        _status(settings.buffer)
        return
    collector = Collector(settings)
    points = sum(len(d.points) for d in settings.devices)
    typer.echo(f"collect ready: {len(settings.devices)} device(s), {points} point(s) -> "
               f"{settings.platform.url} (buffer {settings.buffer})")  # fmt: skip
    if once:
        stats = collector.run_once()
    else:
        stop = stop_on_signals()
        stats = collector.run(stop)
    typer.echo(f"collect stopped: {json.dumps(stats.snapshot())}")


def _status(path: Path | None) -> None:
    from kilnwatch.collect.buffer import Buffer

    assert path is not None
    buffer = Buffer(path)
    try:
        typer.echo(f"{buffer.count()} reading(s) waiting in {path}")
        for event in buffer.events(20):
            typer.echo(f"{event.at.isoformat()} {event.code} {event.meter_code}: {event.message}")
    finally:
        buffer.close()
