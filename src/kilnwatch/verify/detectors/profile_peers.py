"""A meter smoothed from the start of the month, against the process's other meters and the
plants of the same process (issue 12).

A meter without sub-meters is judged smoothed against its own other days
(:mod:`~kilnwatch.verify.detectors.profile`); smoothed from the month's first days it has no
other days. Its process's other meters remain: every meter of a process follows its output,
so the hour-to-hour variability of one carrier relative to another is a property of the
process (how steady its feed is against its electrical load), the same from plant to plant
of one process. A meter whose variability relative to its process's other meters is far
below that of the same carriers at the plants of the same process does not follow the load.

* The plant's own steadiness cancels: a process that runs steadier lowers every meter's
  variability alike.
* The carriers' own dynamics cancel: the peers have the same carriers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.detectors.balance import CAPPED, references
from kilnwatch.verify.detectors.peers import (
    PeerBounds,
    few_peers_factor,
    peer_check,
    robust_norm,
)
from kilnwatch.verify.detectors.profile import HOUR_S, SMOOTHED, at_load, roughness
from kilnwatch.verify.detectors.timeseries import STUCK
from kilnwatch.verify.evidence import finding, rounded, tce_of
from kilnwatch.verify.findings import Finding

SMOOTHED_PEERS = "verify.meter.smoothed_vs_peers"
#: Findings of a meter whose hour-to-hour variability is not its process's: smoothed, clipped
#: or repeating a value. A meter found reading a share low (scaled) or reported wrong keeps
#: its relative variability (a log difference does not see a factor) and stays a peer.
SHAPE_CHANGED = frozenset({SMOOTHED, CAPPED, STUCK})


@dataclass(frozen=True)
class RoughnessSample:
    """A meter's daily log variability relative to its references' (NaN: not comparable),
    and its median over the comparable days."""

    ctx: EnterpriseContext
    meter: MeterData
    group: tuple[str, str, tuple[str, ...]]  # process, carrier, references' carriers
    daily: np.ndarray
    median: float


def roughness_samples(ctx: EnterpriseContext) -> list[RoughnessSample]:
    """The energy meters (read at least hourly, no sub-meters) of a single-unit plant with
    references (:func:`~kilnwatch.verify.detectors.balance.references`) and their relative
    variability on the days every one of them ran at load."""
    if len(ctx.info.units) != 1:
        return []
    process = ctx.info.units[0].process
    out = []
    for m in ctx.meters.values():
        if m.info.measurement == "instant" or not 0 < m.step_s <= HOUR_S:
            continue
        if tce_of(m.info.carrier, 1.0, m.info.uom) is None or ctx.children(m.info.id):
            continue
        refs = references(ctx, m)
        if not refs or any(not 0 < r.step_s <= HOUR_S for r in refs):
            continue
        own = np.where(at_load(ctx, m), roughness(ctx, m), np.nan)
        logs = [np.where(at_load(ctx, r), roughness(ctx, r), np.nan) for r in refs]
        with np.errstate(divide="ignore", invalid="ignore"):
            daily = np.log(own) - np.mean(np.log(logs), axis=0)
        daily = np.where(np.isfinite(daily), daily, np.nan)
        if not np.isfinite(daily).any():
            continue
        group = (process, m.info.carrier, tuple(sorted(r.info.carrier for r in refs)))
        out.append(RoughnessSample(ctx, m, group, daily, float(np.nanmedian(daily))))
    return out


def check_smoothed_vs_peers(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """Meters whose variability relative to their process's other meters is below
    ``max_roughness_ratio`` times the peers' median on at least ``min_days`` days, and whose
    month median is below the peers' by ``z_threshold`` spreads too, or below every peer's
    by ``max_roughness_ratio`` itself.

    Peers: the same carrier against the same references at the other single-unit plants of
    the process whose meter no check found smoothed, clipped or stuck
    (:data:`SHAPE_CHANGED`), at least ``min_peers``; the spread is their robust one widened
    for their number (:func:`~kilnwatch.verify.detectors.peers.few_peers_factor`). Three or
    four plants bound no spread, but a meter four times smoother than the smoothest of them
    does not follow its process (tuning alt heavy_noise 103 A028-GAS and 701 A053-GAS,
    smoothed from the month's start, 4.6 and 6.6 times smoother than the smoothest of their
    peers, z 2.4 against t with two degrees of freedom; clean meters of eleven tuning runs
    came no closer than 1.2 times below theirs). A meter found scaled keeps its relative
    variability and stays a peer (alt heavy_noise 701: A006-GAS, 14 % low, left A053-GAS two
    peers). Meters already found smoothed are not judged again, nor taken as peers (tuning
    alt heavy_noise 301: A039-GAS, smoothed all month, had A037-GAS, found smoothed from the
    4th, among its four peers)."""
    if not contexts:
        return []
    bounds = PeerBounds.of(contexts, SMOOTHED_PEERS)
    settings = contexts[0].settings
    ratio_max = settings.value(SMOOTHED_PEERS, "max_roughness_ratio")
    min_days = settings.count(SMOOTHED_PEERS, "min_days")
    found = {(f.meter_id, f.period) for f in existing if f.rule_code == SMOOTHED}
    wrong = {
        (f.meter_id, f.period)
        for f in existing
        if f.severity != "info" and f.meter_id and f.rule_code in SHAPE_CHANGED
    }
    samples = [s for ctx in contexts for s in roughness_samples(ctx)]
    normal = [s for s in samples if (s.meter.info.id, s.ctx.window.period) not in wrong]
    out = []
    for s in samples:
        if (s.meter.info.id, s.ctx.window.period) in found:
            continue
        peers = [p.median for p in normal if p.group == s.group and p is not s]
        if len(peers) < bounds.min_peers:
            continue
        median, spread = robust_norm(peers)
        z = (median - s.median) / (spread * few_peers_factor(bounds.z_threshold, len(peers)))
        smooth = np.isfinite(s.daily) & (s.daily < median + np.log(ratio_max))
        below_every = s.median <= min(peers) + np.log(ratio_max)
        if (z < bounds.z_threshold and not below_every) or int(smooth.sum()) < min_days:
            continue
        out.append(_finding(s, smooth, median, len(peers), z))
    return out


def _finding(
    s: RoughnessSample, smooth: np.ndarray, median: float, peers: int, z: float
) -> Finding:
    ctx, m = s.ctx, s.meter
    days = np.flatnonzero(smooth)
    start, end = ctx.window.day_start(int(days[0])), ctx.window.day_start(int(days[-1]) + 1)
    ratio = float(np.exp(s.median - median))
    evidence = {
        "meter": m.info.code,
        "basis": "process_meters_vs_peers",
        "references": [r.info.code for r in references(ctx, m)],
        "roughness_vs_references_vs_peers": rounded(ratio),
        "peers": peers,
        "robust_z": rounded(z, 2),
        "smoothed_days": int(days.size),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "daily_relative_roughness": [
            None if not np.isfinite(v) else rounded(float(np.exp(v))) for v in s.daily
        ],
    }
    return finding(
        ctx,
        SMOOTHED,
        f"{m.info.code}: hour-to-hour variation against its process's other meters is "
        f"{ratio:.0%} of that at {peers} plants of the same process, on {days.size} day(s) "
        f"from {start:%Y-%m-%d} to {end:%Y-%m-%d} (the series does not follow the load: a "
        "moving average or a clipped meter)",
        evidence,
        meter=m.info,
        severity="medium",
        start_at=start,
        end_at=end,
    )


SMOOTHED_PEERS_CHECK = replace(
    peer_check(
        SMOOTHED_PEERS, {SMOOTHED: ("meter_smoothed", "meter_capped")}, check_smoothed_vs_peers
    ),
    summarise=roughness_samples,  # the days' roughness, from the readings (cached)
)
