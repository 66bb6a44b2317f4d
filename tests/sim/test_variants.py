"""The simulator's modelling variants (issue 12): smoothed meters, underpriced sales with a
price history, interval-start exports; each labelled and really in the data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kilnwatch.sim import SimParams, simulate_to_dir

PLAIN = SimParams(seed=11, enterprises=8, days=6, start=date(2025, 3, 1), interval_min=60,
                  output_format="csv", faulty_enterprise_fraction=0.0)  # fmt: skip
VARIED = PLAIN.model_copy(
    update={
        "smoothed_meter_fraction": 0.25,
        "underpriced_sales_fraction": 0.25,
        "sales_price_spread": 0.08,
        "price_history_months": 4,
        "start_stamped_meter_fraction": 0.3,
    }  # fmt: skip
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, params in (("plain", PLAIN), ("varied", VARIED)):
        out[name] = tmp_path_factory.mktemp(name)
        simulate_to_dir(params, out[name])
    return out


def _csv(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", infer_schema_length=0)


def _hourly(folder: Path, code: str) -> np.ndarray:
    rows = _csv(folder, "readings").filter(pl.col("meter_code") == code)
    return np.diff(rows.get_column("value").cast(pl.Float64).to_numpy())


def test_variants_are_labelled_and_the_plain_run_has_none(runs: dict[str, Path]) -> None:
    kinds = _csv(runs["varied"], "labels").get_column("kind").to_list()
    assert {"meter_smoothed", "revenue_underpriced"} <= set(kinds)
    assert _csv(runs["plain"], "labels").height == 0
    assert "ts_convention" not in _csv(runs["plain"], "readings").columns


def test_a_smoothed_meter_loses_its_hour_to_hour_variation(runs: dict[str, Path]) -> None:
    label = (
        _csv(runs["varied"], "labels").filter(pl.col("kind") == "meter_smoothed").row(0, named=True)
    )
    meters = _csv(runs["varied"], "meters").filter(pl.col("meter_code") == label["meter_code"])
    assert meters.get_column("measurement")[0] == "counter"  # entry energy meters count
    smooth, raw = (
        _hourly(runs["varied"], label["meter_code"]),
        _hourly(runs["plain"], label["meter_code"]),
    )
    late = slice(smooth.size - 24, smooth.size)  # the last day, inside the fault's span
    assert np.median(np.abs(np.diff(smooth[late]))) < 0.2 * np.median(np.abs(np.diff(raw[late])))
    assert abs(smooth.sum() / raw.sum() - 1) < 0.05  # totals kept


def test_sales_history_and_underpriced_month(runs: dict[str, Path]) -> None:
    invoices = _csv(runs["varied"], "tax_invoices")
    history = invoices.filter(pl.col("issued_on") < "2025-03-01")
    assert history.height > 0 and set(history.get_column("direction")) == {"sale"}
    periods = set(_csv(runs["varied"], "market_prices").get_column("period"))
    assert {"2024-11", "2024-12", "2025-01", "2025-02", "2025-03"} <= periods
    label = (
        _csv(runs["varied"], "labels")
        .filter(pl.col("kind") == "revenue_underpriced")
        .row(0, named=True)
    )
    assert 0.05 <= float(label["magnitude_fraction"]) <= 0.08


def test_start_stamped_rows_are_one_interval_earlier(runs: dict[str, Path]) -> None:
    varied = _csv(runs["varied"], "readings")
    start = varied.filter(pl.col("ts_convention") == "start")
    assert start.height > 0
    code = start.get_column("meter_code")[0]
    first = varied.filter(pl.col("meter_code") == code).get_column("ts")[0]
    plain = _csv(runs["plain"], "readings").filter(pl.col("meter_code") == code).get_column("ts")[0]
    pairs = {("2025-02-28T23:00:00+08:00", "2025-03-01T00:00:00+08:00"),
             ("2025-03-01T00:00:00+08:00", "2025-03-01T01:00:00+08:00")}  # fmt: skip
    assert (first, plain) in pairs


def test_the_variants_are_options_of_kilnwatch_simulate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kilnwatch.cli import app

    args = ["simulate", "--seed", "11", "--enterprises", "4", "--days", "2", "--start",
            "2025-03-01", "--interval", "1h", "--format", "csv", "--out", str(tmp_path),
            "--quiet", "--underpriced-sales", "0.5", "--price-history-months", "2",
            "--start-stamped-meters", "0.5", "--smoothed-meters", "0.5"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    kinds = set(_csv(tmp_path, "labels").get_column("kind"))
    assert {"meter_smoothed", "revenue_underpriced"} <= kinds
    assert "start" in set(_csv(tmp_path, "readings").get_column("ts_convention").drop_nulls())
    assert set(_csv(tmp_path, "market_prices").get_column("period")) >= {"2025-01", "2025-02"}
