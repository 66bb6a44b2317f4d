"""The round planner on the simulated province: no enterprise twice, no group in its home
city, every group's load within the stated tolerance of the mean, visits on working days in the
window; and ``kilnwatch supervise plan-round`` writing the plan."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.province import load_counties
from kilnwatch.sim.run import build_province
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, InspectionVisit, ProductionUnit
from kilnwatch.supervise.catalogue import planning
from kilnwatch.supervise.planner import Candidate, choose_home_cities, plan_round

H1 = (date(2025, 1, 1), date(2025, 6, 30))
TOLERANCE = planning("load_tolerance_fraction")
runner = CliRunner()


def _candidates(seed: int, enterprises: int) -> list[Candidate]:
    province = build_province(SimParams(seed=seed, enterprises=enterprises))
    base, per_unit = planning("visit_base_load"), planning("unit_load")
    return [
        Candidate(
            e.idx, e.uscc, e.name, e.region_code[:4] + "00", base + per_unit * len(e.unit_idx)
        )
        for e in province.enterprises
        if e.status == "operating"
    ]


CITIES = sorted({code[:4] + "00" for code, _ in load_counties()})


@pytest.mark.parametrize(("seed", "enterprises", "groups"),
                         [(1, 60, 5), (2, 200, 5), (3, 400, 7), (4, 120, 3)])  # fmt: skip
def test_constraints_on_the_simulated_province(seed: int, enterprises: int, groups: int) -> None:
    found = _candidates(seed, enterprises)
    homes = choose_home_cities(found, groups, CITIES)
    plan = plan_round(found, homes=homes, first=H1[0], last=H1[1], tolerance=TOLERANCE,
                      visits_per_day=1)  # fmt: skip
    visited = Counter(v.candidate.enterprise_id for v in plan.visits)
    assert set(visited) == {c.enterprise_id for c in found}  # every enterprise
    assert max(visited.values()) == 1  # no enterprise twice
    assert all(v.candidate.city != v.group_home_city for v in plan.visits)  # no home city
    assert len({g.home_city for g in plan.groups}) == groups
    assert plan.max_deviation_fraction <= TOLERANCE  # loads balanced within the tolerance
    per_day = Counter((v.group, v.planned_on) for v in plan.visits)
    assert max(per_day.values()) == 1
    assert all(H1[0] <= v.planned_on <= H1[1] and v.planned_on.weekday() < 5
               for v in plan.visits)  # fmt: skip
    # travel: a city's enterprises go to few groups
    spread = Counter(c for g in plan.groups for c in g.cities)
    assert sum(spread.values()) <= len(spread) * groups


def test_impossible_constraints_are_refused() -> None:
    same = [Candidate(i, f"U{i}", "x", "370100", 1.0) for i in range(4)]
    with pytest.raises(InputError):  # the only group lives in the only city
        plan_round(same, homes=["370100"], first=H1[0], last=H1[1], tolerance=0.1,
                   visits_per_day=1)  # fmt: skip
    lumpy = [Candidate(1, "U1", "x", "370200", 10.0), Candidate(2, "U2", "y", "370300", 1.0)]
    with pytest.raises(InputError) as err:  # one huge visit cannot be balanced
        plan_round(lumpy, homes=["370100", "370400"], first=H1[0], last=H1[1], tolerance=0.1,
                   visits_per_day=1)  # fmt: skip
    assert err.value.location.field == "tolerance"
    with pytest.raises(InputError):  # more visits than working days
        plan_round(same, homes=["370200"], first=date(2025, 1, 1), last=date(2025, 1, 2),
                   tolerance=0.5, visits_per_day=1)  # fmt: skip


def test_plan_round_command(settings: Settings, engine: object, tmp_path: Path) -> None:
    db = make_engine(settings)
    try:
        _plan_round_command(settings, db, tmp_path)
    finally:
        db.dispose()


def _plan_round_command(settings: Settings, db: Engine, tmp_path: Path) -> None:
    province = build_province(SimParams(seed=5, enterprises=80))
    factory = make_session_factory(db)
    with unit_of_work(factory) as session:
        ids = {}
        for e in province.enterprises:
            row = Enterprise(uscc=e.uscc, name=e.name, region_code=e.region_code,
                             industry=e.industry, status=e.status)  # fmt: skip
            session.add(row)
            session.flush()
            ids[e.idx] = row.id
        for u in province.units:
            session.add(ProductionUnit(enterprise_id=ids[u.ent_idx], code=u.unit_code, name=u.name,
                                       process=u.process, capacity=u.capacity,
                                       capacity_unit=u.capacity_unit))  # fmt: skip
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    out = tmp_path / "plan.csv"
    args = ["supervise", "plan-round", "--round", "2025H1", "--groups", "5", "--out", str(out)]
    r = runner.invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert {"group", "group_home_city", "enterprise_uscc", "enterprise_city",
            "planned_on"} <= set(rows[0])  # fmt: skip
    operating = {e.uscc for e in province.enterprises if e.status == "operating"}
    assert sorted(r["enterprise_uscc"] for r in rows) == sorted(operating)
    assert all(r["group_home_city"] != r["enterprise_city"] for r in rows)
    assert len({r["group"] for r in rows}) == 5
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 2 and "exists" in again.output  # nothing replaced silently
    xlsx = tmp_path / "plan.xlsx"
    r = runner.invoke(app, ["supervise", "export-round", "--round", "2025H1", "--out", str(xlsx)],
                      env=env)  # fmt: skip
    assert r.exit_code == 0 and xlsx.stat().st_size > 0
    r = runner.invoke(app, [*args[:-2], "--out", str(tmp_path / "p.csv"), "--replace"], env=env)
    assert r.exit_code == 0, r.output
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(InspectionVisit)) == len(rows)
    r = runner.invoke(app, ["supervise", "plan-round", "--round", "2025-03", "--out",
                            str(out)], env=env)  # fmt: skip
    assert r.exit_code != 0


def test_complaints_import_command(settings: Settings, engine: object, tmp_path: Path) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    bad = tmp_path / "complaints.csv"
    bad.write_text("ref,channel,region_code,subject,body\nC1,letter,370102,噪声,夜间噪声\n"
                   "C2,letter,370102,,内容\n", encoding="utf-8")  # fmt: skip
    r = runner.invoke(app, ["supervise", "import-complaints", str(bad)], env=env)
    assert r.exit_code == 2 and "complaints.csv" in r.output and "row 2" in r.output, r.output
    good = tmp_path / "ok.csv"
    good.write_text("ref,channel,region_code,subject,body\nC1,letter,370102,噪声,夜间噪声\n",
                    encoding="utf-8")  # fmt: skip
    r = runner.invoke(app, ["supervise", "import-complaints", str(good)], env=env)
    assert r.exit_code == 0 and "1 complaints" in r.output, r.output
    r = runner.invoke(app, ["supervise", "escalate", "--today", "2099-01-01"], env=env)
    assert r.exit_code == 0 and "0 items escalated" in r.output, r.output
