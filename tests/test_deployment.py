"""The deployment files (deploy/, docs/deployment.md) name real commands with real options.

Every ``kilnwatch …`` of a systemd unit's ``ExecStart`` and of a compose service's
``command`` is parsed by the CLI itself (unknown commands or options fail) and its ``--help``
runs; the compose file parses, refers to files that exist and runs three NATS nodes; each
NATS node's configuration passes ``nats-server -t``.
"""

from __future__ import annotations

import configparser
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from kilnwatch.cli import app
from nats_servers import nats_binary
from servers import need_server

DEPLOY = Path(__file__).parents[1] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
COMPOSE = DEPLOY / "compose.yaml"
INSTANCE = "9111"  # what %i stands for when a template's command is checked


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def _kilnwatch_args(argv: list[str]) -> list[str] | None:
    """The arguments after the ``kilnwatch`` program, or None for another program."""
    if not argv or Path(argv[0]).name != "kilnwatch":
        return None
    return [a.replace("%i", INSTANCE).replace("%H", "host") for a in argv[1:]]


def _check_command(args: list[str]) -> None:
    """Parse ``args`` down to the leaf command (the CLI refuses unknown commands and options,
    wrong types and missing values), then run its ``--help``."""
    command: Any = typer.main.get_command(app)
    ctx = command.make_context("kilnwatch", list(args))
    rest = list(args)
    while hasattr(command, "resolve_command"):  # a group: go down to the named command
        name, command, rest = command.resolve_command(ctx, rest)
        assert command is not None, f"no command {name!r} in {args}"
        ctx = command.make_context(name or "", list(rest), parent=ctx)
    assert not hasattr(command, "resolve_command")
    result = CliRunner().invoke(app, [*args[: len(args) - len(rest)], "--help"])
    assert result.exit_code == 0, result.output


def _compose() -> dict[str, object]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_every_unit_is_there() -> None:
    names = {p.name for p in UNITS}
    assert {"kilnwatch-web.service", "kilnwatch-mqtt.service", "kilnwatch-hj212.service",
            "kilnwatch-writer@.service", "kilnwatch-nats@.service"} <= names  # fmt: skip


@pytest.mark.parametrize("unit", UNITS, ids=[p.name for p in UNITS])
def test_unit_starts_a_real_command(unit: Path) -> None:
    parsed = _unit(unit)
    exec_start = parsed["Service"]["ExecStart"]
    argv = shlex.split(exec_start)
    args = _kilnwatch_args(argv)
    if args is None:
        assert argv[0] == "/usr/sbin/nats-server"
        conf = argv[argv.index("-c") + 1].replace("%i", "nats1")
        assert (DEPLOY / "nats" / Path(conf).name).exists()
        return
    _check_command(args)
    assert parsed["Service"]["EnvironmentFile"] == "/etc/kilnwatch/kilnwatch.env"


def test_compose_file_runs_the_cluster_the_front_ends_writers_web_and_postgres() -> None:
    doc = _compose()
    services = doc["services"]
    assert isinstance(services, dict)
    assert {"nats1", "nats2", "nats3", "postgres", "web", "mqtt", "hj212", "writer",
            "migrate"} <= services.keys()  # fmt: skip
    kilnwatch = {name: s for name, s in services.items() if s.get("image") == "kilnwatch:latest"}
    assert set(kilnwatch) == {"migrate", "web", "mqtt", "hj212", "writer"}
    for name, service in kilnwatch.items():
        args = _kilnwatch_args(service["command"])
        assert args is not None, name
        _check_command(args)
        assert (DEPLOY / service["env_file"]).exists()
    assert services["writer"]["deploy"]["replicas"] >= 2
    env = (DEPLOY / "compose.env").read_text(encoding="utf-8")
    assert "KILNWATCH_INGEST_LOG=nats://nats1:4222,nats://nats2:4222,nats://nats3:4222" in env
    for name in ("nats1", "nats2", "nats3"):
        mounts = [v.split(":")[0] for v in services[name]["volumes"] if v.startswith("./")]
        assert mounts == [f"./nats/{name}.conf"]
        assert (DEPLOY / mounts[0]).exists()


@pytest.mark.parametrize("node", ["nats1", "nats2", "nats3"])
def test_nats_node_configuration_is_valid(node: str) -> None:
    binary = nats_binary()
    need_server(binary is not None, "nats-server (make sysdeps installs it)")
    assert binary is not None
    conf = DEPLOY / "nats" / f"{node}.conf"
    done = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True,
                          timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = conf.read_text(encoding="utf-8")
    others = {"nats1", "nats2", "nats3"} - {node}
    assert all(f"nats-route://{o}:6222" in text for o in others)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "writer", "--no-such-option"], "No such option"),
        (["ingest", "writer", "--batch", "many"], "valid integer"),
        (["ingest", "nowhere"], "No such command"),
    ],
)
def test_a_wrong_command_is_caught(args: list[str], message: str) -> None:
    with pytest.raises(Exception, match=message):
        _check_command(args)
