"""Subcommands load when they run; ``kilnwatch --help`` lists them without loading them."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command
from typer.testing import CliRunner

from kilnwatch.cli import COMMANDS, app

HEAVY = ("polars", "sqlalchemy", "alembic", "numpy", "kilnwatch.store", "kilnwatch.web")


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['kilnwatch', *{args!r}]\n"
        "from kilnwatch.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', *[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.rsplit("LOADED", 1)[1].split())


def test_help_loads_no_subcommand() -> None:
    assert _modules_after(["--help"]) == set()


def test_a_subcommand_loads_its_own_imports_only() -> None:
    loaded = _modules_after(["hj212", "--help"])
    assert "kilnwatch.web" not in loaded
    assert "alembic" not in loaded


def test_each_summary_is_the_commands_own_help() -> None:
    group = get_command(app)
    for name, entry in COMMANDS.items():
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.name == name
        assert (command.help or "").split("\n\n")[0].strip() == entry.summary, name


def test_help_lists_every_subcommand_and_runs_one() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    for name, entry in COMMANDS.items():
        assert name in listed.output and entry.summary in listed.output
    decoded = runner.invoke(app, ["hj212", "--help"], env={"COLUMNS": "200"})
    assert decoded.exit_code == 0 and "decode" in decoded.output
    wrong = runner.invoke(app, ["imprt"])
    assert wrong.exit_code == 2 and "import" in wrong.output


def test_a_group_added_the_eager_way_still_works() -> None:
    """``app.add_typer`` on a lazy app builds that group at once, beside the lazy ones."""
    import typer

    from kilnwatch.cli import KilnwatchGroup

    eager = typer.Typer(help="Eager.")

    @eager.command("ping")
    def ping() -> None:
        typer.echo("pong")

    root = typer.Typer(cls=KilnwatchGroup)
    root.add_typer(eager, name="eager")
    group = get_command(root)
    assert "eager" in group.commands and "import" in group.commands  # type: ignore[attr-defined]
    result = CliRunner().invoke(root, ["eager", "ping"])
    assert result.exit_code == 0 and result.output == "pong\n"
