"""The ``kilnwatch`` command. Each command parses its arguments, builds Settings, calls one
function and commits at the end; the work itself lives in the packages.

Subcommands are imported when they run (``cli/_lazy.py``): a command's start-up costs the
imports of that command only. A new subcommand gets a row in :data:`COMMANDS`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import typer

from kilnwatch.cli._lazy import LazyCommand, LazyGroup


def _attr(module: str, name: str) -> Any:
    from importlib import import_module

    return getattr(import_module(f"kilnwatch.cli.{module}"), name)


@cache  # registered once, however many times the group is built (tests build it per call)
def _export_app() -> typer.Typer:
    from kilnwatch.cli import admin, export

    export.register(admin.export_app)
    return admin.export_app


def _collect_app() -> typer.Typer:
    from kilnwatch.collect.cli import app as collect_app

    return collect_app


def _lazy(summary: str, module: str, name: str = "app") -> LazyCommand:
    return LazyCommand(summary, lambda: _attr(module, name))


COMMANDS: dict[str, LazyCommand] = {
    "serve": _lazy("Serve the dashboard and the API (OpenAPI docs at /docs).", "admin", "serve"),
    "demo": _lazy(
        "Build a simulated province in the embedded database (once), then serve the dashboard.",
        "demo",
        "demo",
    ),
    "db": _lazy("Database schema.", "admin", "db_app"),
    "export": LazyCommand("Export data files.", _export_app),
    "user": _lazy("Users and their jurisdictions.", "admin", "user_app"),
    "audit": _lazy(
        "The audit trail (可复核): every change to kept records, hash-chained.", "audit"
    ),
    "import": _lazy("Import data files (formats: docs/formats.md).", "imports"),
    "calc": _lazy(
        "Energy & carbon calculations: standard coal (GB/T 2589) and efficiency levels.", "calc"
    ),
    "emissions": _lazy("Pollutant emissions and water.", "emissions"),
    "collect": LazyCommand(
        "Edge collectors: poll field devices, buffer on disk, send to the platform.", _collect_app
    ),
    "forward": _lazy("Forward readings to other platforms (HJ 212 upstream).", "forward"),
    "hj212": _lazy("HJ 212 tools: decode captured bytes, build frames, run a receiver.", "hj212"),
    "ingest": _lazy("Live ingestion: MQTT and HJ 212 receivers, ingest-log writers.", "ingest"),
    "mapping": _lazy("Saved column mappings of other systems' exports.", "mapping"),
    "programme": _lazy("Efficiency programme (能效提升): levels, plans, savings.", "programme"),
    "report": _lazy("Reports (XLSX/PDF) and accounting tables.", "report"),
    "schedule": _lazy("Scheduled reports: archive and e-mail.", "schedule"),
    "simulate": _lazy(
        "Synthetic province simulator (demo, tests, benchmarks, training).", "simulate"
    ),
    "supervise": _lazy("Supervision: inspection rounds, rectification, complaints.", "supervise"),
    "verify": _lazy("Cross-verification: find false and missing reporting.", "verify"),
}
"""Every subcommand of ``kilnwatch``: summary (as in its own help) and where it lives."""


class KilnwatchGroup(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="kilnwatch",
    help="Energy, carbon and emission supervision of energy-intensive (两高) industries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=KilnwatchGroup,
)


@app.callback()
def _root() -> None:
    """The subcommands are in :data:`COMMANDS`."""


def main() -> None:
    app()


__all__ = ["COMMANDS", "app", "main"]
