"""An entry meter reading low all month, from the plant's energy per reported product against
the plants of the same process, oriented by its other carriers (issue 12).

A meter scaled down from the month's first day shows no shift within the month, and with one
month of readings nothing of the enterprise's own says it reads low. Every carrier of a
process follows its output, so the energy per reported product of each carrier is a property
of the process, spread from plant to plant by efficiency and by the meters' accuracy:

* an entry meter reading low (or a part of the carrier taken past the meter) lowers that
  carrier's energy per reported product and leaves the other carriers' where their peers are;
* a cause common to the plant (production overstated, the whole plant more efficient) lowers
  every carrier alike, so the drop counted is what exceeds the other carriers' deviation;
  an energy carrier is oriented by the plant's other energy carriers only (an efficient plant
  uses less fuel and electricity, not less water: tuning sim plain 29, a methanol plant with
  coal and electricity both 18 % below its peers and water at theirs).

A carrier whose entry total an independent measure of the same flow already confirmed is not
judged (electricity billed by the grid company, a carrier that is not stored with its
purchase invoices, a stored one with its reported opening and closing stocks): a plant that
really needs less of it is not a meter reading low. Tolerances are the peers' robust spread
and the meters' accuracy classes, never the suspect quantity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kilnwatch.verify.check import METER_FAULTS
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.detectors.peers import (
    OUTPUT,
    PRODUCTION_JUDGED,
    SPREAD_FLOOR,
    Norm,
    OutputSample,
    PeerBounds,
    carriers_read_wrong,
    intensity_norms,
    judged_sd,
    output_sample,
    peer_check,
)
from kilnwatch.verify.evidence import finding, rounded, tce_of
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.stock import storable

CARRIER_PEERS = "verify.meter.energy_vs_peers"
Deviation = tuple[float, float]  # log change against the peers' median, its sd [log units]


def confirmed_carriers(ctx: EnterpriseContext) -> set[str]:
    """The carriers whose month an independent measure of the same flow covers: electricity
    with the grid company's billed total, a carrier that is not stored with purchase invoices,
    a stored one with purchase invoices and reported opening and closing stocks (their own
    checks compare them with the entry meters)."""
    out = {"electricity"} if ctx.sources.grid is not None else set()
    for item in {i.item for i in ctx.sources.invoices if i.direction == "purchase"}:
        stocks = {f"stock_opening:{item}", f"stock_closing:{item}"} <= set(ctx.sources.stats)
        if not storable(item) or stocks:
            out.add(item)
    return out


def _is_energy(ctx: EnterpriseContext, carrier: str) -> bool:
    """True for a carrier with a GB/T 2589 coefficient (fuels, electricity, heat), whose use
    an efficient plant lowers; water and materials follow the output in other ways."""
    meters = ctx.by_level("entry", carrier)
    return bool(meters) and tce_of(carrier, 1.0, meters[0].info.uom) is not None


def _pooled(deviations: Sequence[Deviation]) -> Deviation:
    """Inverse-variance weighted mean of deviations and its sd."""
    weights = [1.0 / max(sd, SPREAD_FLOOR) ** 2 for _, sd in deviations]
    mean = sum(w * d for w, (d, _) in zip(weights, deviations, strict=True)) / sum(weights)
    return mean, float(1.0 / np.sqrt(sum(weights)))


def check_carrier_vs_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Entry meters of a single-unit plant whose carrier's energy per reported product is below
    its peers' by at least ``z_threshold`` standard deviations (the peers' robust spread and
    the meters' accuracy classes, of this carrier and of the plant's other carriers, combined)
    more than the plant's other carriers deviate from theirs. Peers: the single-unit plants of
    the run with the same process, product and carrier (at least ``min_peers``). A carrier
    whose meters a finding already names, or that an independent source confirmed
    (:func:`confirmed_carriers`), is not judged; nor is a plant whose production report a
    finding says is overstated (that lowers every carrier), nor one with a single carrier
    (it cannot be oriented: an overstated output lowers it the same).
    Limit: a plant really more efficient in one carrier by as much as the threshold would be
    taken for a meter reading low; where the peers differ that much, their spread says so."""
    if not contexts:
        return []
    bounds = PeerBounds.of(contexts, CARRIER_PEERS)
    samples = [
        s for ctx in contexts if (s := output_sample(ctx, bounds.default_accuracy_pct)) is not None
    ]
    norms = intensity_norms(samples, bounds.min_peers)
    named = carriers_read_wrong(contexts, existing)
    overstated = {
        (f.enterprise_id, f.period)
        for f in existing
        if f.rule_code in PRODUCTION_JUDGED | {OUTPUT} and f.severity != "info"
    }
    out = []
    for s in samples:
        if (s.ctx.info.id, s.ctx.window.period) in overstated:
            continue  # a report found overstated lowers every carrier: the cause is found
        deviations: dict[str, Deviation] = {}
        for carrier, log_i in s.intensity.items():
            norm = norms.get((s.process, s.item, s.unit, carrier))
            if norm is not None:
                median, spread, plants = norm
                sd = judged_sd(spread, plants, s.accuracy[carrier], bounds.z_threshold)
                deviations[carrier] = (log_i - median, sd)
        if len(deviations) < 2:
            continue
        skip = named.get((s.ctx.info.id, s.ctx.window.period), set()) | confirmed_carriers(s.ctx)
        energy = {c for c in deviations if _is_energy(s.ctx, c)}
        for carrier, (change, sd) in sorted(deviations.items()):
            kin = [
                d
                for c, d in deviations.items()
                if c != carrier and (c in energy) == (carrier in energy)
            ]
            if carrier in skip or not kin:
                continue  # confirmed, found, or nothing of its kind to orient it
            others, others_sd = _pooled(kin)
            z = (-change - abs(others)) / float(np.hypot(sd, others_sd))
            if z >= bounds.z_threshold:
                norm = norms[(s.process, s.item, s.unit, carrier)]
                out.append(_finding(s, carrier, (change, sd), (others, others_sd), z, norm))
    return out


def _finding(
    s: OutputSample, carrier: str, own: Deviation, others: Deviation, z: float, norm: Norm
) -> Finding:
    meters = s.ctx.by_level("entry", carrier)
    change = float(np.expm1(own[0]))
    metered = sum(m.total for m in meters)
    evidence = {
        "carrier": carrier,
        "meters": [m.info.code for m in meters],
        "item": s.item,
        "process": s.process,
        "reported": {"quantity": rounded(s.reported), "unit": s.unit},
        "energy_per_product_vs_peers": {
            "change_fraction": rounded(change),
            "sd_fraction": rounded(own[1]),
            "peer_median": rounded(float(np.exp(norm[0]))),
            "peers": norm[2],
            "other_carriers_change_fraction": rounded(float(np.expm1(others[0]))),
            "other_carriers_sd_fraction": rounded(others[1]),
        },
        "robust_z": rounded(z, 2),  # of the drop beyond the other carriers' deviation
    }
    unit = meters[0].info.uom if meters else ""
    codes = ", ".join(m.info.code for m in meters)
    return finding(
        s.ctx,
        CARRIER_PEERS,
        f"{codes}: {carrier} per reported {s.unit} of {s.item.partition(':')[2]} {change:+.1%} "
        f"against the plants of the same process, the plant's other carriers "
        f"{np.expm1(others[0]):+.1%}: the meter reads low or {carrier} is taken past it",
        evidence,
        fraction=change,
        meter=meters[0].info if len(meters) == 1 else None,
        tce=tce_of(carrier, -metered * change / (1.0 + change), unit),
    )


CARRIER_PEERS_CHECK = peer_check(
    CARRIER_PEERS,
    {CARRIER_PEERS: (*METER_FAULTS, "unmetered_coal")},
    check_carrier_vs_peers,
)
