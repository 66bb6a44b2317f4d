"""The ``kilnwatch`` command. Each command parses its arguments, builds Settings, calls one
function and commits at the end; the work itself lives in the packages."""

from __future__ import annotations

import typer

from kilnwatch.cli import (
    admin,
    audit,
    calc,
    demo,
    emissions,
    export,
    forward,
    hj212,
    imports,
    ingest,
    mapping,
    programme,
    report,
    schedule,
    simulate,
    supervise,
    verify,
)
from kilnwatch.collect.cli import app as collect_app

app = typer.Typer(
    name="kilnwatch",
    help="Energy, carbon and emission supervision of energy-intensive (两高) industries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
admin.register(app)
app.add_typer(audit.app, name="audit")
app.add_typer(imports.app, name="import")
export.register(admin.export_app)
app.add_typer(calc.app, name="calc")
app.add_typer(emissions.app, name="emissions")
app.add_typer(collect_app, name="collect")
app.add_typer(forward.app, name="forward")
app.add_typer(hj212.app, name="hj212")
app.add_typer(ingest.app, name="ingest")
app.add_typer(mapping.app, name="mapping")
app.add_typer(programme.app, name="programme")
app.add_typer(report.app, name="report")
app.add_typer(schedule.app, name="schedule")
app.add_typer(simulate.app, name="simulate")
app.add_typer(supervise.app, name="supervise")
app.command("demo")(demo.demo)
app.add_typer(verify.app, name="verify")


def main() -> None:
    app()


__all__ = ["app", "main"]
