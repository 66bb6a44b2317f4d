"""A parent / sub-meter rise put on the side that moved, from reported production against peers
(``verify.submeter.child_vs_peers``), on in-memory electricity-only plants: the enterprise's
own checks run first, as in a verification run."""

from __future__ import annotations

import numpy as np
import pytest
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo, UnitInfo
from kilnwatch.store.models import StatisticalReport
from kilnwatch.verify.checks import run_checks
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
    overstated: float = 0.0,
) -> EnterpriseContext:  # fmt: skip
    """An electric-arc furnace plant: an entry meter and the furnace's sub-meter, no product
    meter, no other carrier. From day 10 the sub-meter reads ``child_low`` low, or a load of
    ``load_behind`` x the furnace's draw runs behind the entry meter; the report overstates
    production by ``overstated``."""
    unit = UnitInfo(idx, "L1", idx, "electric_arc_furnace", "crude_steel", "t")
    entry = MeterInfo(idx * 10 + 1, f"G{idx}", idx, None, "electricity", "entry", None,
                      "interval", "kWh", 0.5, None)  # fmt: skip
    furnace = MeterInfo(idx * 10 + 2, f"F{idx}", idx, idx, "electricity", "sub_unit",
                        entry.id, "interval", "kWh", 1.0, None)  # fmt: skip
    output = T_PER_H * (1 + 0.03 * rng.standard_normal(HOURS))
    kwh = output * KWH_PER_T * (1 + 0.03 * rng.standard_normal())  # plants differ a little
    after = np.arange(HOURS) >= FAULT_FROM_H
    extra = np.where(after, load_behind * kwh, 0.0)
    series = {
        entry.id: hourly_series(kwh / 0.98 + extra),
        furnace.id: hourly_series(kwh * np.where(after, 1 - child_low, 1.0)),
    }
    sources = Sources()
    sources.stats["production:crude_steel"] = StatisticalReport(
        enterprise_id=idx, period="2025-03", item="production:crude_steel",
        quantity=float(output.sum()) * (1 + overstated), unit="t",
    )  # fmt: skip
    info = EnterpriseInfo(idx, f"U{idx}", "steel", (entry, furnace), (unit,))
    return build_context(info, WINDOW, series, sources, SETTINGS)


def _run(**fault: float) -> tuple[list[Finding], list[Finding]]:
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
