"""Obsolete processes and equipment (淘汰类) as sourced rules on units' equipment attributes:
one case per kind of rule (``<``, ``<=``, ``in``, several conditions, an exception, a regional
scope, a missing attribute), the packaged rules file, equipment attributes in the registry
format, and the elimination list with the recorded exit grounds by kind."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.accounting.units import unit_accounts
from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.domain.obsolete import (
    check_equipment,
    format_equipment,
    match_obsolete,
    parse_equipment,
)
from kilnwatch.domain.periods import parse_period
from kilnwatch.errors import ImportRejected, InputError, PermissionDeniedError, ReferenceDataError
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.registry import export_registry, import_registry
from kilnwatch.programme.catalogue import catalogue_matches
from kilnwatch.programme.elimination import elimination_list
from kilnwatch.programme.exit_grounds import exit_ground_records, record_exit_ground
from kilnwatch.programme.view import programme_view
from kilnwatch.reference import programme as programme_reference
from kilnwatch.reference._csv import Row
from kilnwatch.reference.programme import (
    ObsoleteRule,
    load_obsolete_rules,
    parse_conditions,
)
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import build_province
from kilnwatch.store.models import ProductionUnit
from zone import SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
ADMIN = Principal("admin", Role.ADMIN)
KEY_CITY, OTHER_CITY = "370305", "370211"  # a Zibo county (key region), a Qingdao district
MARCH = parse_period("2025-03", SHANGHAI)
runner = CliRunner()


def _rule(
    conditions: str, unless: str = "", applies_to: str = "national", **kw: object
) -> ObsoleteRule:
    process = str(kw.get("process", "refinery"))
    return ObsoleteRule(
        rule_id=str(kw.get("rule_id", "test.rule")),
        document="test document",
        item="",
        process=process,
        kind="technology",
        conditions=parse_conditions(conditions),
        unless=parse_conditions(unless, column="unless"),
        deadline=kw.get("deadline"),  # type: ignore[arg-type]
        applies_to=applies_to,
        text_zh="测试条目",
        source="test",
        confidence="low",
        notes="",
    )


def _match(
    rule: ObsoleteRule, equipment: dict[str, float | str], region: str = KEY_CITY
) -> tuple[list[str], list[tuple[str, ...]]]:
    matches, unjudged = match_obsolete(rule.process, region, equipment, [rule], "shandong")
    return [m.reason() for m in matches], [u.missing for u in unjudged]


def test_at_or_below_a_threshold_matches_and_above_it_does_not() -> None:
    rule = _rule("cdu_capacity_t_per_a <= 2000000")
    [reason], [] = _match(rule, {"cdu_capacity_t_per_a": 2_000_000.0})
    assert "cdu_capacity_t_per_a 2000000 <= 2000000" in reason
    assert _match(rule, {"cdu_capacity_t_per_a": 2_000_001.0}) == ([], [])


def test_strictly_below_a_threshold_matches_and_at_it_does_not() -> None:
    rule = _rule("bf_volume_m3 < 400", process="blast_furnace")
    [reason], [] = _match(rule, {"bf_volume_m3": 399.0})
    assert "bf_volume_m3 399 < 400" in reason
    assert _match(rule, {"bf_volume_m3": 400.0}) == ([], [])


def test_a_category_matches_its_listed_values_only() -> None:
    rule = _rule("sinter_machine_type in stepping", process="sinter_machine")
    assert len(_match(rule, {"sinter_machine_type": "stepping"})[0]) == 1
    assert _match(rule, {"sinter_machine_type": "belt"}) == ([], [])


def test_every_condition_must_hold() -> None:
    rule = _rule(
        "furnace_enclosure in semi_closed; ferroalloy_product in silicomanganese|nickel_pig_iron",
        process="ferroalloy_furnace",
    )
    hit = {"furnace_enclosure": "semi_closed", "ferroalloy_product": "silicomanganese"}
    assert len(_match(rule, hit)[0]) == 1
    assert _match(rule, {**hit, "ferroalloy_product": "ferrosilicon"}) == ([], [])
    assert _match(rule, {**hit, "furnace_enclosure": "closed"}) == ([], [])


def test_an_exception_lifts_the_match_and_an_unknown_exception_is_not_guessed() -> None:
    rule = _rule("cdu_capacity_t_per_a <= 2000000", unless="cdu_special_recognised in yes")
    small = {"cdu_capacity_t_per_a": 1_500_000.0}
    assert _match(rule, {**small, "cdu_special_recognised": "yes"}) == ([], [])
    assert len(_match(rule, {**small, "cdu_special_recognised": "no"})[0]) == 1
    assert _match(rule, small) == ([], [("cdu_special_recognised",)])


def test_a_regional_rule_applies_in_its_cities_and_their_counties_only() -> None:
    rule = _rule("sinter_machine_type in stepping", applies_to="regions:370300|370100",
                 process="sinter_machine")  # fmt: skip
    stepping = {"sinter_machine_type": "stepping"}
    assert len(_match(rule, stepping, KEY_CITY)[0]) == 1
    assert _match(rule, stepping, OTHER_CITY) == ([], [])
    other = _rule("sinter_machine_type in stepping", applies_to="province:shanxi",
                  process="sinter_machine")  # fmt: skip
    assert _match(other, stepping) == ([], [])


def test_a_missing_attribute_leaves_the_unit_unjudged_unless_another_condition_fails() -> None:
    rule = _rule(
        "furnace_enclosure in semi_closed; ferroalloy_product in silicomanganese",
        process="ferroalloy_furnace",
    )
    assert _match(rule, {"furnace_enclosure": "semi_closed"}) == ([], [("ferroalloy_product",)])
    assert _match(rule, {"furnace_enclosure": "closed"}) == ([], [])
    assert _match(rule, {}) == ([], [("furnace_enclosure", "ferroalloy_product")])


def test_the_packaged_rules_are_sourced_graded_and_scoped() -> None:
    rules = {r.rule_id: r for r in load_obsolete_rules()}
    assert set(rules) == {
        "aq2023.sinter_stepping",
        "aq2023.ferroalloy_semi_closed",
        "refining2023.cdu_2mt",
    }
    for r in rules.values():
        assert r.source and r.confidence in ("good", "medium", "low") and r.text_zh
    key_cities = rules["aq2023.sinter_stepping"].regions()
    assert len(key_cities) == 13 and "370200" not in key_cities and "370300" in key_cities
    assert rules["refining2023.cdu_2mt"].conditions[0].value == 2_000_000


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("furnace_volume < 3", "unknown attribute"),
        ("sinter_machine_type < 3", "is a choice"),
        ("sinter_machine_type in oval", "not among the choices"),
        ("bf_volume_m3 = 400", "not 'attribute"),
        ("bf_volume_m3 < many", "not a number"),
    ],
)
def test_a_bad_condition_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ReferenceDataError, match=problem):
        parse_conditions(text)


def test_equipment_attributes_are_checked_for_the_process() -> None:
    assert check_equipment("blast_furnace", {"bf_volume_m3": "380"}) == {"bf_volume_m3": 380.0}
    for process, values, field in (
        ("cement_clinker_line", {"bf_volume_m3": 380}, "equipment.bf_volume_m3"),
        ("sinter_machine", {"sinter_machine_type": "oval"}, "equipment.sinter_machine_type"),
        ("blast_furnace", {"bf_volume_m3": -1}, "equipment.bf_volume_m3"),
    ):
        with pytest.raises(InputError) as err:
            check_equipment(process, values)
        assert err.value.location.field == field
    text = "cdu_capacity_t_per_a=1500000;cdu_special_recognised=no"
    assert format_equipment(check_equipment("refinery", parse_equipment(text))) == text
    with pytest.raises(InputError, match="given twice"):
        parse_equipment("a=1;a=2")


def _units_csv(tmp_path: Path, equipment: str) -> Path:
    path = tmp_path / "units.csv"
    path.write_text(
        "enterprise_uscc,unit_code,name,process,capacity,capacity_unit,equipment\n"
        f"91370300164104521M,BF1,1号高炉,blast_furnace,2500000,t/a,{equipment}\n",
        encoding="utf-8",
    )
    return path


def test_equipment_is_imported_and_exported_in_the_registry_format(
    session: Session, tmp_path: Path
) -> None:
    import_registry(session, REGISTRY)
    import_registry(session, _units_csv(tmp_path, "bf_volume_m3=380"))
    unit = session.scalar(select(ProductionUnit).where(ProductionUnit.code == "BF1"))
    assert unit is not None and unit.equipment == {"bf_volume_m3": 380.0}
    out = tmp_path / "out"
    export_registry(session, ADMIN, out)
    assert "bf_volume_m3=380" in (out / "units.csv").read_text(encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        import_registry(session, _units_csv(tmp_path, "kiln_type=shaft"))
    [bad] = err.value.errors
    assert (bad.location.row, bad.location.field) == (1, "equipment.kiln_type")


def test_obsolete_units_and_recorded_exit_grounds_are_on_the_elimination_list(
    session: Session, tmp_path: Path
) -> None:
    import_registry(session, REGISTRY)
    bf = session.scalar(select(ProductionUnit).where(ProductionUnit.code == "BF1"))
    assert bf is not None
    rule = _rule("bf_volume_m3 < 400", process="blast_furnace", deadline=date(2025, 12, 31))
    bf.equipment = {"bf_volume_m3": 380.0}
    session.flush()
    [found] = catalogue_matches(session, ADMIN, "shandong", rules=[rule])
    assert found.unit_code == "BF1" and found.matches[0].rule.deadline == date(2025, 12, 31)
    accounts = unit_accounts(session, ADMIN, MARCH)
    items = elimination_list(session, ADMIN, accounts, "2025-03", date(2025, 5, 1), "shandong",
                             [found])  # fmt: skip
    [obsolete] = [e for e in items if e.code == "programme.eliminate.obsolete_equipment"]
    assert obsolete.deadline_on == date(2025, 12, 31)
    assert "bf_volume_m3 380 < 400" in obsolete.reason and "test document" in obsolete.reason
    assert "past the deadline" not in obsolete.reason
    later_items = elimination_list(
        session, ADMIN, accounts, "2025-03", date(2026, 1, 5), "shandong", [found]
    )
    assert any("past the deadline" in e.reason for e in later_items)
    qiye = Principal("qiye", Role.ENTERPRISE, enterprise_id=bf.enterprise_id)
    args = ("safety", "breach", "GB 30871-2022", "inspection report 2025-041", "city inspector")
    with pytest.raises(PermissionDeniedError):
        record_exit_ground(session, qiye, bf.id, *args, date(2025, 4, 2))
    with pytest.raises(InputError, match="judged from the levels"):
        record_exit_ground(session, ADMIN, bf.id, "energy", *args[1:], date(2025, 4, 2))
    record_exit_ground(session, ADMIN, bf.id, *args, date(2025, 4, 2), date(2025, 10, 1))
    view = programme_view(session, ADMIN, MARCH, date(2025, 5, 1), "shandong")
    codes = {e.code: e for e in view.eliminations if e.unit_code == "BF1"}
    assert codes["programme.eliminate.exit_safety"].deadline_on == date(2025, 10, 1)
    assert "city inspector" in codes["programme.eliminate.exit_safety"].reason
    assert [g.kind for g in view.exit_grounds if g.unit_id == bf.id] == ["safety"]
    record_exit_ground(session, ADMIN, bf.id, "safety", "meets", "GB 30871-2022",
                       "rectified, re-inspected", "city inspector", date(2025, 4, 20))  # fmt: skip
    assert len(exit_ground_records(session, ADMIN, bf.id)) == 2
    later = elimination_list(session, ADMIN, accounts, "2025-03", date(2025, 5, 1), "shandong")
    assert not [e for e in later if e.code == "programme.eliminate.exit_safety"]


def test_the_simulator_makes_a_few_units_obsolete_for_every_rule() -> None:
    province = build_province(SimParams(seed=1, enterprises=50, days=2))
    regions = {e.idx: e.region_code for e in province.enterprises}
    rules = load_obsolete_rules()
    found: dict[str, int] = {}
    for u in province.units:
        matches, unjudged = match_obsolete(u.process, regions[u.ent_idx], u.equipment, rules,
                                           "shandong")  # fmt: skip
        assert unjudged == []  # the simulator writes every attribute a rule reads
        for m in matches:
            found[m.rule.rule_id] = found.get(m.rule.rule_id, 0) + 1
    assert set(found) == {r.rule_id for r in rules}
    for rule in rules:
        concerned = [u for u in province.units if u.process == rule.process]
        assert found[rule.rule_id] < len(concerned)  # a few, not all


def test_the_cli_lists_obsolete_units_records_exit_grounds_and_reports_them(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_registry(session, REGISTRY)
    units = tmp_path / "units.csv"
    units.write_text(
        "enterprise_uscc,unit_code,name,process,capacity,capacity_unit,equipment\n"
        "91370300164104521M,SJ1,1号烧结机,sinter_machine,3000000,t/a,sinter_machine_type=stepping\n",
        encoding="utf-8",
    )
    import_registry(session, units)
    session.commit()
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    listed = runner.invoke(app, ["programme", "obsolete", "--json"])
    assert listed.exit_code == 0, listed.output
    [unit] = json.loads(listed.output)
    assert unit["unit_code"] == "SJ1"
    assert unit["matches"][0]["evidence"] == ["sinter_machine_type = stepping"]
    args = ["programme", "exit-ground", "91370300164104521M/BF1", "--kind", "quality",
            "--finding", "breach", "--standard", "GB/T 717-2018", "--evidence", "抽检不合格",
            "--determined-by", "市场监管局", "--on", "2025-03-10"]  # fmt: skip
    recorded = runner.invoke(app, args)
    assert recorded.exit_code == 0, recorded.output
    out = tmp_path / "programme.xlsx"
    report = ["report", "programme", "--period", "2025-03", "--format", "xlsx", "--out", str(out)]
    assert runner.invoke(app, report).exit_code == 0
    book = openpyxl.load_workbook(out)
    obsolete = list(book["落后工艺装备（淘汰类）比对结果"].iter_rows(values_only=True))
    assert any(r[1] == "SJ1" and r[2] == "aq2023.sinter_stepping" for r in obsolete)
    grounds = list(book["低效产能退出依据（按标准类别）"].iter_rows(values_only=True))
    assert any(r[1] == "quality" and r[3] == "GB/T 717-2018" for r in grounds)
    eliminated = list(book["淘汰清单"].iter_rows(values_only=True))
    codes = {r[0] for r in eliminated}
    assert {"programme.eliminate.exit_quality", "programme.eliminate.obsolete_equipment"} <= codes


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("conditions", "kiln_type in shaft", "not an attribute of refinery"),
        ("deadline", "end of 2025", "not a date"),
        ("applies_to", "shandong", "national, province:"),
        ("confidence", "high", "must be one of"),
    ],
)
def test_a_bad_rules_row_is_refused_naming_the_file_row_and_column(
    monkeypatch: pytest.MonkeyPatch, column: str, value: str, problem: str
) -> None:
    good = {"rule_id": "x", "document": "d", "item": "", "process": "refinery",
            "kind": "technology", "conditions": "cdu_capacity_t_per_a <= 2000000", "unless": "",
            "deadline": "", "applies_to": "national", "text_zh": "t", "source": "s",
            "confidence": "low", "notes": ""}  # fmt: skip
    row = Row({**good, column: value}, "programme/obsolete_equipment.csv, row 4")
    original = programme_reference.package_rows
    monkeypatch.setattr(
        programme_reference,
        "package_rows",
        lambda package, name: (
            [row] if name.endswith("obsolete_equipment.csv") else original(package, name)
        ),
    )
    load_obsolete_rules.cache_clear()
    try:
        with pytest.raises(ReferenceDataError) as err:
            load_obsolete_rules()
    finally:
        load_obsolete_rules.cache_clear()
    assert f"programme/obsolete_equipment.csv, row 4, field {column!r}" in str(err.value)
    assert problem in str(err.value)
