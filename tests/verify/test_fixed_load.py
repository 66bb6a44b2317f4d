"""A load behind an entry meter that runs all month is the fixed part of the parent's excess
over its sub-meters hour by hour (``verify.submeter.level_vs_peers``, basis ``fixed_load``):
losses and meter errors follow the load, such a load does not (issue 12)."""

from __future__ import annotations

import numpy as np
from peer_plants import HOURS, WINDOW, hourly_series

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.detectors.balance import PARENT_EXCEEDS
from kilnwatch.verify.detectors.fixed_load import fixed_part
from kilnwatch.verify.detectors.peers import check_peers, judge_ratios
from kilnwatch.verify.settings import verify_settings

SETTINGS = verify_settings()
#: Twelve plants' line and transformer losses: a wide spread (1-5 %), where a load of a few
#: per cent behind a low-loss plant's entry meter stays within the month ratios' norm.
LOSSES = np.linspace(0.01, 0.05, 12)


def _plant(
    idx: int, loss: float, fixed: float = 0.0, *, counter: bool = False,
    keep: np.ndarray | None = None,
) -> EnterpriseContext:  # fmt: skip
    """An entry meter over one sub-meter whose load swings by the hour of the day: the parent
    reads the use times (1 + ``loss``) plus a constant load of ``fixed`` x the mean use (a
    counter: ``keep``, the parent's readings kept)."""
    parent = MeterInfo(idx * 10 + 1, f"P{idx}", idx, None, "electricity", "entry", None,
                       "counter" if counter else "interval", "kWh", 0.5, None)  # fmt: skip
    child = MeterInfo(idx * 10 + 2, f"C{idx}", idx, None, "electricity", "sub_unit", parent.id,
                      "interval", "kWh", 0.5, None)  # fmt: skip
    hours = np.arange(HOURS)
    noise = np.random.default_rng(idx).normal(0.0, 0.01, HOURS)
    use = 100.0 * (1 + 0.3 * np.sin(hours * 2 * np.pi / 24) + noise)
    reads = use * (1 + loss) + fixed * 100.0
    if counter:  # the register, from an hour before the window's start
        reads = np.concatenate(([5e4], 5e4 + np.cumsum(reads)))
    series = {
        parent.id: hourly_series(reads, counter=counter, keep=keep),
        child.id: hourly_series(use),
    }
    info = EnterpriseInfo(idx, f"U{idx}", "cement", (parent, child), ())
    return build_context(info, WINDOW, series, Sources(), SETTINGS)


def test_fixed_load_behind_a_low_loss_meter_is_found() -> None:
    """A constant load of 5 % behind the entry meter of the plant with the lowest losses: its
    month ratio (1.06) stands under two spreads above its peers' (median 1.032, spread 1.6 %),
    within the norm but above ``fixed_ratio_z``; its fixed part is 5 % of the sub-meter's mean
    load where the peers' is 0."""
    contexts = [_plant(i, float(LOSSES[i]), 0.05 if i == 0 else 0.0) for i in range(12)]
    ratio = {j.sample.meter_id: j for j in judge_ratios(contexts, [])}
    rule = "verify.submeter.level_vs_peers"
    assert SETTINGS.value(rule, "fixed_ratio_z") <= ratio[1].z < SETTINGS.value(rule, "z_threshold")
    found = check_peers(contexts, [])
    assert [(f.rule_code, f.meter_id, f.evidence["basis"]) for f in found] == [
        (PARENT_EXCEEDS, 1, "fixed_load")
    ]
    assert abs(found[0].evidence["fixed_fraction"] - 0.05) < 0.005


def test_high_losses_are_no_fixed_load() -> None:
    """Without a load behind any meter nothing is found, the plant with the highest losses
    included: its excess follows the load (slope 1.05, fixed part 0)."""
    contexts = [_plant(i, float(LOSSES[i])) for i in range(12)]
    assert check_peers(contexts, []) == []
    top = contexts[-1].meters[111]
    part = fixed_part(contexts[-1], top, contexts[-1].summable_children(top), 168)
    assert part is not None and abs(part.fraction) < 0.005 and abs(part.slope - 1.05) < 0.005


def test_fixed_part_without_excess_is_not_a_load() -> None:
    """A parent reading 3 % low (its meter's gain, say) with 3 % of fixed no-load losses: its
    excess has a fixed part but its ratio (1.0) is below its peers': nothing is reported."""
    contexts = [_plant(i, float(LOSSES[i])) for i in range(1, 12)]
    contexts.append(_plant(0, -0.03, 0.03))
    assert check_peers(contexts, []) == []


def test_counter_steps_across_a_gap_are_left_out() -> None:
    """An entry counter that missed readings: the register difference after the gap pools
    the missed hours into one and would read as a huge hour; the hours it spans are left out
    of the fit (the fixed part stays the load behind the meter, 4 %)."""
    keep = np.ones(HOURS + 1, dtype=bool)
    keep[200:205] = False
    ctx = _plant(0, 0.01, 0.04, counter=True, keep=keep)
    parent = ctx.meters[1]
    assert np.nanmax(parent.qty) > 5 * np.nanmedian(parent.qty)  # the pooled step
    part = fixed_part(ctx, parent, ctx.summable_children(parent), 168)
    assert part is not None and abs(part.fraction - 0.04) < 0.005 and part.hours <= HOURS - 6
