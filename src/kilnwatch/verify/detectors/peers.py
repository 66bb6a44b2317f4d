"""Checks against peers: the month's parent / sub-meter ratio of each parent meter vs the
robust distribution of the same ratio over all parent meters of the same carrier and level in
the run. A load behind the parent that lasts the whole month shows no shift within the month,
but it stands out against peers (median and MAD of log ratios; a robust z, no fixed bound on
losses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.detectors.balance import CHILD_LOW, INTENSITY, PARENT_EXCEEDS
from kilnwatch.verify.detectors.shift import MAD_TO_SD
from kilnwatch.verify.evidence import finding, rounded
from kilnwatch.verify.findings import Finding

PEERS = "verify.submeter.level_vs_peers"
SPREAD_FLOOR = 1e-6  # [log units] numerical floor of the peers' spread (identical ratios)


@dataclass(frozen=True)
class RatioSample:
    ctx: EnterpriseContext
    meter_id: int
    group: tuple[str, str]
    log_ratio: float


def ratio_samples(ctx: EnterpriseContext) -> list[RatioSample]:
    """Monthly parent / sum-of-children ratio of every parent meter with complete data."""
    out = []
    for parent in ctx.meters.values():
        children = [c for c in ctx.children(parent.info.id) if c.info.measurement != "instant"]
        if not children or any(c.info.uom != parent.info.uom for c in children):
            continue
        if not all(m.full_days().all() for m in (parent, *children)):
            continue
        kids = sum(c.total for c in children)
        if parent.total > 0 and kids > 0:
            group = (parent.info.carrier, parent.info.level)
            out.append(RatioSample(ctx, parent.info.id, group, float(np.log(parent.total / kids))))
    return out


def check_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Parents whose ratio is a high outlier among their peers over every enterprise of the
    run (not already found by the enterprise's own checks in ``existing``)."""
    if not contexts:
        return []
    settings = contexts[0].settings
    z_threshold = settings.value(PEERS, "z_threshold")
    least = settings.count(PEERS, "min_meters")
    samples = [s for ctx in contexts for s in ratio_samples(ctx)]
    known = {(f.meter_id, f.period) for f in existing if f.rule_code.startswith("verify.submeter.")}
    low = {(f.meter_id, f.period) for f in existing if f.rule_code in (INTENSITY, CHILD_LOW)}
    out = []
    for group in sorted({s.group for s in samples}):
        peers = [s for s in samples if s.group == group]
        if len(peers) < least:
            continue
        logs = np.array([s.log_ratio for s in peers])
        median = float(np.median(logs))
        spread = max(MAD_TO_SD * float(np.median(np.abs(logs - median))), SPREAD_FLOOR)
        for s in peers:
            z = (s.log_ratio - median) / spread
            period = s.ctx.window.period
            children = {(c.info.id, period) for c in s.ctx.children(s.meter_id)}
            if z < z_threshold or (s.meter_id, period) in known or children & low:
                continue  # not an outlier, or explained by a sub-meter found reading low
            out.append(_outlier(s, median, len(peers), z))
    return out


def _outlier(s: RatioSample, median: float, peers: int, z: float) -> Finding:
    excess = float(np.exp(s.log_ratio - median) - 1)
    m = s.ctx.meters[s.meter_id]
    evidence = {
        "parent": m.info.code,
        "ratio": rounded(float(np.exp(s.log_ratio))),
        "peer_median_ratio": rounded(float(np.exp(median))),
        "peers": peers,
        "robust_z": rounded(z, 2),
        "children": [c.info.code for c in s.ctx.children(s.meter_id)],
    }
    return finding(
        s.ctx,
        PARENT_EXCEEDS,
        f"{m.info.code} exceeds its sub-meters by {excess:+.1%} more than its peers do",
        evidence,
        fraction=excess,
        meter=m.info,
    )


PEERS_CHECK = Check(
    PEERS, "integrity", {PARENT_EXCEEDS: ("submeter_mismatch",)}, run_province=check_peers
)
