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
    name a side, by which of the two explanations needs the less unusual plant.

    Each explanation leaves one meter honest, and that meter's energy per reported product
    against its peers is then the plant's own deviation (its efficiency, a misreported
    output), which moves both meters alike: under a load behind the parent it is the
    sub-meter's deviation, under the sub-meter reading low the parent's. Each is a z against
    the peers of that meter (their robust spread, at least both meters' accuracy classes
    combined: the peers' spread already holds their meters' errors); the sub-meter is named
    when it reads below its peers and the log-likelihood ratio of the two explanations,
    (z_load² − z_low²) / 2, reaches that of a ``z_threshold`` test (z_threshold² / 2): a load
    behind the parent would make the plant an outlier that the sub-meter reading low does
    not need. A load behind a parent shows as the parent above its peers and the sub-meter
    with them, so it never passes. Peers: the other single-unit plants of the run with the
    same process, product, carrier and parent level (at least ``min_peers``; the judged
    plant is left out of its own norm). Limit: a common cause as large as the rise itself
    (output overstated by as much as a load behind the parent adds) cannot be told from the
    sub-meter reading low.

    References
    ----------
    .. [1] JCGM 100:2008 (GUM), 4.3.7 and 5.1.2: the meters' maximum permissible errors as
       the floor of a spread.
    .. [2] J. Neyman, E. S. Pearson (1933), On the problem of the most efficient tests of
       statistical hypotheses, Phil. Trans. R. Soc. A 231: the likelihood ratio of two
       simple hypotheses.
    """
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
        # each meter's peers' spread, which holds their own meter errors already, floored
        # at both meters' accuracy (no tolerance is finer than the meters)
        child_sd, parent_sd = (max(spread, s.accuracy) for spread in (child_spread, parent_spread))
        child_change = s.log_child - child_median
        parent_change = s.log_parent - parent_median
        z = _sub_meter_low_z(child_change / child_sd, parent_change / parent_sd)
        if z < bounds.z_threshold:
            continue
        norms = {"child_median": child_median, "sd": child_sd, "peers": len(peers),
                 "parent_median": parent_median, "parent_spread": parent_sd}  # fmt: skip
        out.append(_finding(s, rise, child_change, parent_change, z, norms))
    return out


def _sub_meter_low_z(z_child: float, z_parent: float) -> float:
    """How strongly the sub-meter reading low is preferred to a load behind the parent, as
    the z of a test of equal evidence [-]: sqrt(z_load² − z_low²) with z_load = −``z_child``
    (the plant's own deviation if the parent had an extra load) and z_low = ``z_parent``
    (its own deviation if the sub-meter read low), each against its meter's peers; 0 when
    the sub-meter is not below its peers or the load is the likelier explanation.

    Parameters
    ----------
    z_child : float
        The sub-meter's log energy per reported product minus its peers' median, in their
        spreads [-].
    z_parent : float
        The same for the parent meter [-].

    Returns
    -------
    float
        sqrt(z_child² − z_parent²) when z_child < 0 and |z_child| > |z_parent|, else 0 [-].

    References
    ----------
    .. [1] J. Neyman, E. S. Pearson (1933), Phil. Trans. R. Soc. A 231: the log-likelihood
       ratio of two Gaussian explanations, (z_load² − z_low²) / 2.
    """
    if z_child >= 0 or abs(z_child) <= abs(z_parent):
        return 0.0
    return float(np.sqrt(z_child**2 - z_parent**2))


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
        "robust_z": rounded(z, 2),  # the sub-meter low against a load behind the parent
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
