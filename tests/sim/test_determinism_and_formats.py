"""Byte-identical output for one seed; every file has the columns of docs/formats.md."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet
from sim_runs import Run

from kilnwatch.domain.identifiers import uscc_problem
from kilnwatch.formats import PROJECT_CONTROL_FORMATS, READINGS_FORMAT
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.sim.tables import COLUMNS

DOCS = Path(__file__).parents[2] / "docs" / "formats.md"
TINY = SimParams(seed=3, enterprises=5, days=3, start=date(2025, 1, 30), output_format="both")


def test_two_runs_with_one_seed_are_byte_identical(tmp_path: Path) -> None:
    simulate_to_dir(TINY, tmp_path / "a")
    simulate_to_dir(TINY, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "readings.parquet" in names and "projects" in names and len(names) == 21
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 20 + 8  # the project control files and their two truth files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_another_province(tmp_path: Path) -> None:
    simulate_to_dir(TINY, tmp_path / "a")
    simulate_to_dir(TINY.model_copy(update={"seed": 4}), tmp_path / "b")
    assert (tmp_path / "a/meters.csv").read_bytes() != (tmp_path / "b/meters.csv").read_bytes()


def _documented_columns() -> dict[str, list[str]]:
    """File stem -> first-column names of the table under each heading naming ``x.csv``."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            found = re.findall(r"`(\w+)\.csv`", line)
            current = found[0] if found else None
            if current:
                tables[current] = []
        elif current and line.startswith("| `"):
            tables[current].append(line.split("`")[1])
        elif current and tables[current] and not line.startswith("|"):
            current = None  # only the first table under a heading lists the columns
    return tables


def test_every_file_has_the_documented_columns(faulty: Run) -> None:
    documented = _documented_columns()
    for stem, columns in COLUMNS.items():
        # a readings file may also say what its ts stamps (import only; the simulator adds the
        # column for --start-stamped-meters)
        extra = list(READINGS_FORMAT.import_only) if stem == "readings" else []
        assert documented[stem] == [*columns, *extra], stem
        header = (faulty.out / f"{stem}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == list(columns), stem


def test_project_control_files_have_the_documented_columns(faulty: Run) -> None:
    documented = _documented_columns()
    for stem, fmt in PROJECT_CONTROL_FORMATS.items():
        assert documented[stem] == list(fmt.columns), stem
        path = faulty.out / "projects" / f"{stem}.csv"
        assert path.read_text(encoding="utf-8").splitlines()[0].split(",") == list(fmt.columns)


def test_parquet_holds_the_same_readings_as_csv(faulty: Run) -> None:
    csv = faulty.readings()
    pq = pl.read_parquet(faulty.out / "readings.parquet")
    assert pq.columns == list(COLUMNS["readings"])
    assert pq.height == csv.height
    assert pq["meter_code"].to_list() == csv["meter_code"].to_list()
    assert pq["value"].to_list() == csv["value"].to_list()
    assert (pq["ts"].dt.epoch("s") == csv["at"].dt.epoch("s")).all()
    schema = pyarrow.parquet.read_schema(faulty.out / "readings.parquet")
    assert schema.field("ts").type.tz == "+08:00"


def test_registry_is_valid_and_linked(faulty: Run) -> None:
    ents = faulty.csv("enterprises")
    assert all(uscc_problem(c) is None for c in ents["uscc"])
    assert ents["uscc"].n_unique() == ents.height
    assert set(ents["industry"]) >= {"cement", "coal_power", "steel", "refining"}
    units, meters, gws = faulty.csv("units"), faulty.csv("meters"), faulty.csv("gateways")
    assert set(units["enterprise_uscc"]) == set(ents["uscc"])
    assert meters["meter_code"].n_unique() == meters.height
    assert set(meters["gateway_code"]) <= set(gws["gateway_code"])
    parents = set(meters["parent_meter_code"].drop_nulls())
    assert parents <= set(meters["meter_code"])
    stacks = meters.filter(pl.col("hj212_code").is_not_null())
    assert set(stacks["hj212_code"]) == {"a21026", "a21002", "a34013", "a00000", "a19001"}
    hj = gws.filter(pl.col("protocol") == "hj212")
    assert set(stacks["gateway_code"]) == set(hj["gateway_code"])
    assert hj["mn"].str.len_chars().min() == 14
    assert gws["secret"].null_count() == 0
    truth = faulty.csv("unit_truth")
    assert truth.select("enterprise_uscc", "unit_code").equals(
        units.select("enterprise_uscc", "unit_code")
    )
    assert set(truth["efficiency_class"]) <= {
        "better_than_advanced",
        "between",
        "worse_than_limit",
        "no_level",
    }


def test_region_codes_are_shandong_counties(faulty: Run) -> None:
    from kilnwatch.sim.province import load_counties

    counties = {code for code, _city in load_counties()}
    assert set(faulty.csv("enterprises")["region_code"]) <= counties


def test_some_calibrations_overdue_and_some_equipment_meters_missing(tmp_path: Path) -> None:
    params = TINY.model_copy(update={"enterprises": 40, "days": 1, "output_format": "csv"})
    simulate_to_dir(params, tmp_path)
    meters = pl.read_csv(tmp_path / "meters.csv", infer_schema_length=0)
    overdue = meters.filter(pl.col("calibration_due_on") < params.start.isoformat())
    assert 0 < overdue.height < 0.15 * meters.height
    ele_subs = meters.filter((pl.col("level") == "sub_unit") & (pl.col("carrier") == "electricity"))
    with_eq = set(meters.filter(pl.col("level") == "equipment")["parent_meter_code"])
    assert 0 < len(set(ele_subs["meter_code"]) - with_eq) < ele_subs.height
