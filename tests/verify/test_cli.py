"""``kilnwatch verify`` and ``kilnwatch import sources`` through their Typer apps."""

from __future__ import annotations

from pathlib import Path

import typer
from _verify_factory import PERIOD, Plant, store
from sqlalchemy import Engine
from typer.testing import CliRunner

from kilnwatch.cli.imports import app as import_app
from kilnwatch.cli.verify import app
from kilnwatch.config import Settings
from kilnwatch.store.engine import make_session_factory, unit_of_work

runner = CliRunner()


def test_verify_command_reports_findings(settings: Settings, engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["production:clinker"] *= 1.08
        store(session, plant)
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(app, ["--period", PERIOD, "--enterprise", "91370100MA3C4XYZ1Q"], env=env)
    assert r.exit_code == 0, r.output
    assert "verify.metered_vs_reported.production_overreported" in r.output
    assert "1 enterprises, 1 findings (1 new" in r.output
    r = runner.invoke(app, ["--period", PERIOD, "--enterprise", "91370100MA3C4XYZ2Q"], env=env)
    assert r.exit_code != 0


def test_verify_a_quarter_month_by_month(settings: Settings, engine: Engine) -> None:
    """Verification is monthly: a quarter is verified as its three months, and says so."""
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["production:clinker"] *= 1.08
        store(session, plant)
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "400"}
    r = runner.invoke(app, ["--period", "2025-Q1"], env=env)
    assert r.exit_code == 0, r.output
    # the console's width is fixed when it is first made, so a long line may wrap
    assert "2025-Q1 verified as 3 months (2025-01, 2025-02, 2025-03)" in " ".join(r.output.split())
    assert "verify.metered_vs_reported.production_overreported" in r.output
    assert "2025-01: 1 enterprises, 0 findings" in r.output
    assert "2025-03: 1 enterprises," in r.output
    r = runner.invoke(app, ["--period", "2025-13"], env=env)
    assert r.exit_code == 2 and "Invalid value for '--period'" in r.output
    assert "there is no month 13" in r.output and "YYYY-Qn (quarter)" in r.output


def test_import_sources_command(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        store(session, Plant())
    (tmp_path / "market_prices.csv").write_text(
        "period,item,price_cny_per_unit,unit\n2025-04,product:clinker,310,t\n2025-13,x,1,t\n"
    )
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(import_app, ["sources", str(tmp_path)], env=env)
    assert r.exit_code == 2
    assert "market_prices.csv, row 2, field 'period'" in r.output
    r = runner.invoke(import_app, ["sources", str(tmp_path), "--skip-invalid"], env=env)
    assert r.exit_code == 0, r.output
    assert "market_prices: 1 created" in r.output
    assert isinstance(app, typer.Typer)


def test_verify_command_refuses_a_misspelt_override(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    rules = tmp_path / "province.toml"
    rules.write_text('[rules."verify.coal_balance.unmetered"]\nwindow_monthz = 6\n')
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = runner.invoke(app, ["--period", PERIOD, "--rules", str(rules)], env=env)
    assert r.exit_code != 0
    assert "window_monthz" in r.output and "window_months" in r.output


def test_verify_says_which_items_it_could_not_check(settings: Settings, engine: Engine) -> None:
    """Issue 12, class 7: a valid item that nothing of the enterprise can compare (coke without
    a coke meter) is listed in the run output, not skipped without a word."""
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["energy:coke"] = 1200.0
        store(session, plant)
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "400"}
    r = runner.invoke(app, ["--period", PERIOD], env=env)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "accepted but not checked: 1 statistical item(s)" in text
    assert f"91370100MA3C4XYZ1Q {PERIOD} energy:coke: no entry meter of coke" in text
    assert "energy:electricity" not in text.split("accepted but not checked")[1]
