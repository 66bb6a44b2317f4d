"""Determinations keep the table they were judged against; a provincial table changes today's
classes and leaves past results; plans follow the workflow and raise alerts when they slip;
the elimination list; the programme report through the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from clinker import load_clinker_line
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.accounting.units import NO_ENERGY_FACTOR, unit_account, unit_accounts
from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.domain.periods import parse_period
from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.programme import determination, plans
from kilnwatch.programme.elimination import elimination_list
from kilnwatch.programme.view import programme_view
from kilnwatch.reference.levels import load_level_tables, read_provincial_table
from kilnwatch.store.models import Enterprise, LevelDetermination, Meter, ProductionUnit
from zone import SHANGHAI

ADMIN = Principal("admin", Role.ADMIN)
CITY = Principal("jinan", Role.CITY, region_code="370100")
PROVINCE = Principal("shandong", Role.PROVINCE, region_code="370000")
MARCH = parse_period("2025-03", SHANGHAI)
runner = CliRunner()


def _cl1(rows: list[LevelDetermination]) -> list[LevelDetermination]:
    return [r for r in rows if r.unit.code == "CL1"]


def _provincial(tmp_path: Path) -> Path:
    """A stricter provincial clinker table: baseline 105 kgce/t (the line is ~113)."""
    path = tmp_path / "shandong_2024.csv"
    path.write_text(
        "field,variant,unit,benchmark,baseline,edition_year,source,confidence,notes\n"
        "cement_clinker,,kgce/t,98,105,2024,test table (not a real provincial value),low,\n",
        encoding="utf-8",
    )
    return path


def test_a_provincial_table_changes_todays_class_and_keeps_past_results(
    session: Session, tmp_path: Path
) -> None:
    load_clinker_line(session, tmp_path, saving=0.0, seed=3)
    [past] = _cl1(determination.determine(session, ADMIN, MARCH))
    session.commit()
    assert past.computed_class == "between"
    assert past.computed_table in ("ndrc_2021", "ndrc_2023", "GB 16780-2021")
    assert past.computed_table_edition is not None
    before = (past.id, past.computed_class, past.computed_table)
    tables = (*load_level_tables(), read_provincial_table(_provincial(tmp_path)))
    [today] = _cl1(determination.determine(session, ADMIN, MARCH, tables))
    session.commit()
    assert today.computed_class == "below_baseline"
    assert today.computed_table == "province:shandong_2024"
    assert today.computed_table_edition == 2024
    session.refresh(past)
    assert (past.id, past.computed_class, past.computed_table) == before
    assert today.id in [d.id for d in determination.latest(session, ADMIN, "2025-03")]
    assert past.id not in [d.id for d in determination.latest(session, ADMIN, "2025-03")]


def test_declaration_and_expert_decision_are_recorded(session: Session, tmp_path: Path) -> None:
    load_clinker_line(session, tmp_path, saving=0.0, seed=4)
    [row] = _cl1(determination.determine(session, ADMIN, MARCH))
    enterprise = Principal("qiye", Role.ENTERPRISE, enterprise_id=row.enterprise_id)
    declared = determination.declare(session, enterprise, row.id, "benchmark", "heat balance test")
    assert declared.status == "differs" and declared.declared_by == "qiye"
    with pytest.raises(PermissionDeniedError):
        determination.decide(session, enterprise, row.id, "benchmark", "self")
    with pytest.raises(InputError, match="evidence"):
        determination.decide(session, PROVINCE, row.id, "between", " ")
    decided = determination.decide(session, PROVINCE, row.id, "between", "metered data, 31 d")
    assert decided.status == "decided" and decided.final_class == "between"
    assert decided.decided_by == "shandong" and decided.decided_at is not None
    assert determination.effective_class(decided) == "between"


def test_plan_workflow_deadline_and_alerts(session: Session, tmp_path: Path) -> None:
    unit = load_clinker_line(session, tmp_path, saving=0.0, seed=5)
    enterprise = Principal("qiye", Role.ENTERPRISE, enterprise_id=unit.enterprise_id)
    common = {
        "title": "熟料线节能改造",
        "measures": [plans.Measure("高效篦冷机", 8_000_000.0, 3_000.0)],
        "responsible": "张三",
        "start_on": date(2024, 1, 1),
        "milestones": [("设备到货", date(2024, 6, 30))],
    }
    with pytest.raises(InputError, match="deadline"):
        plans.create_plan(session, enterprise, unit, deadline_on=date(2027, 6, 1),
                          province=None, **common)  # type: ignore[arg-type]  # fmt: skip
    plan = plans.create_plan(session, enterprise, unit, deadline_on=None, province="shandong",
                             **common)  # type: ignore[arg-type]  # fmt: skip
    assert plan.deadline_on == date(2024, 12, 31)  # the province's date (policy.csv)
    with pytest.raises(PermissionDeniedError):
        plans.act(session, CITY, plan.id, "submit")
    plans.act(session, enterprise, plan.id, "submit")
    with pytest.raises(PermissionDeniedError):
        plans.act(session, enterprise, plan.id, "approve")
    with pytest.raises(InputError, match="cannot approve"):
        plans.act(session, PROVINCE, plan.id, "approve")
    plans.act(session, CITY, plan.id, "city_review")
    approved = plans.act(session, PROVINCE, plan.id, "approve")
    assert approved.status == "approved"
    assert [h["action"] for h in approved.history] == ["create", "submit", "city_review", "approve"]
    codes = {a.code for a in plans.slipping(session, ADMIN, date(2025, 1, 15))}
    assert codes == {"programme.plan.milestone_overdue", "programme.plan.deadline_passed"}
    assert plans.slipping(session, ADMIN, date(2024, 3, 1)) == []


def test_below_baseline_past_the_deadline_is_listed_for_elimination(
    session: Session, tmp_path: Path
) -> None:
    load_clinker_line(session, tmp_path, saving=0.0, seed=6)
    tables = (*load_level_tables(), read_provincial_table(_provincial(tmp_path)))
    determination.determine(session, ADMIN, MARCH, tables)
    accounts = unit_accounts(session, ADMIN, MARCH, tables)
    items = elimination_list(session, ADMIN, accounts, "2025-03", date(2025, 4, 1), "shandong")
    items = [i for i in items if i.unit_code == "CL1"]
    assert [i.code for i in items] == ["programme.eliminate.not_retrofitted"]
    assert items[0].deadline_on == date(2024, 12, 31)
    earlier = elimination_list(session, ADMIN, accounts, "2025-03", date(2024, 4, 1), "shandong")
    assert [i for i in earlier if i.unit_code == "CL1"] == []
    view = programme_view(session, ADMIN, MARCH, date(2025, 4, 1), "shandong", tables)
    stages = {s.stage: s.units for s in view.stages}
    assert stages["below_baseline"] == 1 and stages["eliminated"] == 1
    assert view.units_classified == 1 and view.units_total == 3
    assert len(view.unclassified) == 2  # coke oven and blast furnace: no readings, reason given
    assert all(code.startswith("level.unclassified.") and reason
               for _, _, code, reason in view.unclassified)  # fmt: skip
    # no 2020 data in the fixture: no change, and the reason is stated
    assert view.intensity_change_fraction is None and view.intensity_notes


def test_report_programme_writes_the_xlsx(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_clinker_line(session, tmp_path, saving=0.0, seed=7)
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    out = tmp_path / "programme.xlsx"
    result = runner.invoke(
        app, ["report", "programme", "--period", "2025-03", "--format", "xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    names = " ".join(book.sheetnames)
    assert "淘汰清单" in names and "能效领跑者" in names
    leaders = list(book["能效领跑者（按领域排名）"].iter_rows(values_only=True))
    assert any(row[0] == "cement_clinker" for row in leaders)


def test_a_refinery_without_its_energy_factor_states_why_it_is_not_classified() -> None:
    enterprise = Enterprise(id=1, uscc="91370200163562681G", name="炼化", region_code="370211",
                            industry="refining")  # fmt: skip
    unit = ProductionUnit(id=1, enterprise_id=1, code="CDU1", name="常减压", process="refinery",
                          capacity=1e7, capacity_unit="t/a", enterprise=enterprise)  # fmt: skip
    meters = [
        Meter(id=1, code="R-GAS", unit_id=1, carrier="natural_gas", level="sub_unit",
              measurement="counter", unit_of_measure="m3"),
        Meter(id=2, code="R-OUT", unit_id=1, carrier="product:crude_processed", level="sub_unit",
              measurement="interval", unit_of_measure="t"),
    ]  # fmt: skip
    acc = unit_account(unit, meters, {1: 5e6, 2: 8e5}, {1: 744, 2: 744}, MARCH)
    assert acc.class_ is None and acc.intensity is None
    assert NO_ENERGY_FACTOR in acc.notes
