from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.models import Enterprise, User

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
runner = CliRunner()


@pytest.fixture
def env(settings: Settings, engine: object) -> dict[str, str]:
    return {"KILNWATCH_DATABASE_URL": settings.effective_database_url}


def _enterprises(settings: Settings) -> int:
    engine = make_engine(settings)
    with make_session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(Enterprise)) or 0
    engine.dispose()
    return n


def test_import_export_roundtrip(env: dict[str, str], settings: Settings, tmp_path: Path) -> None:
    r = runner.invoke(app, ["import", "registry", str(REGISTRY)], env=env)
    assert r.exit_code == 0, r.output
    assert "enterprises: 3 created, 0 updated" in r.output
    out = tmp_path / "export"
    r = runner.invoke(app, ["export", "registry", "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    exported = (out / "meters.csv").read_text(encoding="utf-8").splitlines()
    original = (REGISTRY / "meters.csv").read_text(encoding="utf-8").splitlines()
    # the export writes every column: water_source (none in the fixture) comes last, empty
    assert exported == [original[0] + ",water_source", *(line + "," for line in original[1:])]
    assert "secret" not in (out / "gateways.csv").read_text(encoding="utf-8")
    r = runner.invoke(app, ["import", "registry", str(out)], env=env)
    assert r.exit_code == 0 and "meters: 0 created, 4 updated" in r.output
    args = ["export", "registry", "--out", str(tmp_path / "x"), "--format", "xlsx"]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0 and (tmp_path / "x" / "enterprises.xlsx").exists()


def test_bad_registry_file_one_line_per_fault(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "enterprises.csv"
    bad.write_text(
        "uscc,name,region_code,industry\n"
        "91370100MA3C4XY21X,a,370112,cement\n"
        "913701007062084595,b,379999,cement\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["import", "registry", str(bad)], env=env)
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.startswith("error")]
    assert lines[0].startswith("error enterprises.csv, row 1, field 'uscc': invalid unified")
    assert lines[1] == (
        "error enterprises.csv, row 2, field 'region_code': "
        "unknown region '379999' (GB/T 2260 code of a city or county)"
    )
    assert lines[2].endswith("2 invalid row(s); nothing was imported")
    assert _enterprises(settings) == 0

    r = runner.invoke(
        app,
        ["import", "registry", str(bad), "--skip-invalid", "--rejects", str(tmp_path / "rej.csv")],
        env=env,  # noqa: E501
    )
    assert r.exit_code == 0
    assert len((tmp_path / "rej.csv").read_text(encoding="utf-8").splitlines()) == 3


def test_user_add(env: dict[str, str], settings: Settings) -> None:
    args = [
        "user",
        "add",
        "jn",
        "--role",
        "city",
        "--region",
        "370100",
        "--password",
        "longenough1",
    ]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["user", "add", "x", "--role", "city", "--password", "longenough1"], env=env
    )  # noqa: E501
    assert r.exit_code == 2 and "needs a region" in r.output
    engine = make_engine(settings)
    with make_session_factory(engine)() as s:
        assert s.scalar(select(User.region_code).where(User.username == "jn")) == "370100"
    engine.dispose()
