"""Checks against peers: the month's parent / sub-meter ratio of each parent meter vs the
robust distribution of the same ratio over the other parent meters of the same carrier and
level in the run whose meters no check found wrong. A load behind the parent that lasts the
whole month shows no shift within the month, but it stands out against peers (median and MAD
of log ratios, the tolerance at least the meters' accuracy classes; a robust z, no fixed bound
on losses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import inf, pi, sqrt
from statistics import NormalDist

import numpy as np

from kilnwatch.analytics.readings import F64
from kilnwatch.domain.mv.stats import t_quantile
from kilnwatch.verify.check import Check, ProvinceRun
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.detectors.balance import CHILD_LOW, INTENSITY, PARENT_EXCEEDS
from kilnwatch.verify.detectors.fixed_load import JUDGED as FIXED_JUDGED
from kilnwatch.verify.detectors.fixed_load import FixedPart, fixed_part
from kilnwatch.verify.detectors.shift import MAD_TO_SD
from kilnwatch.verify.detectors.timeseries import DUPLICATES, LATE
from kilnwatch.verify.evidence import converted, finding, human, rounded
from kilnwatch.verify.findings import Finding

PEERS = "verify.submeter.level_vs_peers"
#: Findings on how a meter's readings arrived, not on what they read.
DELIVERY_ONLY = frozenset({DUPLICATES, LATE})
SPREAD_FLOOR = 1e-6  # [log units] numerical floor of the peers' spread (identical ratios)


@dataclass(frozen=True)
class PeerBounds:
    """The common parameters of a check against peers: ``z_threshold``, the fewest peers
    (``min_peers``) and the accuracy class assumed for a meter without one."""

    z_threshold: float
    min_peers: int
    default_accuracy_pct: float

    @classmethod
    def of(cls, contexts: Sequence[EnterpriseContext], code: str) -> PeerBounds:
        settings = contexts[0].settings
        return cls(
            settings.value(code, "z_threshold"),
            settings.count(code, "min_peers"),
            settings.value(code, "default_accuracy_pct"),
        )


def peer_check(code: str, emits: Mapping[str, tuple[str, ...]], run: ProvinceRun) -> Check:
    """An integrity check over every enterprise of a run that reads :class:`PeerBounds` (the
    shared accuracy class among them)."""
    return Check(code, "integrity", emits, run_province=run, shared=("default_accuracy_pct",))


def robust_norm(values: Sequence[float] | F64) -> tuple[float, float]:
    """Median and robust spread (MAD x 1.4826) of log values, the spread floored at
    :data:`SPREAD_FLOOR`."""
    logs = np.array(values)
    median = float(np.median(logs))
    return median, max(MAD_TO_SD * float(np.median(np.abs(logs - median))), SPREAD_FLOOR)


@dataclass(frozen=True)
class RatioSample:
    ctx: EnterpriseContext
    meter_id: int
    group: tuple[str, str]
    log_ratio: float
    accuracy: float = 0.0  # standard uncertainty of the log ratio from the meters' classes


def ratio_samples(ctx: EnterpriseContext, default_accuracy_pct: float = 0.0) -> list[RatioSample]:
    """Monthly parent / sum-of-children ratio of every parent meter, at its low bound where
    readings are missing (the cautious side for a ratio too high): the parent's total as read,
    the sub-meters' with what their missed readings may have held
    (:meth:`~kilnwatch.verify.context.MeterData.possibly_missing`). ``accuracy``: the ratio's
    standard uncertainty from the meters' accuracy classes (:func:`ratio_accuracy`; a meter
    without a class at ``default_accuracy_pct``)."""
    out = []
    for parent in ctx.meters.values():
        children = ctx.summable_children(parent)
        if not children:
            continue
        totals = [c.total + c.possibly_missing() for c in children]
        kids = sum(totals)
        if parent.total > 0 and 0 < kids < float("inf"):
            group = (parent.info.carrier, parent.info.level)
            pcts = [m.info.accuracy_pct or default_accuracy_pct for m in (parent, *children)]
            accuracy = ratio_accuracy(pcts[0], pcts[1:], totals)
            log_ratio = float(np.log(parent.total / kids))
            out.append(RatioSample(ctx, parent.info.id, group, log_ratio, accuracy))
    return out


def ratio_accuracy(
    parent_pct: float, child_pcts: Sequence[float], totals: Sequence[float]
) -> float:
    """Standard uncertainty [log units] of a parent / sum-of-sub-meters ratio from the meters'
    maximum permissible errors: each a rectangular distribution of half-width its class,
    standard uncertainty class / sqrt(3) (JCGM 100:2008 (GUM) 4.3.7); the sub-meters' errors
    weighted by their shares of the sum, independent (GUM 5.1.2)."""
    weights = np.asarray(totals, dtype=np.float64) / float(np.sum(totals))
    kids = float(np.hypot.reduce(np.asarray(child_pcts) * weights)) if len(weights) else 0.0
    return float(np.hypot(parent_pct, kids)) / 100.0 / float(np.sqrt(3.0))


@dataclass(frozen=True)
class RatioJudgement:
    """A parent's ratio against its peers: the peers' median and robust spread [log units],
    how many peers, the tolerance used (the spread, at least the ratio's own accuracy) and
    the robust z."""

    sample: RatioSample
    median: float
    spread: float
    peers: int
    sd: float
    z: float
    normal: bool = True  # no meter of the pair found wrong: one of the norm


def judge_ratios(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[RatioJudgement]:
    """Every parent's month ratio against the normal of its peers: the parents of the same
    carrier and level in the run (at least ``min_meters``) whose pair no finding in
    ``existing`` calls wrong (no non-info finding on the parent or a sub-meter: a pair with a
    meter found reading wrong is not what normal looks like), the judged parent left out of
    its own norm (the norm never holds the suspect quantity). Tolerance: the peers' robust
    spread (median and MAD x 1.4826 of the log ratios: their losses and meter errors), at
    least the ratio's own standard uncertainty from its meters' accuracy classes (a spread
    finer than the meters themselves is luck of the draw)."""
    if not contexts:
        return []
    settings = contexts[0].settings
    least = settings.count(PEERS, "min_meters")
    default_pct = settings.value(PEERS, "default_accuracy_pct")
    samples = [s for ctx in contexts for s in ratio_samples(ctx, default_pct)]
    wrong = {(f.enterprise_id, f.meter_id) for f in existing if f.severity != "info" and f.meter_id}

    def normal(s: RatioSample) -> bool:
        ids = [s.meter_id, *(c.info.id for c in s.ctx.children(s.meter_id))]
        return not any((s.ctx.info.id, i) in wrong for i in ids)

    by_group: dict[tuple[str, str], list[float]] = {}
    position: dict[int, int] = {}  # id of a normal sample: its place in its group
    for s in samples:
        if normal(s):
            members = by_group.setdefault(s.group, [])
            position[id(s)] = len(members)
            members.append(s.log_ratio)
    logs = {g: np.array(values) for g, values in by_group.items()}
    out = []
    for s in samples:
        own = position.get(id(s))
        group_logs = logs.get(s.group, np.empty(0))
        peers = group_logs if own is None else np.delete(group_logs, own)
        if peers.size < least:
            continue
        median, spread = robust_norm(peers)
        sd = max(spread, s.accuracy, SPREAD_FLOOR)
        z = (s.log_ratio - median) / sd
        out.append(RatioJudgement(s, median, spread, int(peers.size), sd, z, own is not None))
    return out


@dataclass(frozen=True)
class FixedJudgement:
    """A parent's fixed part (:class:`~kilnwatch.verify.detectors.fixed_load.FixedPart`)
    against its peers': their median and robust spread [fraction of the sub-meters' mean
    load], how many, the tolerance (the spread, at least the fixed part's own standard
    uncertainty) and the robust z."""

    fixed: FixedPart
    median: float
    spread: float
    peers: int
    sd: float
    z: float


def judge_fixed_parts(
    judged: Sequence[RatioJudgement], least_hours: int, least: int
) -> dict[int, FixedJudgement]:
    """By the id of a judged ratio's sample, its parent's fixed part
    (:func:`~kilnwatch.verify.detectors.fixed_load.fixed_part`, over at least
    ``least_hours`` complete hours) against the fixed parts of the same peers as the ratio's
    (the normal pairs of its carrier and level, at least ``least``, the judged one left out),
    for the carriers and levels of :data:`~kilnwatch.verify.detectors.fixed_load.JUDGED`.
    Tolerance: the peers' robust spread, at least the fixed part's own standard uncertainty
    (a plant whose load hardly varies pins its intercept down poorly)."""
    parts: dict[int, FixedPart] = {}
    for j in judged:
        if j.sample.group not in FIXED_JUDGED:
            continue
        ctx, parent = j.sample.ctx, j.sample.ctx.meters[j.sample.meter_id]
        part = fixed_part(ctx, parent, ctx.summable_children(parent), least_hours)
        if part is not None:
            parts[id(j.sample)] = part
    by_group: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for j in judged:
        if j.normal and id(j.sample) in parts:
            key = id(j.sample)
            by_group.setdefault(j.sample.group, []).append((key, parts[key].fraction))
    out = {}
    for j in judged:
        key = id(j.sample)
        if key not in parts:
            continue
        peers = [f for k, f in by_group.get(j.sample.group, []) if k != key]
        if len(peers) < least:
            continue
        median, spread = robust_norm(peers)
        part = parts[key]
        sd = max(spread, part.sd, SPREAD_FLOOR)
        out[key] = FixedJudgement(
            part, median, spread, len(peers), sd, (part.fraction - median) / sd
        )
    return out


def check_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Parents whose ratio is a high outlier among their peers over every enterprise of the
    run (:func:`judge_ratios`; robust z at least ``z_threshold``), not already found by the
    enterprise's own checks in ``existing`` and not explained by a sub-meter found reading
    wrong there (any finding on it but info and but on how its readings arrived, or found
    reading low, even as info). A load
    behind the parent that lasts the whole month shows no shift within the month; against the
    peers it is an excess beyond their normal losses."""
    if not contexts:
        return []
    settings = contexts[0].settings
    z_threshold = settings.value(PEERS, "z_threshold")
    corroboration = settings.value(PEERS, "fixed_ratio_z")
    known = {(f.meter_id, f.period) for f in existing if f.rule_code.startswith("verify.submeter.")}
    # a sub-meter found reading wrong (low, capped, smoothed, flat...) explains its parent's rise;
    # how its readings were delivered (again, late) does not change what they read
    wrong = {
        (f.meter_id, f.period)
        for f in existing
        if f.severity != "info" and f.rule_code not in DELIVERY_ONLY
    }
    low = {(f.meter_id, f.period) for f in existing if f.rule_code in (INTENSITY, CHILD_LOW)}
    judged = judge_ratios(contexts, existing)
    fixed = judge_fixed_parts(
        judged, settings.count(PEERS, "fixed_min_hours"), settings.count(PEERS, "min_meters")
    )  # fmt: skip
    out = []
    for j in judged:
        s = j.sample
        period = s.ctx.window.period
        children = {(c.info.id, period) for c in s.ctx.children(s.meter_id)}
        if (s.meter_id, period) in known or children & (low | wrong):
            continue  # explained by a sub-meter found reading wrong
        if j.z >= z_threshold:
            out.append(_outlier(j))
            continue
        f = fixed.get(id(s))
        if f is not None and f.z >= z_threshold and j.z >= corroboration:
            out.append(_outlier(j, f))  # the excess above the peers' is a fixed load
    return out


def _outlier(j: RatioJudgement, f: FixedJudgement | None = None) -> Finding:
    """The finding of a parent whose ratio stands out among its peers' or, given ``f``, whose
    fixed part does (basis ``fixed_load``)."""
    s = j.sample
    m = s.ctx.meters[s.meter_id]
    evidence: dict[str, object] = {
        "parent": m.info.code,
        "ratio": rounded(float(np.exp(s.log_ratio))),
        "peer_median_ratio": rounded(float(np.exp(j.median))),
    }
    if f is None:
        excess = float(np.exp(s.log_ratio - j.median) - 1)
        evidence |= {"peer_spread_fraction": rounded(j.spread),
                     "accuracy_fraction": rounded(s.accuracy), "peers": j.peers,
                     "robust_z": rounded(j.z, 2)}  # fmt: skip
        message = f"{m.info.code} exceeds its sub-meters by {excess:+.1%} more than its peers do"
    else:
        excess = f.fixed.fraction - f.median
        per_hour = f.fixed.fraction * f.fixed.mean_load
        evidence |= {"basis": "fixed_load", "ratio_robust_z": rounded(j.z, 2),
                     "fixed_fraction": rounded(f.fixed.fraction),
                     "fixed_sd_fraction": rounded(f.fixed.sd),
                     "fixed_load_per_hour": rounded(per_hour),
                     "peer_median_fixed_fraction": rounded(f.median),
                     "peer_spread_fraction": rounded(f.spread),
                     "slope": rounded(f.fixed.slope, 4), "hours": f.fixed.hours,
                     "peers": f.peers, "robust_z": rounded(f.z, 2)}  # fmt: skip
        message = (
            f"{m.info.code} exceeds its sub-meters hour by hour by a fixed {human(per_hour)} "
            f"{m.info.uom}/h ({excess:+.1%} of their mean load more than its peers): a load "
            "behind it that no sub-meter measures"
        )
    evidence["children"] = [c.info.code for c in s.ctx.children(s.meter_id)]
    return finding(s.ctx, PARENT_EXCEEDS, message, evidence, fraction=excess, meter=m.info)


PEERS_CHECK = Check(
    PEERS, "integrity", {PARENT_EXCEEDS: ("submeter_mismatch",)}, run_province=check_peers,
    shared=("default_accuracy_pct",),
)  # fmt: skip


OUTPUT = "verify.production.energy_vs_peers"
Norm = tuple[float, float, int]  # median, robust spread [log units], plants
#: Findings that already judge a production report, or say a meter of a carrier reads wrong.
PRODUCTION_JUDGED = frozenset(
    {
        "verify.production.reported_vs_shipped",
        "verify.metered_vs_reported.production_overreported",
    }
)


@dataclass(frozen=True)
class OutputSample:
    """One single-unit enterprise's reported production, what left the plant, and its metered
    energy per reported unit of product, per carrier."""

    ctx: EnterpriseContext
    item: str
    reported: float  # [report unit]
    unit: str
    shipped_t: float
    reported_t: float
    intensity: dict[str, float]  # log(carrier quantity / reported) by carrier
    accuracy: dict[str, float]  # combined maximum permissible error of its meters [fraction]
    process: str
    judged: bool  # no product meter, and the product is shipped out


def output_sample(ctx: EnterpriseContext, default_accuracy_pct: float) -> OutputSample | None:
    """The sample of an enterprise whose one unit reports one product, with the metered
    energy per reported product of its entry meters, per carrier; None otherwise. Every such
    plant is a peer; only those without a product meter that ship the product out are judged
    (with a product meter the report is judged against it): ``judged``."""
    if len(ctx.info.units) != 1:
        return None
    unit = ctx.info.units[0]
    item = f"production:{unit.product}"
    report = ctx.sources.stats.get(item)
    reported_t = None if report is None else converted(report.quantity, report.unit, "t")
    if report is None or report.quantity <= 0 or reported_t is None:
        return None
    product = f"product:{unit.product}"
    shipped = [w for w in ctx.sources.waybills if w.direction == "out" and w.item == product]
    intensity, accuracy = {}, {}
    for m in ctx.by_level("entry"):
        if m.info.is_product or m.info.measurement == "instant":
            continue
        same = ctx.by_level("entry", m.info.carrier)
        if m.info.carrier in intensity or any(o.info.uom != m.info.uom for o in same):
            continue
        # readings an interval meter missed may have held energy: counted (the cautious side)
        energy = sum(o.total + o.possibly_missing() for o in same)
        if not np.isfinite(energy) or energy <= 0:
            continue
        intensity[m.info.carrier] = float(np.log(energy / report.quantity))
        pcts = [o.info.accuracy_pct or default_accuracy_pct for o in same]
        accuracy[m.info.carrier] = float(np.sqrt(sum(p**2 for p in pcts))) / 100.0
    if not intensity:
        return None
    return OutputSample(
        ctx, item, report.quantity, report.unit, sum(w.quantity_t for w in shipped),
        reported_t, intensity, accuracy, unit.process,
        judged=bool(shipped) and not ctx.product_meters(unit.id),
    )  # fmt: skip


def check_output_vs_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Production overstated at plants without a product meter: two independent witnesses of
    the real output must both fall short of the report.

    * What left the plant: the product shipped out in the month (logistics) is below the
      report by more than ``min_gap_fraction``.
    * The energy the process used: an overstated output lowers the plant's metered energy per
      reported product on **every** carrier by the same fraction (a sudden "efficiency gain").
      Against the plants of the same process and product in the run (median and robust
      spread of the log intensity per carrier, combined with the meters' accuracy), the
      carriers' drops are pooled (inverse-variance weighted) into one estimate whose robust
      z must reach ``z_threshold``, and each carrier must show at least half of it (a meter
      reading low lowers one carrier only; a real efficiency difference seldom lowers all).

    The peers are every single-unit plant of the run reporting the same product of the same
    process (with or without a product meter). Carriers with a meter already found reading
    wrong are left out; a report already judged by its product meters or its shipment
    balance is not judged again.
    """
    if not contexts:
        return []
    bounds = PeerBounds.of(contexts, OUTPUT)
    z_threshold, least = bounds.z_threshold, bounds.min_peers
    min_gap = contexts[0].settings.value(OUTPUT, "min_gap_fraction")
    samples = [
        s for ctx in contexts if (s := output_sample(ctx, bounds.default_accuracy_pct)) is not None
    ]
    judged = {
        (f.enterprise_id, f.period)
        for f in existing
        if f.rule_code in PRODUCTION_JUDGED and f.severity != "info"
    }
    suspect_carriers = carriers_read_wrong(contexts, existing)
    norms = intensity_norms(samples, least)
    out = []
    for s in samples:
        key = (s.ctx.info.id, s.ctx.window.period)
        shipped_gap = float(np.log(s.reported_t / s.shipped_t)) if s.shipped_t > 0 else 0.0
        if not s.judged or key in judged or shipped_gap < np.log1p(min_gap):
            continue
        drops = {}
        for carrier, log_i in s.intensity.items():
            norm = norms.get((s.process, s.item, s.unit, carrier))
            if norm is None or carrier in suspect_carriers.get(key, set()):
                continue
            median, spread, plants = norm
            sd = judged_sd(spread, plants, s.accuracy[carrier], z_threshold)
            drops[carrier] = (log_i - median, sd)
        if not drops:
            continue
        weights = {c: 1.0 / max(sd, SPREAD_FLOOR) ** 2 for c, (_, sd) in drops.items()}
        pooled = -sum(weights[c] * d for c, (d, _) in drops.items()) / sum(weights.values())
        z = pooled * float(np.sqrt(sum(weights.values())))
        if z < z_threshold or any(d > -pooled / 2 for d, _ in drops.values()):
            continue
        out.append(_output_finding(s, drops, pooled, z, shipped_gap, norms))
    return out


def carriers_read_wrong(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> dict[tuple[int, str], set[str]]:
    """Per (enterprise, period), the carriers of the meters a finding names (not info)."""
    meters = {m.info.id: m.info.carrier for ctx in contexts for m in ctx.meters.values()}
    out: dict[tuple[int, str], set[str]] = {}
    for f in existing:
        if f.meter_id is not None and f.severity != "info" and f.meter_id in meters:
            out.setdefault((f.enterprise_id, f.period), set()).add(meters[f.meter_id])
    return out


def few_peers_factor(z_threshold: float, peers: int) -> float:
    """How much wider than its robust spread a norm of ``peers`` plants is taken, so that a
    plant judged against it at ``z_threshold`` keeps the tail probability the threshold has
    against a known normal distribution.

    The spread is estimated from the peers themselves (Student's t with ``peers − 1`` degrees
    of freedom for the threshold) and their median is uncertain too (its variance about
    π/2 σ²/n): the prediction interval of a new observation. Five peers whose spread happens
    to be narrow widen it 2.5-fold; twenty, 1.2-fold (at a threshold of 3).

    Parameters
    ----------
    z_threshold : float
        The rule's threshold against a known normal distribution [-].
    peers : int
        Plants in the norm [-].

    Returns
    -------
    float
        Factor on the spread, at least 1 (``inf`` under two peers) [-].

    References
    ----------
    .. [1] JCGM 100:2008 (GUM), G.3 (Student's t for a standard deviation estimated from
       few observations) and G.4.
    .. [2] ISO 16269-6:2014, prediction intervals for a further observation.
    """
    if peers < 2:
        return inf
    tail = NormalDist().cdf(z_threshold)
    widened = t_quantile(tail, peers - 1) / z_threshold * sqrt(1.0 + pi / (2.0 * peers))
    return max(widened, 1.0)


def judged_sd(spread: float, peers: int, accuracy: float, z_threshold: float) -> float:
    """The standard deviation against which a plant's deviation from a norm of ``peers``
    plants is judged at ``z_threshold``: the peers' robust spread with the median's own error
    (a Type A evaluation from ``peers`` − 1 degrees of freedom) combined with the plant's
    meters' accuracy (a Type B evaluation, taken as exactly known), widened by Student's t at
    the combination's effective degrees of freedom (Welch-Satterthwaite) for the tail
    probability the threshold has against a known normal distribution.

    Only the part estimated from few plants is uncertain: where the meters' accuracy is
    comparable to the peers' spread the combination has many more degrees of freedom than the
    peers alone, and widening the whole by the few plants' factor (:func:`few_peers_factor`)
    before combining it with the accuracy over-widens it. Without an accuracy term this is
    the spread times :func:`few_peers_factor`.

    Parameters
    ----------
    spread : float
        The peers' robust spread, MAD x 1.4826 of their log values [log units].
    peers : int
        Plants in the norm, at least 2 [-].
    accuracy : float
        The plant's meters' combined maximum permissible error [fraction, ~log units].
    z_threshold : float
        The rule's threshold against a known normal distribution [-].

    Returns
    -------
    float
        The widened combined standard deviation [log units].

    Notes
    -----
    u_A = spread · sqrt(1 + π / (2 n)), u_c = sqrt(u_A² + accuracy²),
    ν_eff = (n − 1) · (u_c / u_A)⁴ (GUM G.4.1 with ν_B = ∞), sd = u_c · max(1, t(Φ(z); ν_eff) / z).

    References
    ----------
    .. [1] JCGM 100:2008 (GUM), G.3 (Student's t for a standard deviation estimated from few
       observations) and G.4.1 (Welch-Satterthwaite effective degrees of freedom, eq. G.2b).
    .. [2] ISO 16269-6:2014, prediction intervals for a further observation.
    """
    type_a = spread * sqrt(1.0 + pi / (2.0 * peers))
    combined = float(np.hypot(type_a, accuracy))
    if type_a <= 0 or peers < 2:
        return combined if peers >= 2 else inf
    dof = (peers - 1) * (combined / type_a) ** 4
    tail = NormalDist().cdf(z_threshold)
    return combined * max(t_quantile(tail, dof) / z_threshold, 1.0)


def intensity_norms(
    samples: Sequence[OutputSample], least: int
) -> dict[tuple[str, str, str, str], Norm]:
    """Median, robust spread (MAD x 1.4826) and count of the log intensity per (process,
    product, report unit, carrier), over at least ``least`` plants. A plant is judged against
    it with :func:`judged_sd` (the spread widened for the few plants it is estimated from, at
    the rule's ``z_threshold``, where it is combined with the meters' accuracy): a clean plant
    against five peers that happen to lie close together is not an outlier (tuning sim plain
    29, a methanol plant's coal per product −17.7 % in a norm of five plants whose spread was
    1.3 %)."""
    groups: dict[tuple[str, str, str, str], list[float]] = {}
    for s in samples:
        for carrier, log_i in s.intensity.items():
            groups.setdefault((s.process, s.item, s.unit, carrier), []).append(log_i)
    out = {}
    for key, values in groups.items():
        if len(values) < least:
            continue
        logs = np.array(values)
        median = float(np.median(logs))
        spread = MAD_TO_SD * float(np.median(np.abs(logs - median)))
        out[key] = (median, spread, len(values))
    return out


def _output_finding(
    s: OutputSample, drops: dict[str, tuple[float, float]], pooled: float, z: float,
    shipped_gap: float, norms: dict[tuple[str, str, str, str], Norm],
) -> Finding:  # fmt: skip
    excess = float(np.expm1(min(pooled, shipped_gap)))
    evidence = {
        "item": s.item,
        "reported": {"quantity": rounded(s.reported), "unit": s.unit},
        "shipped_t": rounded(s.shipped_t),
        "shipped_gap_fraction": rounded(float(np.expm1(shipped_gap))),
        "process": s.process,
        "energy_per_product_vs_peers": {
            c: {
                "change_fraction": rounded(float(np.expm1(d))),
                "sd_fraction": rounded(sd),
                "peer_median": rounded(float(np.exp(norms[(s.process, s.item, s.unit, c)][0]))),
                "peers": norms[(s.process, s.item, s.unit, c)][2],
            }
            for c, (d, sd) in sorted(drops.items())
        },
        "pooled_change_fraction": rounded(float(np.expm1(-pooled))),
        "robust_z": rounded(z, 2),
    }
    carriers = ", ".join(f"{c} {np.expm1(d):+.1%}" for c, (d, _) in sorted(drops.items()))
    return finding(
        s.ctx,
        OUTPUT,
        f"{s.item}: reported {human(s.reported)} {s.unit}, shipped {human(s.shipped_t)} t "
        f"({-np.expm1(-shipped_gap):+.1%} short), energy per reported {s.unit} against peers "
        f"{carriers}: output overstated by about {excess:.1%}",
        evidence,
        fraction=excess,
    )


OUTPUT_CHECK = Check(
    OUTPUT,
    "integrity",
    {OUTPUT: ("production_overreport",)},
    run_province=check_output_vs_peers,
    shared=("min_gap_fraction", "default_accuracy_pct"),
)
