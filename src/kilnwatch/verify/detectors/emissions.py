"""Emission exceedances and the valid-data share of each stack (issue 21).

Both run the HJ 75-2017 hourly rules of :mod:`kilnwatch.emissions` on the enterprise's stack
analysers (readings of the verified month):

* ``verify.emissions.exceedance``: valid hours above the binding limit (industry standard or
  permit, at the limit's reference O2), one finding per stack and pollutant with every episode
  in its evidence (hours, measured and corrected values, O2, limit and its source). Severity
  ``info``: an exceedance shown by valid data is a compliance matter for supervision, not a
  sign that the data are false, so it costs no credibility points.
* ``verify.emissions.valid_data``: a stack whose valid-data capture rate in the month is below
  ``low_capture_finding_pct`` (``reference/emissions/validity.csv``): monitoring quality.
"""

from __future__ import annotations

from typing import Any

from kilnwatch.analytics.readings import Series
from kilnwatch.emissions.hours import HOUR_S, ValiditySettings
from kilnwatch.emissions.limits import permit_terms
from kilnwatch.emissions.stacks import StackAccount, find_stacks, stack_account
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.evidence import finding, rounded, utc_at
from kilnwatch.verify.findings import Finding

EXCEEDANCE = "verify.emissions.exceedance"
VALID_DATA = "verify.emissions.valid_data"
MAX_HOURS_IN_EVIDENCE = 72


def _accounts(ctx: EnterpriseContext) -> list[StackAccount]:
    def compute() -> list[StackAccount]:
        s = ValiditySettings.packaged()
        series: dict[int, Series] = {i: m.series for i, m in ctx.meters.items()}
        permits = [permit_terms(p) for p in ctx.sources.permits]
        start_s = int(ctx.window.start_s)
        n_hours = (int(ctx.window.end_s) - start_s) // HOUR_S
        return [
            stack_account(st, series, permits, start_s, n_hours, 0, s)
            for st in find_stacks(ctx.info)
        ]

    return ctx.derived("emissions.accounts", compute)


def check_exceedances(ctx: EnterpriseContext) -> list[Finding]:
    out = []
    for a in _accounts(ctx):
        for pollutant, p in a.pollutants.items():
            if not p.episodes or p.limit is None:
                continue
            peak = max(e.peak_mg_m3 for e in p.episodes)
            hours = [h for e in p.episodes for h in e.hours]
            evidence: dict[str, Any] = {
                "stack": a.unit_code,
                "pollutant": pollutant,
                "limit": p.limit.as_json(),
                "exceedance_hours": p.exceedance_hours,
                "exceedance_days": p.exceedance_days,
                "episodes": [
                    {
                        "start_s": e.start_s,
                        "end_s": e.end_s,
                        "hours": e.n_hours,
                        "peak_mg_m3": e.peak_mg_m3,
                    }
                    for e in p.episodes
                ],  # fmt: skip
                "hours": hours[:MAX_HOURS_IN_EVIDENCE],
                "flags": "valid hours only (HJ 212 flag N on at least 75 % of the readings)",
            }
            meter = next(st for st in find_stacks(ctx.info) if st.unit_id == a.unit_id)
            out.append(
                finding(
                    ctx,
                    EXCEEDANCE,
                    f"{a.unit_code} {pollutant}: {p.exceedance_hours} h above "
                    f"{p.limit.limit_mg_m3:g} mg/m3 ({p.limit.basis} {p.limit.ref}), "
                    f"peak {peak:g} mg/m3",
                    evidence,
                    fraction=peak / p.limit.limit_mg_m3 - 1,
                    meter=meter.analysers[pollutant],
                    severity="info",
                    start_at=utc_at(p.episodes[0].start_s),
                    end_at=utc_at(p.episodes[-1].end_s),
                )  # fmt: skip
            )
    return out


def check_valid_data(ctx: EnterpriseContext) -> list[Finding]:
    threshold = ValiditySettings.packaged().low_capture_finding_pct
    out = []
    for a in _accounts(ctx):
        low = {
            p: rounded(acc.capture_pct, 2)
            for p, acc in a.pollutants.items()
            if acc.capture_pct is not None and acc.capture_pct < threshold
        }
        if not low:
            continue
        worst = min(low.values())
        evidence = {
            "stack": a.unit_code,
            "capture_pct": low,
            "threshold_pct": threshold,
            "hours": {
                p: {
                    "valid": acc.valid_hours,
                    "invalid": acc.invalid_hours,
                    "stopped": acc.stopped_hours,
                    "substituted": acc.substituted_hours,
                }
                for p, acc in a.pollutants.items()
            },  # fmt: skip
        }
        out.append(
            finding(
                ctx,
                VALID_DATA,
                f"{a.unit_code}: valid-data capture {worst:.1f} % below {threshold:g} %",
                evidence,
                fraction=(threshold - worst) / 100.0,
                unit_id=a.unit_id,
            )  # fmt: skip
        )
    return out


EXCEEDANCE_CHECK = Check(
    EXCEEDANCE, "integrity", {EXCEEDANCE: ("emission_exceedance",)}, run=check_exceedances
)
VALID_DATA_CHECK = Check(VALID_DATA, "monitoring_quality", {VALID_DATA: ()}, run=check_valid_data)
