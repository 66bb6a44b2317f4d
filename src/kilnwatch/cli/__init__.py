"""The ``kilnwatch`` command. Each command parses its arguments, builds Settings, calls one
function and commits at the end; the work itself lives in the packages."""

from __future__ import annotations

import typer

from kilnwatch.cli import admin

app = typer.Typer(
    name="kilnwatch",
    help="Energy, carbon and emission supervision of energy-intensive (两高) industries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
admin.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
