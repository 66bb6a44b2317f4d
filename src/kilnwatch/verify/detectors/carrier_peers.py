"""An entry meter reading low all month, from the plant's carriers against each other and
against the plants of the same process (issue 12).

A meter reading low from the month's first day shows no shift within the month. Every carrier
of a process follows its output, so the plant's metered energy per reported product, per
carrier, sits where the plants of the same process and product have theirs. Against them:

* a cause common to the plant (its own efficiency, a misreported output) moves every carrier
  alike;
* an entry meter reading low lowers its own carrier only.

So a carrier whose energy per reported product is below its peers' by more than the plant's
other carriers are (in the peers' robust spreads and the meters' accuracy classes, combined)
is read low by its entry meter. A real difference of the process (one carrier used more
sparingly than at other plants) is as wide as the peers' spread, which is the tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kilnwatch.analytics.meters import MeterInfo
from kilnwatch.verify.check import METER_FAULTS
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.detectors.peers import (
    Norm,
    OutputSample,
    PeerBounds,
    carriers_read_wrong,
    intensity_norms,
    output_sample,
    peer_check,
)
from kilnwatch.verify.evidence import finding, rounded, tce_of
from kilnwatch.verify.findings import Finding

CARRIER_PEERS = "verify.meter.carrier_vs_peers"


def check_carrier_vs_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Entry meters (the only one of their carrier at a single-unit plant reporting its
    product) whose carrier's energy per reported product is below the peers' median by at
    least ``z_threshold`` standard deviations, and by as many more than the median deviation
    of the plant's other energy carriers; carriers with a meter already found reading wrong
    are not judged, nor judge; water and other non-energy items are neither. Peers: the
    plants of the same process and product (at least ``min_peers``)."""
    if not contexts:
        return []
    bounds = PeerBounds.of(contexts, CARRIER_PEERS)
    samples = [
        s for ctx in contexts if (s := output_sample(ctx, bounds.default_accuracy_pct)) is not None
    ]
    norms = intensity_norms(samples, bounds.min_peers)
    suspect = carriers_read_wrong(contexts, existing)
    out = []
    for s in samples:
        skip = suspect.get((s.ctx.info.id, s.ctx.window.period), set())
        deviations = {}
        for carrier, log_i in s.intensity.items():
            norm = norms.get((s.process, s.item, s.unit, carrier))
            energy = tce_of(carrier, 1.0, s.ctx.by_level("entry", carrier)[0].info.uom)
            if norm is not None and carrier not in skip and energy is not None:
                deviations[carrier] = (
                    log_i - norm[0],
                    float(np.hypot(norm[1], s.accuracy[carrier])),
                )
        for carrier, (change, sd) in deviations.items():
            others = {c: d for c, d in deviations.items() if c != carrier}
            meters = [m for m in s.ctx.by_level("entry", carrier) if not m.info.is_product]
            if not others or len(meters) != 1:
                continue
            # the plant's common cause: the median of its other carriers (one odd carrier,
            # itself far from its peers, does not make the others look low)
            common = float(np.median([d for d, _ in others.values()]))
            common_sd = float(np.median([v for _, v in others.values()]))
            z = (common - change) / float(np.hypot(sd, common_sd))
            if z >= bounds.z_threshold and change <= -bounds.z_threshold * sd:
                out.append(_finding(s, meters[0].info, carrier, change, common, z, norms))
    return out


def _finding(
    s: OutputSample, meter: MeterInfo, carrier: str, change: float, common: float, z: float,
    norms: dict[tuple[str, str, str, str], Norm],
) -> Finding:  # fmt: skip
    own = float(np.expm1(change - common))
    norm = norms[(s.process, s.item, s.unit, carrier)]
    evidence = {
        "meter": meter.code,
        "item": s.item,
        "process": s.process,
        "carrier": carrier,
        "change_fraction": rounded(float(np.expm1(change))),
        "other_carriers_change_fraction": rounded(float(np.expm1(common))),
        "peer_median": rounded(float(np.exp(norm[0]))),
        "peers": norm[2],
        "robust_z": rounded(z, 2),
    }
    return finding(
        s.ctx,
        CARRIER_PEERS,
        f"{meter.code}: {carrier} per reported {s.unit} is {np.expm1(change):+.1%} against "
        f"{norm[2]} plants of the same process while the plant's other carriers are "
        f"{np.expm1(common):+.1%}: the meter reads about {-own:.1%} low",
        evidence,
        fraction=own,
        meter=meter,
    )


CARRIER_PEERS_CHECK = peer_check(
    CARRIER_PEERS, {CARRIER_PEERS: METER_FAULTS}, check_carrier_vs_peers
)
