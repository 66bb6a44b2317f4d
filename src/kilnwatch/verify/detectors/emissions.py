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
* ``verify.emissions.exceedance_day``: local days whose mean of valid hourly values (at the
  limit's reference O2) is above the binding limit, one finding per stack and pollutant with
  each day's mean and valid hours; ``info`` like the hourly exceedances.
* ``verify.emissions.device_gap``: the data logger's own total of the month (HJ 212 ``-Cou``)
  differs from the amount computed from concentration × flow by more than
  ``max_gap_fraction``: one of the two is wrong (monitoring quality).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kilnwatch.analytics.readings import Series
from kilnwatch.domain.emissions import HOUR_S
from kilnwatch.emissions.hours import ValiditySettings
from kilnwatch.emissions.limits import AppliedLimit, exceedance_day_means, permit_terms
from kilnwatch.emissions.stacks import (
    PollutantAccount,
    Stack,
    StackAccount,
    find_stacks,
    series_counts,
    stack_account,
    stack_meter_ids,
)
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.evidence import finding, rounded, utc_at
from kilnwatch.verify.findings import Finding

EXCEEDANCE = "verify.emissions.exceedance"
VALID_DATA = "verify.emissions.valid_data"
EXCEEDANCE_DAY = "verify.emissions.exceedance_day"
DEVICE_GAP = "verify.emissions.device_gap"
MAX_HOURS_IN_EVIDENCE = 72
DAY_S = 24 * HOUR_S


def _accounts(ctx: EnterpriseContext) -> list[StackAccount]:
    def compute() -> list[StackAccount]:
        s = ValiditySettings.packaged()
        series: dict[int, Series] = {i: m.series for i, m in ctx.meters.items()}
        permits = [permit_terms(p) for p in ctx.sources.permits]
        start_s = int(ctx.window.start_s)
        n_hours = (int(ctx.window.end_s) - start_s) // HOUR_S
        stacks = find_stacks(ctx.info)
        counts = series_counts(series, stack_meter_ids(stacks), start_s, n_hours)
        return [stack_account(st, counts, permits, start_s, n_hours, 0, s) for st in stacks]

    return ctx.derived("emissions.accounts", compute)


def check_exceedances(ctx: EnterpriseContext) -> list[Finding]:
    out = []
    for a, pollutant, p, limit in _limited(ctx):
        if not p.episodes:
            continue
        peak = max(e.peak_mg_m3 for e in p.episodes)
        hours = [h for e in p.episodes for h in e.hours]
        details: dict[str, Any] = {
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
        message = (
            f"{a.unit_code} {pollutant}: {p.exceedance_hours} h above "
            f"{limit.limit_mg_m3:g} mg/m3 ({limit.basis} {limit.ref}), peak {peak:g} mg/m3"
        )
        span_s = (p.episodes[0].start_s, p.episodes[-1].end_s)
        out.append(
            _above_limit(ctx, EXCEEDANCE, a, pollutant, limit, message, details, peak, span_s)
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


def _stack_of(ctx: EnterpriseContext, account: StackAccount) -> Stack:
    """The stack (its meters) of a stack account."""
    return next(st for st in find_stacks(ctx.info) if st.unit_id == account.unit_id)


def _limited(
    ctx: EnterpriseContext,
) -> Iterator[tuple[StackAccount, str, PollutantAccount, AppliedLimit]]:
    """Every (stack, pollutant) of the enterprise that has a binding limit, with the limit."""
    for a in _accounts(ctx):
        for pollutant, p in a.pollutants.items():
            if p.limit is not None:
                yield a, pollutant, p, p.limit


def _above_limit(
    ctx: EnterpriseContext,
    rule_code: str,
    stack: StackAccount,
    pollutant: str,
    limit: AppliedLimit,
    message: str,
    details: dict[str, Any],
    worst_mg_m3: float,
    span_s: tuple[int, int],
) -> Finding:
    """The finding of one stack's pollutant above its binding concentration limit.

    Parameters
    ----------
    ctx : EnterpriseContext
        The enterprise being verified.
    rule_code : str
        ``verify.emissions.exceedance`` (valid hours) or ``.exceedance_day`` (daily means).
    stack : StackAccount
        The stack's account of the month.
    pollutant : str
        The pollutant above its limit.
    limit : AppliedLimit
        The binding limit (standard or permit) at its reference O2.
    message : str
        The finding's message.
    details : dict
        Evidence of the rule, after the stack, the pollutant and the limit.
    worst_mg_m3 : float
        The highest value above the limit. [mg/m3]
    span_s : tuple of int
        Start and end of the exceedances. [s since the epoch, UTC]

    Returns
    -------
    Finding
        Severity ``info``, on the stack's analyser of ``pollutant``, with the excess over the
        limit as its fraction.

    References
    ----------
    .. [1] HJ 75-2017, valid hourly data of CEMS; the limits of the industry standards and
       permits (docs/emissions.md).
    """
    meters = _stack_of(ctx, stack)
    evidence = {"stack": stack.unit_code, "pollutant": pollutant, "limit": limit.as_json()}
    return finding(
        ctx,
        rule_code,
        message,
        evidence | details,
        fraction=worst_mg_m3 / limit.limit_mg_m3 - 1,
        meter=meters.analysers[pollutant],
        severity="info",
        start_at=utc_at(span_s[0]),
        end_at=utc_at(span_s[1]),
    )


def check_exceedance_days(ctx: EnterpriseContext) -> list[Finding]:
    out = []
    for a, pollutant, p, limit in _limited(ctx):
        if p.exceedance_days:
            days = exceedance_day_means(a.hours[pollutant], limit)
            worst = max(mean for _, mean, _ in days)
            details: dict[str, Any] = {
                "days": [{"start_s": s, "mean_mg_m3": m, "valid_hours": n} for s, m, n in days],
                "rule": "daily mean of the valid hourly values at the limit's reference O2",
            }
            message = (
                f"{a.unit_code} {pollutant}: {len(days)} d with a daily mean above "
                f"{limit.limit_mg_m3:g} mg/m3 ({limit.basis}), worst {worst:g} mg/m3"
            )
            span_s = (days[0][0], days[-1][0] + DAY_S)
            out.append(
                _above_limit(
                    ctx, EXCEEDANCE_DAY, a, pollutant, limit, message, details, worst, span_s
                )
            )
    return out


def check_device_gap(ctx: EnterpriseContext) -> list[Finding]:
    tolerance = ctx.settings.value(DEVICE_GAP, "max_gap_fraction")
    out = []
    for a in _accounts(ctx):
        stack = _stack_of(ctx, a)
        for pollutant, p in a.pollutants.items():
            gap = p.device_gap_fraction
            if gap is None or abs(gap) <= tolerance:
                continue
            evidence = {
                "stack": a.unit_code,
                "pollutant": pollutant,
                "computed_kg": rounded(p.amount_kg, 3),
                "measured_kg": rounded(p.measured_kg, 3),
                "substituted_kg": rounded(p.substituted_kg, 3),
                "device_kg": rounded(p.device_kg or 0.0, 3),
                "gap_fraction": rounded(gap, 4),
                "tolerance_fraction": tolerance,
                "method": "HJ 75-2017 C x Q per valid hour (+ substitution) against HJ 212 -Cou",
            }
            out.append(
                finding(
                    ctx,
                    DEVICE_GAP,
                    f"{a.unit_code} {pollutant}: device total {p.device_kg:g} kg, computed "
                    f"{p.amount_kg:.1f} kg ({gap:+.1%})",
                    evidence,
                    fraction=abs(gap),
                    meter=stack.totals.get(pollutant) or stack.analysers[pollutant],
                )  # fmt: skip
            )
    return out


EXCEEDANCE_CHECK = Check(
    EXCEEDANCE, "integrity", {EXCEEDANCE: ("emission_exceedance",)}, run=check_exceedances
)
VALID_DATA_CHECK = Check(VALID_DATA, "monitoring_quality", {VALID_DATA: ()}, run=check_valid_data)
EXCEEDANCE_DAY_CHECK = Check(
    EXCEEDANCE_DAY, "integrity", {EXCEEDANCE_DAY: ("emission_exceedance",)},
    run=check_exceedance_days,
)  # fmt: skip
DEVICE_GAP_CHECK = Check(DEVICE_GAP, "monitoring_quality", {DEVICE_GAP: ()}, run=check_device_gap)
