"""Suspicious HJ 212 data-flag patterns.

HJ 212 marks each value with a flag (``N`` normal; ``F`` stopped, ``M`` maintenance, ``S``
manual, ``D`` fault, ``C`` calibration, ``T`` over range, ``B`` communication). Flagged values
are excluded from compliance statistics, so flags set on at-load intervals whose
concentrations are higher than the unflagged ones hide exceedances.

Honest flags (maintenance, faults) fall on their hours whatever the concentration, so their
values are distributed as the normal ones. (An assumption the generators share: a data logger
that records the reference gas under ``C`` or the range limit under ``T`` breaks it for those
flags; docs/verification.md.) Two signs that flags are not honest:

* the median flagged value lies well above the median normal one (``min_elevation_fraction``);
* or, where honest flags dilute that median, too many flagged **episodes** (runs of
  consecutive flagged readings: one maintenance job is one episode however long) sit above the
  normal values' ``upper_quantile``: by chance a share ``1 - upper_quantile`` of them would,
  and the count is judged against that share (binomial z, ``episode_z_threshold``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from kilnwatch.analytics.quantities import true_runs
from kilnwatch.analytics.readings import F64
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.evidence import finding, rounded, utc_at
from kilnwatch.verify.findings import Finding

FLAGS = "verify.hj212.flag_pattern"
NORMAL = frozenset({"", "N"})
#: Pollutant concentrations (docs/formats.md carriers). O2 and flue-gas flow are reference
#: quantities that rise or fall by themselves when the load changes, so they are not judged.
POLLUTANTS = frozenset({"so2", "nox", "dust"})
#: Flags of a unit that is not running: no concentration is expected then.
STOPPED = frozenset({"F"})


@dataclass(frozen=True)
class FlagTests:
    """The check's parameters (``verify_rules.csv``, ``verify.hj212.flag_pattern``)."""

    min_flagged: int
    min_elevation: float
    upper_quantile: float
    episode_z: float
    min_high_episodes: int

    @classmethod
    def of(cls, ctx: EnterpriseContext) -> FlagTests:
        return cls(
            ctx.settings.count(FLAGS, "min_flagged"),
            ctx.settings.value(FLAGS, "min_elevation_fraction"),
            ctx.settings.value(FLAGS, "upper_quantile"),
            ctx.settings.value(FLAGS, "episode_z_threshold"),
            ctx.settings.count(FLAGS, "min_high_episodes"),
        )


def high_episodes(value: F64, flagged: np.ndarray, upper: float) -> tuple[int, int, F64]:
    """The flagged episodes (runs of consecutive flagged readings) and how many of them have
    a median above ``upper``.

    Returns
    -------
    tuple
        (episodes, episodes above ``upper``, medians of those above [value unit]).
    """
    starts, ends = true_runs(flagged)
    medians = np.array([np.median(value[a:b]) for a, b in zip(starts, ends, strict=True)])
    above = medians[medians > upper]
    return int(starts.size), int(above.size), above


def binomial_z(k: int, n: int, p: float) -> float:
    """How far ``k`` successes of ``n`` lie above the ``n p`` expected by chance, in
    standard deviations of the binomial count (normal approximation)."""
    return (k - n * p) / float(np.sqrt(n * p * (1 - p))) if n else 0.0


def _suspicious(ctx: EnterpriseContext, m: MeterData, tests: FlagTests) -> dict[str, Any] | None:
    """Evidence when the analyser's flagged values sit above its normal ones, else None:
    at least ``min_flagged`` flagged and normal values, and the flagged median above the
    normal median by ``min_elevation`` [fraction] or more, or too many flagged episodes above
    the normal values' ``upper_quantile`` (:func:`high_episodes`, :func:`binomial_z`)."""
    series = m.series
    in_period = (series.ts_s > ctx.window.start_s) & (series.ts_s <= ctx.window.end_s)
    positive = in_period & (series.value > 0)
    normal = np.isin(series.flag, list(NORMAL)) & positive
    flagged = ~np.isin(series.flag, list(NORMAL | STOPPED)) & positive
    if flagged.sum() < tests.min_flagged or normal.sum() < tests.min_flagged:
        return None
    med_flagged = float(np.median(series.value[flagged]))
    med_normal = float(np.median(series.value[normal]))
    if med_normal <= 0:
        return None
    upper = float(np.quantile(series.value[normal], tests.upper_quantile))
    episodes, high, above = high_episodes(series.value, flagged, upper)
    z = binomial_z(high, episodes, 1 - tests.upper_quantile)
    by_median = med_flagged >= med_normal * (1 + tests.min_elevation)
    by_episodes = high >= tests.min_high_episodes and z >= tests.episode_z
    if not (by_median or by_episodes):
        return None
    flags, counts = np.unique(series.flag[flagged], return_counts=True)
    return {
        "meter": m.info.code,
        "hj212_code": m.info.hj212_code,
        "flagged": int(flagged.sum()),
        "flags": {str(f): int(n) for f, n in zip(flags, counts, strict=True)},
        "median_flagged": rounded(med_flagged, 3),
        "median_normal": rounded(med_normal, 3),
        "elevation_fraction": rounded(med_flagged / med_normal - 1),
        "normal_upper_quantile": rounded(upper, 3),
        "episodes": episodes,
        "episodes_above_upper_quantile": high,
        "episode_z": rounded(z, 2),
        "high_episode_elevation_fraction": (
            rounded(float(np.median(above)) / med_normal - 1) if above.size else None
        ),
        "first_at": int(series.ts_s[flagged].min()),
        "last_at": int(series.ts_s[flagged].max()),
    }


def _elevation(analyser: dict[str, Any]) -> float:
    """The elevation a finding reports: of the flagged median, or of the high episodes where
    honest flags dilute the median."""
    return float(
        max(analyser["elevation_fraction"], analyser["high_episode_elevation_fraction"] or 0.0)
    )


def check_flags(ctx: EnterpriseContext) -> list[Finding]:
    """One finding per stack (production unit): flags are set per device, not per analyser."""
    tests = FlagTests.of(ctx)
    by_unit: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for m in ctx.meters.values():
        if m.info.carrier in POLLUTANTS and m.info.measurement == "instant" and m.series.size:
            evidence = _suspicious(ctx, m, tests)
            if evidence is not None:
                by_unit[m.info.unit_id].append(evidence)
    out = []
    for unit_id, analysers in by_unit.items():
        first = min(a.pop("first_at") for a in analysers)
        last = max(a.pop("last_at") for a in analysers)
        worst = max(_elevation(a) for a in analysers)
        names = ", ".join(a["meter"] for a in analysers)
        out.append(
            finding(
                ctx,
                FLAGS,
                f"{names}: values flagged as not normal while above the normal ones "
                f"(up to {worst:+.0%})",
                {"analysers": analysers},
                fraction=worst,
                unit_id=unit_id,
                severity="high",
                start_at=utc_at(first),
                end_at=utc_at(last),
            )
        )
    return out


FLAGS_CHECK = Check(FLAGS, "integrity", {FLAGS: ("flag_abuse",)}, run=check_flags)
