"""Shared small provinces: one with faults, the same one without (an oracle for signatures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kilnwatch.sim import SimParams, build_faults, build_province, simulate_to_dir
from kilnwatch.sim.faults import Fault
from kilnwatch.sim.model import Province

SMALL = SimParams(seed=7, enterprises=10, days=10, start=date(2025, 3, 25), output_format="both")


@dataclass
class Run:
    params: SimParams
    out: Path
    province: Province
    faults: list[Fault]

    def csv(self, name: str) -> pl.DataFrame:
        return pl.read_csv(self.out / f"{name}.csv", infer_schema_length=0)

    def readings(self) -> pl.DataFrame:
        """Readings from CSV, in file (delivery) order, with a row number and typed columns."""
        df = pl.read_csv(self.out / "readings.csv", infer_schema_length=0)
        return df.with_columns(
            pl.col("value").cast(pl.Float64),
            pl.col("ts")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%z")
            .dt.convert_time_zone("Etc/GMT-8")
            .alias("at"),
        ).with_row_index("row")


def _run(tmp: Path, params: SimParams) -> Run:
    simulate_to_dir(params, tmp)
    province = build_province(params)
    return Run(params, tmp, province, build_faults(params, province))


@pytest.fixture(scope="session")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("faulty"), SMALL)


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    params = SMALL.model_copy(update={"faulty_enterprise_fraction": 0.0})
    return _run(tmp_path_factory.mktemp("clean"), params)


def increments(readings: pl.DataFrame, meters: pl.DataFrame) -> pl.DataFrame:
    """Per meter and timestamp, the quantity of the interval ending then (first delivery only).

    Counters give register differences, interval meters their value; instant meters are left out.
    Columns: meter_code, at, qty, month (the month of the interval, by its end minus 1 s).
    """
    kinds = meters.select("meter_code", "measurement")
    first = readings.unique(["meter_code", "ts"], keep="first", maintain_order=True)
    df = first.join(kinds, on="meter_code").filter(pl.col("measurement") != "instant")
    df = df.sort("meter_code", "at")
    qty = (
        pl.when(pl.col("measurement") == "counter")
        .then(pl.col("value") - pl.col("value").shift(1).over("meter_code"))
        .otherwise(pl.col("value"))
    )
    return (
        df.with_columns(qty.alias("qty"))
        .drop_nulls("qty")
        .with_columns((pl.col("at") - pl.duration(seconds=1)).dt.strftime("%Y-%m").alias("month"))
        .select("meter_code", "at", "qty", "month")
    )
