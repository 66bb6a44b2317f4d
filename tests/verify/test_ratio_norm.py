"""What is normal for a parent / sub-meter ratio (``verify.submeter.level_vs_peers``): the
peers whose meters no check found wrong, without the judged parent, and a tolerance never finer
than the meters' accuracy classes (issue 12: a whole-month load behind an entry meter)."""

from __future__ import annotations

import numpy as np
import pytest
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.detectors.balance import CAPPED, CHILD_LOW, PARENT_EXCEEDS
from kilnwatch.verify.detectors.peers import check_peers, judge_ratios, ratio_accuracy
from kilnwatch.verify.detectors.timeseries import DUPLICATES
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.settings import verify_settings

SETTINGS = verify_settings()
BAD = (3, 6, 9, 12)  # plants whose sub-meter was found reading low


def _pair(
    idx: int, loss: float, *, load_behind: float = 0.0, child_low: float = 0.0,
    carrier: str = "electricity", accuracy_pct: float = 0.5,
) -> EnterpriseContext:  # fmt: skip
    """An entry meter over one sub-meter: the parent reads the sub-meter's use plus ``loss``
    (line and transformer losses) plus an undeclared load of ``load_behind`` x the use all
    month; the sub-meter reads ``child_low`` low all month."""
    parent = MeterInfo(idx * 10 + 1, f"P{idx}", idx, None, carrier, "entry", None, "interval",
                       "kWh", accuracy_pct, None)  # fmt: skip
    child = MeterInfo(idx * 10 + 2, f"C{idx}", idx, None, carrier, "sub_unit", parent.id,
                      "interval", "kWh", accuracy_pct, None)  # fmt: skip
    use = 100.0 * (1 + 0.2 * np.sin(np.arange(HOURS) * 2 * np.pi / 24))
    series = {
        parent.id: hourly_series(use * (1 + loss + load_behind)),
        child.id: hourly_series(use * (1 - child_low)),
    }
    info = EnterpriseInfo(idx, f"U{idx}", "cement", (parent, child), ())
    return build_context(info, WINDOW, series, Sources(), SETTINGS)


def _child_found_low(ctx: EnterpriseContext, code: str = CHILD_LOW) -> Finding:
    child = next(m for m in ctx.meters.values() if m.info.parent_id is not None)
    return Finding(code, ctx.info.id, WINDOW.period, WINDOW.start_at, WINDOW.end_at,
                   "medium", "reads low", meter_id=child.info.id)  # fmt: skip


@pytest.mark.parametrize("load", [0.06, 0.0])
def test_pairs_found_wrong_are_not_the_norm(load: float) -> None:
    """Fourteen plants with losses of 1-3 %; four have a sub-meter already found reading low by
    8 % (their ratios far above), one a load of 6 % behind its entry meter all month on losses
    of 1 %. Counted among the peers (with the judged plant itself), the four would lift the
    norm's median and spread until the load looked normal (robust z 2.5); against the nine
    other clean pairs it is 7. Without the load nothing is found."""
    losses = np.linspace(0.01, 0.03, 14)
    contexts = [
        _pair(i, float(losses[i]), load_behind=load if i == 0 else 0.0,
              child_low=0.08 if i in BAD else 0.0)
        for i in range(14)
    ]  # fmt: skip
    existing = [_child_found_low(contexts[i]) for i in BAD]
    found = check_peers(contexts, existing)
    assert [(f.rule_code, f.meter_id) for f in found] == ([(PARENT_EXCEEDS, 1)] if load else [])
    if load:
        assert found[0].evidence["peers"] == 9  # the clean pairs but itself


def test_sub_meter_found_capped_explains_the_rise() -> None:
    """A sub-meter found capped (its own check, not a ratio one) reads 15 % low all month: its
    parent's ratio stands far above the peers', explained by the capped meter, not by a load
    behind the parent (the capped finding names the fault)."""
    losses = np.linspace(0.01, 0.03, 12)
    contexts = [_pair(i, float(losses[i]), child_low=0.15 if i == 0 else 0.0) for i in range(12)]
    assert check_peers(contexts, [_child_found_low(contexts[0], CAPPED)]) == []
    assert [f.meter_id for f in check_peers(contexts, [])] == [1]  # unexplained, it is found


def test_sub_meter_delivered_twice_explains_nothing() -> None:
    """A load of 8 % behind the parent all month, its sub-meter's readings found delivered again
    (a finding on how they arrived, not on what they read): the load is found."""
    losses = np.linspace(0.01, 0.03, 12)
    contexts = [_pair(i, float(losses[i]), load_behind=0.08 if i == 0 else 0.0) for i in range(12)]
    found = check_peers(contexts, [_child_found_low(contexts[0], DUPLICATES)])
    assert [f.meter_id for f in found] == [1]


def test_tolerance_never_finer_than_the_meters() -> None:
    """Coal belt scales of class 0.5 whose ratios agree within 0.02 %: a pair 1 % above them is
    within what two such meters may read apart (their classes, as standard uncertainties,
    combine to 0.41 %), not a load behind the parent."""
    losses = 0.005 + 0.0002 * np.linspace(-1, 1, 12)
    losses[0] += 0.01
    contexts = [_pair(i, float(losses[i]), carrier="raw_coal") for i in range(12)]
    assert check_peers(contexts, []) == []
    judged = {j.sample.meter_id: j for j in judge_ratios(contexts, [])}
    assert judged[1].sd == judged[1].sample.accuracy > judged[1].spread


def test_ratio_accuracy_combines_classes() -> None:
    """Class 0.5 parent over two sub-meters of class 1.0 carrying 3/4 and 1/4: the sub-meters'
    share-weighted errors and the parent's, each half-width / sqrt(3), add in quadrature."""
    expected = np.sqrt(0.5**2 + 0.75**2 + 0.25**2) / 100 / np.sqrt(3)
    assert np.isclose(ratio_accuracy(0.5, [1.0, 1.0], [75.0, 25.0]), expected)
