"""``kilnwatch audit``: an import is logged as the CLI's user; verify exits 0 on an intact log
and 1 naming the entry after tampering; the kept head catches a cut tail."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store.models import AuditEntry

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
runner = CliRunner()


@pytest.fixture
def env(settings: Settings, engine: Engine) -> dict[str, str]:
    r = runner.invoke(app, ["import", "registry", str(REGISTRY)], env=env_of(settings))
    assert r.exit_code == 0, r.output
    return env_of(settings)


def env_of(settings: Settings) -> dict[str, str]:
    return {"KILNWATCH_DATABASE_URL": settings.effective_database_url}


def test_verify_head_and_log(env: dict[str, str], engine: Engine) -> None:
    r = runner.invoke(app, ["audit", "verify"], env=env)
    assert r.exit_code == 0, r.output
    assert "intact" in r.output
    head = runner.invoke(app, ["audit", "head"], env=env).output.strip()
    seq = int(head.split(":")[0])
    assert seq >= 3  # three enterprises at least, with their units and meters
    r = runner.invoke(app, ["audit", "log", "--table", "enterprises", "--json"], env=env)
    assert r.exit_code == 0 and f'"actor": "cli:{getpass.getuser()}"' in r.output

    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(changes={}))
    r = runner.invoke(app, ["audit", "verify"], env=env)
    assert r.exit_code == 1
    assert "audit.entry_edited at entry 2" in r.output


def test_cut_tail_needs_the_kept_head(env: dict[str, str], engine: Engine) -> None:
    head = runner.invoke(app, ["audit", "head"], env=env).output.strip()
    seq = int(head.split(":")[0])
    with engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == seq))
    assert runner.invoke(app, ["audit", "verify"], env=env).exit_code == 0
    r = runner.invoke(app, ["audit", "verify", "--head", head], env=env)
    assert r.exit_code == 1 and "audit.head_missing" in r.output
    r = runner.invoke(app, ["audit", "verify", "--head", "12:abc"], env=env)
    assert r.exit_code == 2 and "SEQ:HASH" in r.output
