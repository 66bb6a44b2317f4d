"""Physics of the clean province: sub-metering, reports, counters, intensities, stacks."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sim_runs import Run, increments

from kilnwatch.sim.metering import EQUIPMENT_LOSS
from kilnwatch.sim.processes import PROCESS_SPECS, kgce_per_metered_unit
from kilnwatch.sim.province import LOSS_RANGES

ACCURACY_TOL = 0.01  # meter accuracy classes and noise over a run
NOISE_TOL = 0.002  # random reading errors averaged over a run


def _accuracy(accuracy_class: str) -> float:
    """Largest relative gain error of a meter of this class [fraction]."""
    return float(accuracy_class.rstrip("S")) / 100.0


@pytest.fixture(scope="module")
def totals(clean: Run) -> pl.DataFrame:
    meters = clean.csv("meters")
    inc = increments(clean.readings(), meters)
    per_meter = inc.group_by("meter_code").agg(pl.col("qty").sum())
    return meters.join(per_meter, on="meter_code", how="left")


def test_sub_meters_sum_to_entry_within_stated_losses(totals: pl.DataFrame) -> None:
    entries = totals.filter(pl.col("level") == "entry")
    assert entries.height > 10
    for row in entries.iter_rows(named=True):
        subs = totals.filter(
            (pl.col("parent_meter_code") == row["meter_code"]) & (pl.col("level") == "sub_unit")
        )
        lo, hi = LOSS_RANGES[row["carrier"]]
        ratio = subs["qty"].sum() / row["qty"]
        tol = 2 * _accuracy(row["accuracy_class"]) + NOISE_TOL  # a gain error on each side
        assert 1 - hi - tol <= ratio <= 1 - lo + tol, row["meter_code"]


def test_equipment_meters_cover_their_sub_unit_meter(totals: pl.DataFrame) -> None:
    equipment = totals.filter(pl.col("level") == "equipment", pl.col("measurement") != "instant")
    assert equipment.height > 0
    for parent, group in equipment.group_by("parent_meter_code"):
        parent_qty = totals.filter(pl.col("meter_code") == parent[0])["qty"][0]
        ratio = group["qty"].sum() / parent_qty
        lo, hi = EQUIPMENT_LOSS
        assert 1 - hi - ACCURACY_TOL <= ratio <= 1 - lo + ACCURACY_TOL


def _readings_by_month(run: Run) -> dict[tuple[str, str, str], float]:
    meters = run.csv("meters")
    inc = increments(run.readings(), meters).join(meters, on="meter_code")
    entry = inc.filter(pl.col("level") == "entry").with_columns(
        ("energy:" + pl.col("carrier")).alias("item")
    )
    product = inc.filter(pl.col("carrier").str.starts_with("product:")).with_columns(
        pl.col("carrier").str.replace("product:", "production:").alias("item")
    )
    sums = (
        pl.concat([entry, product])
        .group_by("enterprise_uscc", "month", "item")
        .agg(pl.col("qty").sum())
    )
    return {(r[0], r[1], r[2]): r[3] for r in sums.iter_rows()}


def _flows(reports: pl.DataFrame) -> pl.DataFrame:
    """The consumption and production items (not the stocks)."""
    return reports.filter(~pl.col("item").str.starts_with("stock_"))


def test_reported_stocks_close_the_balance(clean: Run) -> None:
    """opening stock + invoiced lots − consumption = closing stock (GB/T 2589 balance),
    within the survey error of the reported stocks."""
    reports = clean.csv("statistical_reports")
    value = {(r[0], r[1], r[2]): float(r[3]) for r in reports.iter_rows()}
    invoices = clean.csv("tax_invoices").filter(pl.col("direction") == "purchase")
    bought: dict[tuple[str, str, str], float] = {}
    for r in invoices.iter_rows(named=True):
        key = (r["enterprise_uscc"], str(r["issued_on"])[:7], r["item"])
        bought[key] = bought.get(key, 0.0) + float(r["quantity"])
    closing = [k for k in value if k[2].startswith("stock_closing:")]
    assert closing, "some enterprises report stocks"
    for uscc, period, item in closing:
        carrier = item.split(":", 1)[1]
        opening = value[(uscc, period, f"stock_opening:{carrier}")]
        used = value[(uscc, period, f"energy:{carrier}")]
        balance = opening + bought.get((uscc, period, carrier), 0.0) - used
        tol = 0.05 * (opening + value[(uscc, period, item)]) + 1e-3
        assert value[(uscc, period, item)] == pytest.approx(balance, abs=tol)


def test_monthly_reports_equal_the_sum_of_readings(clean: Run) -> None:
    expected = _readings_by_month(clean)
    reports = _flows(clean.csv("statistical_reports"))
    assert set(reports["period"]) == {"2025-03", "2025-04"}
    assert reports.height == len(expected)
    for uscc, period, item, quantity, _unit in reports.iter_rows():
        assert float(quantity) == pytest.approx(expected[(uscc, period, item)], rel=1e-9, abs=2e-3)


def test_reports_of_enterprises_without_faults_equal_readings(faulty: Run) -> None:
    labelled = set(faulty.csv("labels")["enterprise_uscc"])
    expected = _readings_by_month(faulty)
    reports = _flows(faulty.csv("statistical_reports"))
    reports = reports.filter(~pl.col("enterprise_uscc").is_in(labelled))
    assert reports.height > 0
    for uscc, period, item, quantity, _unit in reports.iter_rows():
        assert float(quantity) == pytest.approx(expected[(uscc, period, item)], rel=1e-9, abs=2e-3)


def test_counters_are_monotone(faulty: Run) -> None:
    meters = faulty.csv("meters").filter(pl.col("measurement") == "counter")
    readings = faulty.readings().join(meters.select("meter_code"), on="meter_code")
    first = readings.unique(["meter_code", "ts"], keep="first").sort("meter_code", "at")
    diffs = first.with_columns(pl.col("value").diff().over("meter_code").alias("d"))
    assert diffs["d"].drop_nulls().min() >= 0  # type: ignore[operator]


def test_unit_intensities_follow_their_classes(clean: Run, totals: pl.DataFrame) -> None:
    retrofitted = {r.unit_idx for r in clean.province.retrofits}
    seen = set()
    for unit in clean.province.units:
        if unit.idx in retrofitted or unit.efficiency_class == "no_level" or unit.outages:
            continue
        ent = clean.province.enterprises[unit.ent_idx]
        mine = totals.filter(
            pl.col("enterprise_uscc") == ent.uscc, pl.col("unit_code") == unit.unit_code
        )
        output = mine.filter(pl.col("carrier").str.starts_with("product:"))["qty"][0]
        subs = mine.filter(
            pl.col("level") == "sub_unit", pl.col("carrier").is_in(list(unit.carrier_rates))
        )
        if unit.indicator == "kWh/t":
            realized = subs["qty"].sum() / output
        else:
            kgce = sum(
                q * kgce_per_metered_unit(c, u)
                for c, u, q in subs.select("carrier", "unit_of_measure", "qty").iter_rows()
            )
            realized = kgce / output * (1000.0 if unit.indicator == "gce/kWh" else 1.0)
        assert realized == pytest.approx(unit.intensity, rel=0.05), unit.process
        seen.add(unit.efficiency_class)
    assert seen


def test_stack_values_follow_load(clean: Run) -> None:
    readings = clean.readings()
    meters = clean.csv("meters").filter(pl.col("hj212_code").is_not_null())
    stack = readings.join(
        meters.select("meter_code", "carrier", "unit_code", "enterprise_uscc"), on="meter_code"
    )
    wide = stack.pivot(
        on="carrier",
        index=["enterprise_uscc", "unit_code", "at", "flag"],
        values="value",
        aggregate_function="first",
    )
    running = wide.filter(pl.col("flag") != "F")
    assert np.corrcoef(running["flue_gas_flow"], running["so2"])[0, 1] != 0
    for _key, group in running.group_by("enterprise_uscc", "unit_code"):
        if group["flue_gas_flow"].std() > 0.05 * group["flue_gas_flow"].mean():  # type: ignore[operator]
            assert np.corrcoef(group["flue_gas_flow"], group["o2"])[0, 1] < 0
    stopped = wide.filter(pl.col("flag") == "F")
    if stopped.height:
        assert stopped["o2"].mean() > running["o2"].mean()  # type: ignore[operator]
    assert set(wide["flag"]) <= {"N", "F", "C", "M", "D"}


def test_process_table_carrier_shares_sum_to_one() -> None:
    for spec in PROCESS_SPECS.values():
        assert sum(spec.carriers.values()) == pytest.approx(1.0)


def test_every_class_occurs_in_a_larger_province() -> None:
    from kilnwatch.sim import SimParams, build_province

    province = build_province(SimParams(seed=2, enterprises=80, days=1))
    classes: dict[str, set[str]] = {}
    for unit in province.units:
        classes.setdefault(unit.process, set()).add(unit.efficiency_class)
    counts = {p: sum(u.process == p for u in province.units) for p in classes}
    for process, seen in classes.items():
        if "no_level" in seen:
            assert seen == {"no_level"}
        elif counts[process] >= 3:
            assert seen == {"better_than_advanced", "between", "worse_than_limit"}, process
    assert any(e.status == "production_controlled" for e in province.enterprises)


def test_retrofits_save_what_they_truly_save(clean: Run) -> None:
    meters = clean.csv("meters")
    inc = increments(clean.readings(), meters).join(meters, on="meter_code")
    assert clean.province.retrofits
    assert {r.delivered for r in clean.province.retrofits} == {True, False}
    for r in clean.province.retrofits:
        unit = clean.province.units[r.unit_idx]
        ent = clean.province.enterprises[r.ent_idx]
        mine = inc.filter(
            pl.col("enterprise_uscc") == ent.uscc, pl.col("unit_code") == unit.unit_code
        ).with_columns((pl.col("at") - pl.duration(seconds=1)).dt.date().alias("day"))
        energy = mine.filter(
            pl.col("level") == "sub_unit", pl.col("carrier") == next(iter(unit.carrier_rates))
        )
        output = mine.filter(pl.col("carrier").str.starts_with("product:"))

        after = pl.col("day") >= r.effective_on
        before_rate = energy.filter(~after)["qty"].sum() / output.filter(~after)["qty"].sum()
        after_rate = energy.filter(after)["qty"].sum() / output.filter(after)["qty"].sum()
        saving = 1 - after_rate / before_rate
        assert saving == pytest.approx(r.true_saving_fraction, abs=0.03)
