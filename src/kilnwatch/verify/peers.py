"""Checks against peers: the month's parent / sub-meter ratio of each parent meter vs the
robust distribution of the same ratio over all parent meters of the same carrier and level in
the run. A load behind the parent that lasts the whole month shows no shift within the month,
but it stands out against peers (median and MAD of log ratios; a robust z, no fixed bound on
losses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding, rounded
from kilnwatch.verify.rules._base import finding

PEERS = "verify.submeter.level_vs_peers"
MAD_TO_SD = 1.4826


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


def check_peers(samples: list[RatioSample], existing: list[Finding]) -> list[Finding]:
    """Parents whose ratio is a high outlier among their peers (not already found)."""
    if not samples or not samples[0].ctx.settings.enabled(PEERS):
        return []
    settings = samples[0].ctx.settings
    z_threshold = settings.value(PEERS, "z_threshold")
    least = settings.value(PEERS, "min_meters")
    known = {(f.meter_id, f.period) for f in existing if f.rule_code.startswith("verify.submeter.")}
    reads_low = ("verify.meter.intensity_drop", "verify.submeter.child_reads_low")
    low = {(f.meter_id, f.period) for f in existing if f.rule_code in reads_low}
    out = []
    for group in sorted({s.group for s in samples}):
        peers = [s for s in samples if s.group == group]
        if len(peers) < least:
            continue
        logs = np.array([s.log_ratio for s in peers])
        median = float(np.median(logs))
        spread = max(MAD_TO_SD * float(np.median(np.abs(logs - median))), 1e-6)
        for s in peers:
            z = (s.log_ratio - median) / spread
            period = s.ctx.window.period
            children = {(c.info.id, period) for c in s.ctx.children(s.meter_id)}
            if z < z_threshold or (s.meter_id, period) in known or children & low:
                continue  # not an outlier, or explained by a sub-meter found reading low
            excess = float(np.exp(s.log_ratio - median) - 1)
            m = s.ctx.meters[s.meter_id]
            evidence = {
                "parent": m.info.code,
                "ratio": rounded(float(np.exp(s.log_ratio))),
                "peer_median_ratio": rounded(float(np.exp(median))),
                "peers": len(peers),
                "robust_z": rounded(z, 2),
                "children": [c.info.code for c in s.ctx.children(s.meter_id)],
            }
            out.append(
                finding(
                    s.ctx,
                    "verify.submeter.parent_exceeds_children",
                    f"{m.info.code} exceeds its sub-meters by {excess:+.1%} more than its peers do",
                    evidence,
                    fraction=excess,
                    meter=m.info,
                )
            )
    return out
