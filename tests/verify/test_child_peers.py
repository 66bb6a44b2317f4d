"""A parent / sub-meter rise put on the side that moved, from reported production against peers
(``verify.submeter.child_vs_peers``), on in-memory electricity-only plants: the enterprise's
own checks run first, as in a verification run."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.store.models import StatisticalReport
from kilnwatch.verify.checks import after_province_checks, run_checks, run_province_checks
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.detectors.balance import CHILD_LOW, PARENT_EXCEEDS
from kilnwatch.verify.detectors.child_peers import check_child_vs_peers
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.settings import verify_settings

SETTINGS = verify_settings()
T_PER_H = 100.0
KWH_PER_T = 390.0
FAULT_FROM_H = 10 * 24


def _plant(
    idx: int, rng: np.random.Generator, *, child_low: float = 0.0, load_behind: float = 0.0,
    overstated: float = 0.0, from_h: int = FAULT_FROM_H, entry_gap_h: int = 0,
    spread: float = 0.03, tilt: float = 0.0, child_gap_h: int = 0,
) -> EnterpriseContext:  # fmt: skip
    """An electric-arc furnace plant: an entry meter and the furnace's sub-meter, no product
    meter, no other carrier. From hour ``from_h`` (day 10) the sub-meter reads ``child_low``
    low, or a load of ``load_behind`` x the furnace's draw runs behind the entry meter; the
    report overstates production by ``overstated``. ``entry_gap_h`` > 0: the entry meter is a
    counter whose readings of that many hours (from day 20) never arrived. ``spread``, ``tilt``:
    how much the plants' energy per product differs, at random and in turn. ``child_gap_h``:
    the sub-meter's readings of that many hours (from day 20) never arrived."""
    unit = UnitInfo(idx, "L1", idx, "electric_arc_furnace", "crude_steel", "t")
    entry = MeterInfo(idx * 10 + 1, f"G{idx}", idx, None, "electricity", "entry", None,
                      "counter" if entry_gap_h else "interval", "kWh", 0.5, None)  # fmt: skip
    furnace = MeterInfo(idx * 10 + 2, f"F{idx}", idx, idx, "electricity", "sub_unit",
                        entry.id, "interval", "kWh", 1.0, None)  # fmt: skip
    output = T_PER_H * (1 + 0.03 * rng.standard_normal(HOURS))
    kwh = output * KWH_PER_T * (1 + spread * rng.standard_normal())  # plants differ a little
    kwh *= 1 + tilt * (idx % 3 - 1)  # and by -tilt, 0, +tilt in turn
    after = np.arange(HOURS) >= from_h
    extra = np.where(after, load_behind * kwh, 0.0)
    series = {
        entry.id: _counter(kwh / 0.98 + extra, entry_gap_h)
        if entry_gap_h
        else hourly_series(kwh / 0.98 + extra),
        furnace.id: _without(hourly_series(kwh * np.where(after, 1 - child_low, 1.0)), child_gap_h),
    }
    sources = Sources()
    sources.stats["production:crude_steel"] = StatisticalReport(
        enterprise_id=idx, period="2025-03", item="production:crude_steel",
        quantity=float(output.sum()) * (1 + overstated), unit="t",
    )  # fmt: skip
    info = EnterpriseInfo(idx, f"U{idx}", "steel", (entry, furnace), (unit,))
    return build_context(info, WINDOW, series, sources, SETTINGS)


def _counter(per_hour: np.ndarray, gap_h: int) -> Series:
    """A counter's register at the month's start and every hour's end, without the readings
    of ``gap_h`` hours from day 20 (the register difference after them spans the gap)."""
    register = np.concatenate([[1.0e6], 1.0e6 + np.cumsum(per_hour)])
    keep = np.ones(register.size, dtype=bool)
    keep[20 * 24 + 1 : 20 * 24 + 1 + gap_h] = False
    ts = WINDOW.start_s + 3600 * np.arange(register.size, dtype=np.int64)
    return replace(hourly_series(register[keep]), ts_s=ts[keep])


def _without(series: Series, gap_h: int) -> Series:
    """``series`` without its readings of ``gap_h`` hours from day 20."""
    keep = np.ones(series.size, dtype=bool)
    keep[20 * 24 : 20 * 24 + gap_h] = False
    return Series(*(np.asarray(getattr(series, f.name))[keep] for f in fields(Series)))


def _run(**fault: Any) -> tuple[list[Finding], list[Finding]]:
    """The judged plant's own findings and those of the peers check."""
    rng = np.random.default_rng(5)
    contexts = [_plant(i, rng, **(fault if i == 0 else {})) for i in range(10)]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    found = check_child_vs_peers(contexts, own)
    return [f for f in own if f.enterprise_id == 0], found


def test_a_sub_meter_reading_low_is_named() -> None:
    own, found = _run(child_low=0.15)
    assert [f.rule_code for f in own] == [PARENT_EXCEEDS]  # the rise, no side named
    assert [(f.rule_code, f.meter_id) for f in found] == [(CHILD_LOW, 2)]
    peers = found[0].evidence["energy_per_product_vs_peers"]
    assert peers["sub_meter_change_fraction"] < -0.08
    assert abs(peers["parent_change_fraction"]) < 0.03
    assert found[0].start_at == own[0].start_at


@pytest.mark.parametrize(
    "fault",
    [
        {"load_behind": 0.15},  # the parent rises, the sub-meter stays with its peers
        {"load_behind": 0.30},
    ],
)
def test_a_load_behind_the_parent_is_not_put_on_the_sub_meter(fault: dict[str, float]) -> None:
    own, found = _run(**fault)
    assert [f.rule_code for f in own] == [PARENT_EXCEEDS]
    assert found == []


def test_no_rise_no_finding() -> None:
    own, found = _run(overstated=0.10)  # both sides lower against peers, the ratio unchanged
    assert own == [] and found == []


def test_a_sub_meter_reading_low_all_month_is_named() -> None:
    """No shift within the month: the rise is found only against the peers' ratios
    (``verify.submeter.level_vs_peers``, a province check before this one), and this check
    sees it and puts it on the sub-meter; the rise is then kept as info."""
    rng = np.random.default_rng(5)
    contexts = [_plant(i, rng, **({"child_low": 0.15, "from_h": 0} if i == 0 else {}))
                for i in range(10)]  # fmt: skip
    own = [f for ctx in contexts for f in run_checks(ctx)]
    assert [f for f in own if f.enterprise_id == 0] == []  # nothing within the month
    found = [f for f in run_province_checks(contexts, own) if f.enterprise_id == 0]
    assert sorted((f.rule_code, f.meter_id) for f in found) == [(CHILD_LOW, 2), (PARENT_EXCEEDS, 1)]
    after = after_province_checks(contexts[0], found)
    assert {f.rule_code: f.severity for f in after}[PARENT_EXCEEDS] == "info"


def test_a_counter_with_a_communication_gap_is_judged() -> None:
    """The entry meter is a counter that missed 7 hours of readings: its register difference
    spans the gap, so the month's total is whole and the plant is judged (the gap days are
    not compared within the month, the month's total is)."""
    own, found = _run(child_low=0.15, entry_gap_h=7)
    assert PARENT_EXCEEDS in [f.rule_code for f in own]
    assert [(f.rule_code, f.meter_id) for f in found] == [(CHILD_LOW, 2)]


def test_peers_as_alike_as_the_meters_are_accurate() -> None:
    """Plants that differ by 0.5 % (peers' robust spread about the meters' accuracy classes):
    the peers' spread already holds their meters' errors, so the tolerance is the larger of
    the two, not the two added; a sub-meter reading 4 % low all month is named."""
    rng = np.random.default_rng(5)
    fault = {"child_low": 0.04, "from_h": 0}
    contexts = [
        _plant(i, rng, spread=0.0, tilt=0.005, **(fault if i == 0 else {})) for i in range(10)
    ]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    found = [f for f in run_province_checks(contexts, own) if f.enterprise_id == 0]
    assert [f.meter_id for f in found if f.rule_code == CHILD_LOW] == [2]


def test_a_sub_meter_with_missed_readings_is_judged_on_the_cautious_side() -> None:
    """The sub-meter reads 15 % low all month and missed 6 hours of readings: what those hours
    may have held is counted with it (its ratio with the parent at the low bound, its energy
    per product at the high bound), and it is still found reading low."""
    rng = np.random.default_rng(5)
    fault = {"child_low": 0.15, "from_h": 0, "child_gap_h": 6}
    contexts = [_plant(i, rng, **(fault if i == 0 else {})) for i in range(10)]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    found = [f for f in run_province_checks(contexts, own) if f.enterprise_id == 0]
    assert [f.meter_id for f in found if f.rule_code == CHILD_LOW] == [2]


def test_a_sub_meter_low_beside_a_parent_above_its_peers_is_named() -> None:
    """The sub-meter reads 10 % low from day 16 at a plant that reports 1.5 % less output
    than it makes (the parent 1.0 % above its peers, the sub-meter 4.3 % below; peers alike to
    0.5 %): a load behind the parent would need the plant 4.3 % below its peers, beyond their
    spread and the meters' accuracy (1.1 %); the sub-meter reading low needs it 1.0 % above,
    within them. The likelier explanation is named (before, the sub-meter's drop had to exceed
    the parent's deviation by three spreads of both, z 2.9, and the rise stayed on the
    parent)."""
    rng = np.random.default_rng(5)
    fault = {"child_low": 0.10, "from_h": 15 * 24, "overstated": -0.015}
    contexts = [
        _plant(i, rng, spread=0.0, tilt=0.005, **(fault if i == 0 else {})) for i in range(10)
    ]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    assert [f.rule_code for f in own if f.enterprise_id == 0] == [PARENT_EXCEEDS]
    found = check_child_vs_peers(contexts, own)
    assert [(f.rule_code, f.meter_id) for f in found] == [(CHILD_LOW, 2)]
    assert found[0].evidence["robust_z"] >= 3


@pytest.mark.parametrize("efficient", [0.0, 0.02])
def test_a_load_behind_a_parent_of_an_efficient_plant_stays_on_the_parent(
    efficient: float,
) -> None:
    """A load of 8 % behind the parent from day 16 at a plant that uses as much (or 2 % less)
    energy per reported product as its peers: the sub-meter is with its peers (or 2 % below),
    the load is the likelier explanation, nothing is put on the sub-meter."""
    rng = np.random.default_rng(5)
    fault = {"load_behind": 0.08, "from_h": 15 * 24, "overstated": efficient}
    contexts = [
        _plant(i, rng, spread=0.0, tilt=0.005, **(fault if i == 0 else {})) for i in range(10)
    ]
    own = [f for ctx in contexts for f in run_checks(ctx)]
    assert [f.rule_code for f in own if f.enterprise_id == 0] == [PARENT_EXCEEDS]
    assert check_child_vs_peers(contexts, own) == []
