"""Which side of a parent / sub-meter rise is wrong, from the plant's reported production and
its peers (issue 12).

A parent meter that exceeds its sub-meter by more than before (or than its peers) means one of
two things: a load behind the parent that no sub-meter measures, or the sub-meter reading low.
Within the month the two look alike when nothing else measures the unit's activity day by day
(no product meter, no other carrier: an electric-arc furnace plant). The month's reported
production tells them apart, against the plants of the same process and product in the run:

* a load behind the parent raises the parent's energy per reported product and leaves the
  sub-meter's where its peers are;
* a sub-meter reading low lowers the sub-meter's energy per reported product and leaves the
  parent's where its peers are.

An overstated production lowers both (so neither side is named); tolerances are the peers'
robust spread, at least the meters' accuracy classes, never the suspect quantity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kilnwatch.verify.check import METER_FAULTS
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.detectors.balance import CHILD_LOW, INTENSITY, PARENT_EXCEEDS
from kilnwatch.verify.detectors.peers import PeerBounds, peer_check, robust_norm
from kilnwatch.verify.evidence import finding, rounded
from kilnwatch.verify.findings import Finding

CHILD_PEERS = "verify.submeter.child_vs_peers"
Group = tuple[str, str, str, str, str]  # process, item, report unit, carrier, parent level


@dataclass(frozen=True)
class PairSample:
    """A single-unit plant's parent meter with its one sub-meter: log energy per reported
    product of each, and their combined maximum permissible error [fraction]."""

    ctx: EnterpriseContext
    parent: MeterData
    child: MeterData
    group: Group
    log_parent: float
    log_child: float
    accuracy: float  # both meters' maximum permissible errors, combined [fraction]


def _whole_month(m: MeterData) -> bool:
    """The meter's total holds the whole month: an interval meter with every reading, a
    counter with a register at the month's start (its register differences span any gap in
    the month, so a communication gap loses nothing of the total)."""
    return not m.undercounts() and m.possibly_missing() == 0


def pair_samples(ctx: EnterpriseContext, default_accuracy_pct: float) -> list[PairSample]:
    """The parent / one-sub-meter pairs of an enterprise whose one unit reports its product
    (the parent's total whole, :func:`_whole_month`; the sub-meter's with what its missed
    readings may have held; quantities per reported product, in the report's unit)."""
    if len(ctx.info.units) != 1:
        return []
    unit = ctx.info.units[0]
    report = ctx.sources.stats.get(f"production:{unit.product}")
    if report is None or report.quantity <= 0:
        return []
    out = []
    for parent in ctx.meters.values():
        children = ctx.summable_children(parent)
        if len(children) != 1 or parent.info.is_product:
            continue
        child = children[0]
        if child.info.carrier != parent.info.carrier:
            continue
        # the sub-meter with what its missed readings may have held: the cautious side for
        # a sub-meter reading low
        child_total = child.total + child.possibly_missing()
        if not _whole_month(parent) or parent.total <= 0 or not 0 < child_total < np.inf:
            continue
        group = (unit.process, report.item, report.unit, parent.info.carrier, parent.info.level)
        pcts = [m.info.accuracy_pct or default_accuracy_pct for m in (parent, child)]
        out.append(
            PairSample(
                ctx, parent, child, group,
                float(np.log(parent.total / report.quantity)),
                float(np.log(child_total / report.quantity)),
                float(np.hypot(pcts[0], pcts[1])) / 100.0,
            )
        )  # fmt: skip
    return out


def check_child_vs_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """A sub-meter reading low where a parent / sub-meter rise was found
    (``verify.submeter.parent_exceeds_children``) and the enterprise's own checks could not
    name a side: the sub-meter's energy per reported product is below its peers' by at least
    ``z_threshold`` standard deviations (both peer spreads combined, at least both meters'
    accuracy classes combined: the peers' spread already holds their meters' errors) more
    than the parent's deviates from its peers'. A cause common to both meters (the plant's
    own efficiency, a misreported output) moves both alike; a load behind the
    parent shows as the parent above its peers and the sub-meter with them, so it never
    passes. Peers: the other single-unit plants of the run with the same process, product,
    carrier and parent level (at least ``min_peers``; the judged plant is left out of its
    own norm). Limit: a common cause as large as the rise itself (output overstated by as
    much as a load behind the parent adds) cannot be told from the sub-meter reading low."""
    if not contexts:
        return []
    bounds = PeerBounds.of(contexts, CHILD_PEERS)
    rises = {
        (f.meter_id, f.period): f
        for f in existing
        if f.rule_code == PARENT_EXCEEDS and f.severity != "info"
    }
    named = {(f.meter_id, f.period) for f in existing if f.rule_code in (INTENSITY, CHILD_LOW)}
    samples = [s for ctx in contexts for s in pair_samples(ctx, bounds.default_accuracy_pct)]
    out = []
    for s in samples:
        period = s.ctx.window.period
        rise = rises.get((s.parent.info.id, period))
        if rise is None or (s.child.info.id, period) in named:
            continue
        peers = [p for p in samples if p.group == s.group and p is not s]
        if len(peers) < bounds.min_peers:
            continue
        parent_median, parent_spread = robust_norm([p.log_parent for p in peers])
        child_median, child_spread = robust_norm([p.log_child for p in peers])
        # the difference of two deviations: both peer spreads, which hold the peers' own
        # meter errors already, floored at both meters' accuracy (a few peers' spread is
        # itself uncertain, and no tolerance is finer than the meters)
        sd = max(float(np.hypot(child_spread, parent_spread)), s.accuracy)
        child_change = s.log_child - child_median
        parent_change = s.log_parent - parent_median
        # a common cause (efficiency, a misreported output) moves both sides alike: the
        # sub-meter's own drop is what exceeds the parent's deviation, in peer spreads
        z = (-child_change - abs(parent_change)) / sd
        if z < bounds.z_threshold:
            continue
        norms = {"child_median": child_median, "sd": sd, "peers": len(peers),
                 "parent_median": parent_median, "parent_spread": parent_spread}  # fmt: skip
        out.append(_finding(s, rise, child_change, parent_change, z, norms))
    return out


def _finding(
    s: PairSample, rise: Finding, child_change: float, parent_change: float, z: float,
    norms: dict[str, float],
) -> Finding:  # fmt: skip
    unit = s.group[2]
    child_pct, parent_pct = float(np.expm1(child_change)), float(np.expm1(parent_change))
    evidence = {
        "meter": s.child.info.code,
        "parent": s.parent.info.code,
        "item": s.group[1],
        "process": s.group[0],
        "ratio_change_fraction": rise.magnitude_fraction,
        "energy_per_product_vs_peers": {
            "sub_meter_change_fraction": rounded(child_pct),
            "sd_fraction": rounded(norms["sd"]),
            "sub_meter_peer_median": rounded(float(np.exp(norms["child_median"]))),
            "parent_change_fraction": rounded(parent_pct),
            "parent_spread_fraction": rounded(norms["parent_spread"]),
            "parent_peer_median": rounded(float(np.exp(norms["parent_median"]))),
            "peers": int(norms["peers"]),
        },
        "robust_z": rounded(z, 2),  # of the drop beyond the parent's deviation
        "from": rise.evidence.get("from"),
        "to": rise.evidence.get("to"),
    }
    return finding(
        s.ctx,
        CHILD_LOW,
        f"{s.child.info.code}: reads low — its energy per reported {unit} is {child_pct:+.1%} "
        f"against its peers while {s.parent.info.code}'s is {parent_pct:+.1%} (parent / "
        f"sub-meter ratio +{rise.magnitude_fraction or 0:.1%}: not a load behind the parent)",
        evidence,
        fraction=rise.magnitude_fraction,
        meter=s.child.info,
        start_at=rise.start_at,
        end_at=rise.end_at,
    )


CHILD_PEERS_CHECK = peer_check(CHILD_PEERS, {CHILD_LOW: METER_FAULTS}, check_child_vs_peers)
