"""Suspicious HJ 212 data-flag patterns.

HJ 212 marks each value with a flag (``N`` normal; ``F`` stopped, ``M`` maintenance, ``S``
manual, ``D`` fault, ``C`` calibration, ``T`` over range, ``B`` communication). Flagged values
are excluded from compliance statistics, so flags set on at-load intervals whose
concentrations are higher than the unflagged ones hide exceedances.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

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


def _suspicious(
    ctx: EnterpriseContext, m: MeterData, least: int, min_elevation: float
) -> dict[str, Any] | None:
    """Evidence when the analyser's flagged values sit above its normal ones, else None:
    at least ``least`` flagged and normal values, the flagged median above the normal median
    by ``min_elevation`` [fraction] or more."""
    series = m.series
    in_period = (series.ts_s > ctx.window.start_s) & (series.ts_s <= ctx.window.end_s)
    normal = np.isin(series.flag, list(NORMAL)) & in_period & (series.value > 0)
    flagged = ~np.isin(series.flag, list(NORMAL | STOPPED)) & in_period & (series.value > 0)
    if flagged.sum() < least or normal.sum() < least:
        return None
    med_flagged = float(np.median(series.value[flagged]))
    med_normal = float(np.median(series.value[normal]))
    if med_normal <= 0 or med_flagged < med_normal * (1 + min_elevation):
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
        "first_at": int(series.ts_s[flagged].min()),
        "last_at": int(series.ts_s[flagged].max()),
    }


def check_flags(ctx: EnterpriseContext) -> list[Finding]:
    """One finding per stack (production unit): flags are set per device, not per analyser."""
    least = ctx.settings.count(FLAGS, "min_flagged")
    min_elevation = ctx.settings.value(FLAGS, "min_elevation_fraction")
    by_unit: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for m in ctx.meters.values():
        if m.info.carrier in POLLUTANTS and m.info.measurement == "instant" and m.series.size:
            evidence = _suspicious(ctx, m, least, min_elevation)
            if evidence is not None:
                by_unit[m.info.unit_id].append(evidence)
    out = []
    for unit_id, analysers in by_unit.items():
        first = min(a.pop("first_at") for a in analysers)
        last = max(a.pop("last_at") for a in analysers)
        worst = max(a["elevation_fraction"] for a in analysers)
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
