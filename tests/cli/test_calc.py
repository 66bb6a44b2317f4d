"""`kilnwatch calc` sub-app, driven through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kilnwatch.cli.calc import app
from kilnwatch.reference._csv import read_package_csv

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_tce_raw_coal_json():
    data = _json(["tce", "raw_coal", "1000", "t"])
    assert data["tce"] == 714.3
    assert data["kgce"] == 714_300.0
    assert data["coefficient"] == 0.7143
    assert "GB/T 2589" in data["source"]


def test_tce_text_output():
    result = runner.invoke(app, ["tce", "natural_gas", "1", "10^4m3"])
    assert result.exit_code == 0
    assert "12143" in result.output and "1.2143" in result.output


def test_tce_errors_exit_nonzero():
    for args in (["tce", "unobtainium", "1", "t"], ["tce", "raw_coal", "1", "parsec"]):
        result = runner.invoke(app, args)
        assert result.exit_code != 0
        assert "error [" in result.output
    lpg = runner.invoke(app, ["tce", "lpg", "1", "t"])
    assert lpg.exit_code != 0 and "reference.no_confirmed_value" in lpg.output
    assert runner.invoke(app, ["tce", "electricity", "1", "kWh", "--basis", "x"]).exit_code != 0


def test_tce_measured_lhv_and_equal_value():
    data = _json(["tce", "raw_coal", "1", "t", "--lhv", "29307"])
    assert data["kgce"] == 1000.0 and data["method"] == "measured_lhv"
    data = _json(["tce", "electricity", "1000", "kWh", "--basis", "equal", "--equal-value", "0.3"])
    assert data["kgce"] == 300.0


def test_level_cement_clinker():
    data = _json(["level", "cement_clinker", "105"])
    assert data["class"] == "between"
    assert data["class_table"] == "ndrc_2021"
    tables = {lv["table"] for lv in data["levels"]}
    assert tables == {"ndrc_2021", "GB 16780-2021"}
    assert all({"table", "value", "unit"} <= set(lv) for lv in data["levels"])
    status = {t["table"]: t["status"] for t in data["tables"]}
    assert status["ndrc_2023"] == "no confirmed level"
    text = runner.invoke(app, ["level", "cement_clinker", "105"])
    assert "class: between" in text.output


def test_level_negative_value_and_variant_and_output():
    data = _json(["level", "converter_steelmaking", "-25"])
    assert data["class"] == "between"
    data = _json(
        [
            "level",
            "coal_power",
            "290",
            "--variant",
            "ultra_supercritical_1000mw",
            "--output-per-year",
            "5e9",
        ]
    )
    assert data["class"] == "below_baseline" and data["legal_breach"] is True
    assert data["class_basis"] == "gb_grade"
    grade3 = next(lv for lv in data["levels"] if lv["level"] == "grade3")
    assert grade3["gap_tce_per_year"] == 35_000.0


def test_level_unknown_field():
    result = runner.invoke(app, ["level", "bogus", "1"])
    assert result.exit_code != 0 and "levels.unknown_field" in result.output


def test_level_with_provincial_dir(tmp_path: Path):
    (tmp_path / "sd.csv").write_text(
        "field,variant,unit,benchmark,baseline,edition_year,source,confidence\n"
        "cement_clinker,,kgce/t,95,104,2025,test fixture,low\n",
        encoding="utf-8",
    )
    data = _json(["level", "cement_clinker", "105", "--provincial-dir", str(tmp_path)])
    assert (data["class"], data["class_table"]) == ("below_baseline", "province:sd")


def test_list_contains_carriers_and_process_fields():
    data = _json(["list"])
    carriers = {c["carrier"] for c in data["carriers"]}
    assert {"raw_coal", "natural_gas", "electricity", "steam", "coke"} <= carriers
    fields = {f["field"]: f for f in data["fields"]}
    process_fields = {
        p["level_field"] for p in read_package_csv("kilnwatch.reference", "registry/processes.csv")
    }
    assert process_fields <= set(fields)
    assert fields["sintering"]["ndrc_or_provincial"] == "no confirmed level"
    text = runner.invoke(app, ["list"])
    assert text.exit_code == 0 and "cement_clinker" in text.output
