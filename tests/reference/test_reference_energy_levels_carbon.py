"""The packaged energy, level and carbon tables: complete, sourced and consistent."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from kilnwatch.errors import ReferenceDataError, UnitError, UnknownFieldError
from kilnwatch.reference._csv import read_package_csv
from kilnwatch.reference.carbon import load_fuel_factors, load_grid_factors
from kilnwatch.reference.energy import load_coal_coefficients, load_units
from kilnwatch.reference.levels import (
    load_fields,
    load_level_tables,
    load_targets,
    read_provincial_table,
    read_provincial_tables,
)

PKG = "kilnwatch.reference"
SUBDIRS = ("energy", "levels", "carbon", "sim")


def _csv_files():
    root = resources.files(PKG)
    files = [f"{sub}/{p.name}" for sub in SUBDIRS for p in (root / sub).iterdir()]
    return sorted(name for name in files if name.endswith(".csv")) + ["units.csv"]


@pytest.mark.parametrize("name", _csv_files())
def test_every_row_has_source_and_confidence(name):
    text = (resources.files(PKG) / name).read_text(encoding="utf-8")
    header = next(csv.reader(text.splitlines()))
    if name == "levels/tables.csv" or "source" in header:
        assert "confidence" in header
    for row in read_package_csv(PKG, name):
        assert row["source"], (name, row)
        assert row["confidence"] in ("good", "medium", "low"), (name, row)


def test_every_field_in_level_tables_has_indicator_unit_and_direction():
    fields = load_fields()
    used = {row.field for table in load_level_tables() for row in table.rows}
    assert used <= set(fields)
    for key in used:
        definition = fields[key]
        assert definition.indicator_zh and "/" in definition.unit
        assert isinstance(definition.lower_is_better, bool)
        assert key == key.lower() and " " not in key


def test_process_level_fields_are_defined():
    processes = read_package_csv(PKG, "registry/processes.csv")
    assert {p["level_field"] for p in processes} <= set(load_fields())


def test_level_tables_cover_the_expected_kinds():
    tables = {t.table_id: t for t in load_level_tables()}
    assert tables["ndrc_2021"].kind == "ndrc" and tables["ndrc_2023"].edition_year == 2023
    assert tables["GB 21258-2024"].kind == "gb"
    clinker = next(r for r in tables["ndrc_2021"].rows if r.field == "cement_clinker")
    assert dict(clinker.levels) == {"benchmark": 100.0, "baseline": 117.0}
    assert clinker.confidence == "low"


def test_loaders_are_cached_and_key_values_present():
    assert load_units() is load_units()
    assert load_level_tables() is load_level_tables()
    raw = next(r for r in load_coal_coefficients() if r.carrier == "raw_coal")
    assert (raw.kgce_per_unit, raw.unit) == (0.7143, "kg")
    assert load_fuel_factors()["natural_gas"].unit == "10^4m3"
    assert {g.factor_id for g in load_grid_factors()} >= {"national_2022", "national_2023"}
    assert load_targets()["share_at_benchmark_2025"].value == 30


def test_units_base_units_exist():
    units = load_units()
    for unit in units.values():
        assert units[unit.base_unit].factor_to_base == 1


def _write(path: Path, body: str) -> Path:
    path.write_text(
        "field,variant,unit,benchmark,baseline,edition_year,source,confidence\n" + body,
        encoding="utf-8",
    )
    return path


def test_provincial_tables(tmp_path: Path):
    _write(tmp_path / "b.csv", "blast_furnace,,kgce/t,360,420,2024,test,low\n")
    table = read_provincial_tables(tmp_path)[0]
    assert (table.table_id, table.kind, table.edition_year) == ("province:b", "province", 2024)
    with pytest.raises(UnknownFieldError):
        read_provincial_table(_write(tmp_path / "x.csv", "nope,,kgce/t,1,2,2024,t,low\n"))
    with pytest.raises(UnitError):
        read_provincial_table(_write(tmp_path / "y.csv", "blast_furnace,,kWh/t,1,2,2024,t,low\n"))
    with pytest.raises(ReferenceDataError):
        read_provincial_table(_write(tmp_path / "z.csv", "blast_furnace,,kgce/t,1,2,2024,,low\n"))
    with pytest.raises(ReferenceDataError):
        read_provincial_tables(tmp_path / "missing")
