"""Every label's fault is really in the data: each kind's signature, against the clean twin run.

The clean run has the same seed and no faults, so its readings are what the faulty meters
should have sent.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from sim_runs import Run, increments

from kilnwatch.sim.emissions import EXCEEDANCE
from kilnwatch.sim.faults import ALL_KINDS
from kilnwatch.sim.processes import T_PER_WEIGHT_BOX

TZ = "Etc/GMT-8"


@pytest.fixture(scope="module")
def data(faulty: Run, clean: Run) -> dict[str, pl.DataFrame]:
    return {
        "labels": faulty.csv("labels").with_columns(
            pl.col("magnitude_fraction").cast(pl.Float64).alias("m"),
            pl.col("start").str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.convert_time_zone(TZ),
            pl.col("end").str.to_datetime("%Y-%m-%dT%H:%M:%S%z").dt.convert_time_zone(TZ),
        ),
        "meters": faulty.csv("meters"),
        "f": faulty.readings(),
        "c": clean.readings(),
    }


def _labels(data: dict[str, pl.DataFrame], kind: str) -> list[dict[str, object]]:
    rows = data["labels"].filter(pl.col("kind") == kind).to_dicts()
    assert rows, f"no {kind} fault in the test province"
    return rows


def _window(df: pl.DataFrame, label: dict[str, object]) -> pl.DataFrame:
    start, end = label["start"], label["end"]
    assert isinstance(start, datetime) and isinstance(end, datetime)
    return df.filter(
        pl.col("meter_code") == label["meter_code"], pl.col("at") > start, pl.col("at") <= end
    )


def _inc_window(
    data: dict[str, pl.DataFrame], which: str, label: dict[str, object]
) -> pl.DataFrame:
    inc = increments(
        data[which].filter(pl.col("meter_code") == label["meter_code"]), data["meters"]
    )
    return _window(inc, label)


def test_every_kind_is_labelled(data: dict[str, pl.DataFrame]) -> None:
    kinds = set(data["labels"]["kind"])
    assert set(ALL_KINDS) <= kinds <= set(ALL_KINDS) | {EXCEEDANCE}
    unscaled = ["data_gap", "stuck_sensor", EXCEEDANCE]  # EXCEEDANCE: excess over a limit
    m = data["labels"].filter(~pl.col("kind").is_in(unscaled))["m"]
    assert (m >= 0.03).all() and (m < 0.9).all()
    assert data["labels"]["magnitude_fraction"].str.contains(r"\.\d{4}$").all()


def test_meter_scaled_reads_low_by_the_magnitude(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "meter_scaled"):
        f = _inc_window(data, "f", label)["qty"].sum()
        c = _inc_window(data, "c", label)["qty"].sum()
        assert f / c == pytest.approx(1 - float(label["m"]), abs=2e-3)  # type: ignore[arg-type]


def test_meter_capped_flattens_peaks(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "meter_capped"):
        f = _inc_window(data, "f", label)["qty"].to_numpy()
        c = _inc_window(data, "c", label)["qty"].to_numpy()
        counter = data["meters"].filter(pl.col("meter_code") == label["meter_code"])["measurement"]
        tol = 0.21 if counter[0] == "counter" else 2e-3  # a rounded register: +- 1 digit twice
        cap = f.max()
        assert (c > cap + tol).any()
        np.testing.assert_allclose(f, np.minimum(c, cap), rtol=1e-6, atol=tol)
        window = _inc_window(data, "c", label)
        first_day = window.filter(
            pl.col("at").dt.date() == window["at"][0].date()  # the cap is set on this day
        )["qty"].to_numpy()
        typical = np.median(first_day[first_day > 0])
        assert cap / typical == pytest.approx(1 - float(label["m"]), abs=0.01)  # type: ignore[arg-type]


def test_stuck_sensor_repeats_one_value(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "stuck_sensor"):
        f = _window(data["f"], label)
        assert f["value"].n_unique() == 1 and f.height > 1
        assert _window(data["c"], label)["value"].n_unique() > 1


def test_data_gap_has_no_rows(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "data_gap"):
        assert _window(data["f"], label).height == 0
        assert _window(data["c"], label).height > 0


def test_duplicates_repeat_rows_with_the_same_value(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "duplicate_packets"):
        f, c = _window(data["f"], label), _window(data["c"], label)
        m, n = float(label["m"]), c.height  # type: ignore[arg-type]
        repeated = f.height - n
        assert repeated / n == pytest.approx(m, abs=4 * (m * (1 - m) / n) ** 0.5 + 0.02)
        assert f.unique(["ts", "value"]).height == n
        assert sorted(f.unique(["ts"])["value"].to_list()) == sorted(c["value"].to_list())


def test_backdated_packets_resend_lower_values_later(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "backdated_packets"):
        f = _window(data["f"], label)
        first = f.unique("ts", keep="first", maintain_order=True)
        last = f.unique("ts", keep="last", maintain_order=True)
        assert f.height == 2 * first.height > 0
        joined = first.join(last, on="ts", suffix="_again")
        ratio = joined["value_again"].sum() / joined["value"].sum()
        assert ratio == pytest.approx(1 - float(label["m"]), abs=2e-3)  # type: ignore[arg-type]
        later = data["f"].filter(pl.col("at") > f["at"].max())  # type: ignore[operator]
        assert joined["row_again"].min() > later["row"].min()  # type: ignore[operator]


def test_submeter_mismatch_entry_exceeds_its_sub_meters(data: dict[str, pl.DataFrame]) -> None:
    meters = data["meters"]
    for label in _labels(data, "submeter_mismatch"):
        subs = meters.filter(pl.col("parent_meter_code") == label["meter_code"])["meter_code"]
        extra = (
            _inc_window(data, "f", label)["qty"].sum() - _inc_window(data, "c", label)["qty"].sum()
        )
        sub_sum = sum(  # the clean twin: other faults may sit on a sub-meter
            _inc_window(data, "c", {**label, "meter_code": code})["qty"].sum() for code in subs
        )
        assert extra / sub_sum == pytest.approx(float(label["m"]), abs=0.01)  # type: ignore[arg-type]


def test_flag_abuse_hides_elevated_emissions_at_load(data: dict[str, pl.DataFrame]) -> None:
    for label in _labels(data, "flag_abuse"):
        f, c = _window(data["f"], label), _window(data["c"], label)
        both = f.join(c, on="ts", suffix="_clean")
        at_load = both.filter(pl.col("flag_clean") != "F")
        elevated = at_load.filter(pl.col("value") > pl.col("value_clean") * 1.0001)
        assert elevated.height > 0
        assert elevated["flag"].is_in(["M", "D", "C"]).all()
        assert (elevated["value"] >= elevated["value_clean"] * 1.5 - 0.01).all()
        honest = at_load.filter(pl.col("flag_clean").is_in(["M", "D", "C"])).height
        flagged = at_load.filter(pl.col("flag").is_in(["M", "D", "C"])).height
        assert flagged >= elevated.height > honest / 2
        share = elevated.height / at_load.height
        assert share == pytest.approx(float(label["m"]), abs=0.35)  # type: ignore[arg-type]


def _report(run_data: pl.DataFrame, label: dict[str, object]) -> float:
    detail = str(label["detail"])
    item, period = detail.split(" ")[0], detail.split(" ")[-1]
    row = run_data.filter(
        pl.col("enterprise_uscc") == label["enterprise_uscc"],
        pl.col("item") == item,
        pl.col("period") == period,
    )
    return float(row["quantity"][0])


@pytest.mark.parametrize(
    ("kind", "sign"), [("stats_underreport_energy", -1), ("production_overreport", 1)]
)
def test_statistical_report_differs_from_metered(
    faulty: Run, clean: Run, data: dict[str, pl.DataFrame], kind: str, sign: int
) -> None:
    for label in _labels(data, kind):
        reported = _report(faulty.csv("statistical_reports"), label)
        metered = _report(clean.csv("statistical_reports"), label)
        assert reported / metered == pytest.approx(1 + sign * float(label["m"]), abs=1e-3)  # type: ignore[arg-type]


def _coal(run: Run, name: str, column: str, uscc: object) -> float:
    df = run.csv(name).filter(pl.col("enterprise_uscc") == uscc, pl.col("item") == "raw_coal")
    return float(df[column].cast(pl.Float64).sum())


def test_unmetered_coal_shows_only_in_logistics(
    faulty: Run, clean: Run, data: dict[str, pl.DataFrame]
) -> None:
    meters = data["meters"]
    for label in _labels(data, "unmetered_coal"):
        uscc, m = label["enterprise_uscc"], float(label["m"])  # type: ignore[arg-type]
        entry = meters.filter(
            pl.col("enterprise_uscc") == uscc,
            pl.col("level") == "entry",
            pl.col("carrier") == "raw_coal",
        )["meter_code"][0]
        burnt_metered = _inc_window(data, "c", {**label, "meter_code": entry})["qty"].sum()
        extra = burnt_metered * m / (1 - m)  # unmetered coal: m of all coal delivered
        waybills = faulty.csv("logistics").filter(
            pl.col("enterprise_uscc") == uscc, pl.col("item") == "raw_coal"
        )
        lot = 3800.0 if (waybills["mode"] == "rail").any() else 420.0
        delta = _coal(faulty, "logistics", "quantity_t", uscc) - _coal(
            clean, "logistics", "quantity_t", uscc
        )
        assert delta == pytest.approx(extra, abs=1.05 * lot + 0.03 * extra)  # lots are lumpy
        # invoices follow the lots on the books: the unmetered coal is not invoiced
        assert _coal(faulty, "tax_invoices", "quantity", uscc) == pytest.approx(
            _coal(clean, "tax_invoices", "quantity", uscc), abs=1.05 * lot
        )
        assert _coal(faulty, "statistical_reports", "quantity", uscc) == 0.0  # energy:raw_coal


def test_revenue_mismatch_sales_below_shipped(faulty: Run, data: dict[str, pl.DataFrame]) -> None:
    invoices, logistics = faulty.csv("tax_invoices"), faulty.csv("logistics")
    reports = faulty.csv("statistical_reports")
    for label in _labels(data, "revenue_mismatch"):
        uscc, m = label["enterprise_uscc"], float(label["m"])  # type: ignore[arg-type]
        item = str(label["detail"]).split(" ")[2]
        month = str(label["detail"]).split(" ")[-1]
        sold = (
            invoices.filter(
                pl.col("enterprise_uscc") == uscc,
                pl.col("item") == item,
                pl.col("direction") == "sale",
                pl.col("issued_on").str.starts_with(month),
            )["quantity"]
            .cast(pl.Float64)
            .sum()
        )
        if item == "product:electricity_supplied":  # not shipped: compare with metered output
            produced = reports.filter(
                pl.col("enterprise_uscc") == uscc,
                pl.col("period") == month,
                pl.col("item") == item.replace("product:", "production:"),
            )["quantity"].cast(pl.Float64)[0]
            assert sold / produced == pytest.approx(1 - m, abs=0.01)
            continue
        shipped = (
            logistics.filter(
                pl.col("enterprise_uscc") == uscc,
                pl.col("item") == item,
                pl.col("shipped_on").str.starts_with(month),
            )["quantity_t"]
            .cast(pl.Float64)
            .sum()
        )
        if item == "product:flat_glass":
            shipped /= T_PER_WEIGHT_BOX  # sold in weight boxes, shipped in tonnes
        assert sold / shipped == pytest.approx(1 - m, abs=1e-3)
