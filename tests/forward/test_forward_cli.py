"""``kilnwatch forward`` commands: import targets, list them, the queue and dead letters,
requeue and catch-up (the worker itself runs in test_forward_receivers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from forward_support import NOW, add_readings, load_platform_registry, targets_toml
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import ForwardFrame

runner = CliRunner()


def test_forward_commands(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "200"}
    with unit_of_work(make_session_factory(engine)) as session:
        load_platform_registry(session, tmp_path)
        add_readings(session, range(3))
    bad = tmp_path / "bad.toml"
    bad.write_text(targets_toml(tmp_path / "t.toml", 9212).read_text().replace(
        "GW-JN-212", "GW-NOPE"), encoding="utf-8")  # fmt: skip
    r = runner.invoke(app, ["forward", "targets", "import", str(bad)], env=env)
    assert r.exit_code == 2 and "target[0].device[0].gateway" in r.output
    r = runner.invoke(app, ["forward", "targets", "import", str(tmp_path / "t.toml")], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["forward", "targets", "list"], env=env)
    assert "city" in r.output and "127.0.0.1:9212" in r.output
    since = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
    r = runner.invoke(app, ["forward", "enqueue", "--target", "city", "--since", since], env=env)
    assert r.exit_code == 0 and "3 frame(s) queued" in r.output, r.output
    with Session(engine) as s, s.begin():
        s.execute(update(ForwardFrame).values(state="dead", attempts=8, last_error="no reply",
                                              last_attempt_at=NOW))  # fmt: skip
    r = runner.invoke(app, ["forward", "queue"], env=env)
    assert "city" in r.output and " 3 " in r.output
    r = runner.invoke(app, ["forward", "dead-letters", "--target", "city"], env=env)
    assert r.output.count("no reply") == 3
    r = runner.invoke(app, ["forward", "requeue", "--target", "city"], env=env)
    assert "3 frame(s) queued again" in r.output
    r = runner.invoke(app, ["forward", "dead-letters", "--target", "nope"], env=env)
    assert r.exit_code == 2 and "no forwarding target 'nope'" in r.output
