"""Profile checks: a meter whose short-term variability has gone (a smoothed series).

A meter measures a load that moves from hour to hour (process noise, the daily cycle); a
series replaced by its moving average keeps the totals but loses that movement. The hour-to-
hour variability of a day (:func:`daily_roughness`: the median absolute change between
consecutive hours relative to the day's median hour) is judged

* against its **sub-meters**: a parent meter measures the sum of its sub-meters plus losses
  and small loads, so its relative variability is that of the sum of its sub-meters (a flat
  unmetered load lowers it by its share only); a parent far smoother than its sub-meters on
  the same days does not measure them;
* without sub-meters, against its **own days**: a lasting drop of the variability within the
  month (a level shift of its logarithm, :func:`~kilnwatch.verify.detectors.shift.level_shift`),
  unless the process ran steadier too (a reference meter of the process lost at least half as
  much variability over those days).

Energy meters only (carriers with a GB/T 2589 coefficient): product and water meters follow
the process in other ways.

Hours inside a flat run (a value repeated for hours: the stuck check's finding) are left out
of the variability, so a stuck sensor is not read as a smoothed day and a moving average that
repeats a value now and then is judged on its other hours.

Only full days at load count (every reading there, at least ``at_load_fraction`` of the
meter's median day: a stopped process draws a flat base load). The comparisons
that a smoothed meter spoils (its ratio with its sub-meters, its energy per product over the
smoothed days, where the average smears an outage or a load change over the next day) are
kept as ``info`` with "(explained by a smoothed meter)": the smoothing is the finding.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from kilnwatch.analytics.readings import F64
from kilnwatch.verify.check import Check
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.detectors.balance import references
from kilnwatch.verify.detectors.shift import Shift, level_shift, window_change
from kilnwatch.verify.detectors.timeseries import flat_runs
from kilnwatch.verify.evidence import explained_as_info, finding, rounded, tce_of
from kilnwatch.verify.findings import Finding

SMOOTHED = "verify.meter.smoothed"
HOUR_S = 3600
HOURS_PER_DAY = 24
#: Finding codes whose comparison a smoothed meter spoils (its own or its parent's/children's).
SPOILED = (
    "verify.submeter.parent_exceeds_children",
    "verify.submeter.parent_below_children",
    "verify.submeter.child_reads_low",
    "verify.meter.intensity_drop",
)


def hourly(m: MeterData, start_s: int, days: int) -> tuple[F64, np.ndarray]:
    """The meter's quantities summed per hour of the period and whether each hour is
    complete (every interval there and countable)."""
    hours = days * HOURS_PER_DAY
    index = (m.ts_q - start_s - 1) // HOUR_S
    ok = (index >= 0) & (index < hours) & np.isfinite(m.qty)
    totals = np.bincount(index[ok], weights=m.qty[ok], minlength=hours)[:hours]
    counts = np.bincount(index[ok], minlength=hours)[:hours]
    per_hour = max(HOUR_S // m.step_s, 1) if m.step_s else 1
    return totals.astype(np.float64), counts >= per_hour


def flat_hours(ctx: EnterpriseContext, m: MeterData) -> np.ndarray:
    """Hours of the period holding an interval of one of the meter's flat runs
    (:func:`~kilnwatch.verify.detectors.timeseries.flat_runs`: a value repeated, the stuck
    check's finding)."""
    hours = ctx.window.month.days * HOURS_PER_DAY
    flat = np.zeros(hours, dtype=bool)
    ts = m.series.ts_s
    for a, b in flat_runs(ctx, m):
        index = (ts[a + 1 : b + 1] - ctx.window.start_s - 1) // HOUR_S
        flat[index[(index >= 0) & (index < hours)]] = True
    return flat


def daily_roughness(totals: F64, complete: np.ndarray, flat: np.ndarray | None = None) -> F64:
    """Per day, the median absolute change between consecutive hours relative to the day's
    median hour (NaN for a day with an incomplete hour or no use).

    Changes into or out of a ``flat`` hour are left out: a value repeated for hours is the
    stuck check's finding, and its zero changes would read as a smoothed day. A day keeps a
    figure only when at least half its changes are left to judge it.

    Parameters
    ----------
    totals : ndarray
        Hourly quantities of the period [meter unit], ``24 x days`` values.
    complete : ndarray of bool
        Whether each hour has all its readings.
    flat : ndarray of bool, optional
        Hours inside a run of one repeated value (default: none).

    Returns
    -------
    ndarray
        Relative hour-to-hour variability of each day [1].
    """
    days = totals.size // HOURS_PER_DAY
    n = days * HOURS_PER_DAY
    q = totals[:n].reshape(days, HOURS_PER_DAY)
    full = complete[:n].reshape(days, HOURS_PER_DAY).all(axis=1)
    level = np.median(q, axis=1)
    change = np.abs(np.diff(q, axis=1))
    if flat is not None and flat[:n].any():
        f = flat[:n].reshape(days, HOURS_PER_DAY)
        judged = ~(f[:, 1:] | f[:, :-1])
        change = np.where(judged, change, np.nan)
        full &= 2 * judged.sum(axis=1) >= HOURS_PER_DAY
    ok = full & (level > 0)
    median_change = np.nanmedian(np.where(ok[:, None], change, 0.0), axis=1)
    return np.where(ok, median_change / np.where(ok, level, 1.0), np.nan)


def roughness(ctx: EnterpriseContext, m: MeterData) -> F64:
    """The meter's :func:`daily_roughness` over the period without its flat runs, computed
    once per context (the check against peers reads it from an enterprise's summary,
    without the readings)."""
    return ctx.derived(
        f"{SMOOTHED}.roughness.{m.info.id}",
        lambda: daily_roughness(
            *hourly(m, ctx.window.start_s, ctx.window.month.days), flat_hours(ctx, m)
        ),
    )


def at_load(ctx: EnterpriseContext, m: MeterData) -> np.ndarray:
    """Full days on which the meter measured at least ``at_load_fraction`` of its median full
    day, and so did each of its references (:func:`~kilnwatch.verify.detectors.balance.
    references`: the unit's product meter, else the process's other carriers): a stopped or
    part-loaded process draws a flat base load (lighting, pumps), whose variability is not
    that of production; a process stopped for more than half the month makes the meter's own
    median day a standby day, while its product meter's median (over days with output) stays a
    running day."""
    fraction = ctx.settings.value(SMOOTHED, "at_load_fraction")
    days = m.at_load_days(fraction)
    for r in references(ctx, m):
        days &= r.at_load_days(fraction)
    return days


def _process_steadied(ctx: EnterpriseContext, m: MeterData, shift: Shift) -> bool:
    """True when the process itself ran steadier over the shift's days: one of the meter's
    references (:func:`~kilnwatch.verify.detectors.balance.references`: the product meter or
    the process's other carriers) lost at least half as much variability over them."""
    for r in references(ctx, m):
        tested = window_change(roughness(ctx, r), shift.start_day, shift.end_day)
        if tested is not None and tested[0] <= shift.change_fraction / 2:
            return True
    return False


def _children_roughness(ctx: EnterpriseContext, m: MeterData) -> F64 | None:
    """The daily variability of the sum of the meter's sub-meters (same unit), or None."""
    children = ctx.summable_children(m)
    if not children:
        return None
    days = ctx.window.month.days
    parts = [hourly(c, ctx.window.start_s, days) for c in children]
    totals = np.sum([p[0] for p in parts], axis=0)
    complete = np.logical_and.reduce([p[1] for p in parts])
    flat = np.logical_or.reduce([flat_hours(ctx, c) for c in children])
    return daily_roughness(totals, complete, flat)


def _smoothed_days(ctx: EnterpriseContext, m: MeterData) -> tuple[np.ndarray, dict[str, object]]:
    """Days on which the meter is far smoother than its sub-meters, or than its own other
    days; and the evidence of the comparison."""
    ratio_max = ctx.settings.value(SMOOTHED, "max_roughness_ratio")
    min_days = ctx.settings.count(SMOOTHED, "min_days")
    z = ctx.settings.value(SMOOTHED, "z_threshold")
    drop = ctx.settings.value(SMOOTHED, "min_own_drop_fraction")
    own = np.where(at_load(ctx, m), roughness(ctx, m), np.nan)
    theirs = _children_roughness(ctx, m)
    smooth = np.zeros(own.size, dtype=bool)
    evidence: dict[str, object] = {"meter": m.info.code}
    if theirs is not None:
        both = np.isfinite(own) & np.isfinite(theirs) & (theirs > 0)
        ratio = np.where(both, own / np.where(both, theirs, 1.0), np.nan)
        smooth |= both & (ratio < ratio_max)
        if smooth.any():
            evidence |= {
                "basis": "sub_meters",
                "roughness_ratio_median": rounded(float(np.nanmedian(ratio[smooth]))),
            }
    if theirs is None:  # no sub-meters: against its own other days
        shift = level_shift(own, min_days, z, drop, prefer="low")
        if (
            shift is not None
            and shift.change_fraction <= -drop
            and not _process_steadied(ctx, m, shift)
        ):
            days = slice(shift.start_day, shift.end_day)
            smooth[days] = np.isfinite(own[days])
            evidence |= {
                "basis": "own_history",
                "roughness_change_fraction": rounded(shift.change_fraction),
                "robust_z": rounded(shift.z, 2),
            }
    evidence["daily_roughness"] = [None if not np.isfinite(v) else rounded(v) for v in own]
    if theirs is not None:
        evidence["sub_meters_daily_roughness"] = [
            None if not np.isfinite(v) else rounded(v) for v in theirs
        ]
    if smooth.sum() < min_days:
        smooth[:] = False
    elif smooth.any():
        onset = _earliest_onset(np.isfinite(own), smooth, int(np.flatnonzero(smooth)[0]))
        evidence["earliest_onset"] = ctx.window.day_start(onset).isoformat()
    return smooth, evidence


def _earliest_onset(judged: np.ndarray, smooth: np.ndarray, first: int) -> int:
    """The day after the last day before ``first`` that was judged and not smoothed (0 when
    none): days not judged (the process not at load, e.g. an outage) say nothing, so the
    smoothing may have begun on any of them (tuning alt base 103: A020-GRID averaged from the
    14th across a three-day outage, found smoothed from the 19th, its ratio with its sub-meter
    "+125 %" over the outage)."""
    normal = np.flatnonzero(judged[:first] & ~smooth[:first])
    return int(normal[-1]) + 1 if normal.size else 0


def check_smoothed(ctx: EnterpriseContext) -> list[Finding]:
    """One finding per energy meter whose hour-to-hour variability has gone on at least
    ``min_days`` days (against its sub-meters, or against its own other days)."""
    for name in ("max_roughness_ratio", "z_threshold", "at_load_fraction", "min_own_drop_fraction"):
        ctx.settings.value(SMOOTHED, name)  # read up front
    ctx.settings.count(SMOOTHED, "min_days")
    out = []
    for m in ctx.meters.values():
        if m.info.measurement == "instant" or not 0 < m.step_s <= HOUR_S:
            continue  # meters of quantities read at least hourly
        if tce_of(m.info.carrier, 1.0, m.info.uom) is None:
            continue  # energy carriers only (GB/T 2589 coefficient): not products or water
        smooth, evidence = _smoothed_days(ctx, m)
        if not smooth.any():
            continue
        days = np.flatnonzero(smooth)
        first, last = int(days[0]), int(days[-1]) + 1
        start, end = ctx.window.day_start(first), ctx.window.day_start(last)
        evidence |= {"smoothed_days": int(days.size), "from": start.isoformat(),
                     "to": end.isoformat()}  # fmt: skip
        what = "its sub-meters" if evidence.get("basis") == "sub_meters" else "its own other days"
        out.append(
            finding(
                ctx,
                SMOOTHED,
                f"{m.info.code}: hour-to-hour variation gone on {days.size} day(s) from "
                f"{start:%Y-%m-%d} to {end:%Y-%m-%d} (far smoother than {what}: the series "
                "does not follow the load, a moving average or a clipped meter)",
                evidence,
                meter=m.info,
                severity="medium",
                start_at=start,
                end_at=end,
            )
        )
    return out


def smoothing_consequences_as_info(
    ctx: EnterpriseContext, findings: list[Finding]
) -> list[Finding]:
    """A ratio or intensity finding on a smoothed meter (or its parent or sub-meters) over the
    smoothed days, or the unjudged days just before them (``earliest_onset``), compares a
    moving average: the smoothing is the finding, it becomes info."""
    smoothed = [f for f in findings if f.rule_code == SMOOTHED and f.meter_id is not None]
    if not smoothed:
        return findings

    def related(meter_id: int) -> set[int]:
        m = ctx.meters.get(meter_id)
        near = {meter_id} | {c.info.id for c in ctx.children(meter_id)}
        if m is not None and m.info.parent_id is not None:
            near.add(m.info.parent_id)
        return near

    def since(s: Finding) -> datetime:
        onset = s.evidence.get("earliest_onset")
        return datetime.fromisoformat(onset) if isinstance(onset, str) else s.start_at

    def spoiled(f: Finding) -> bool:
        if f.rule_code not in SPOILED or f.meter_id is None or f.severity == "info":
            return False
        return any(
            f.meter_id in related(s.meter_id)  # type: ignore[arg-type]
            and f.start_at < s.end_at
            and since(s) < f.end_at
            for s in smoothed
        )

    return explained_as_info(findings, spoiled, "a smoothed meter")


#: A clipped meter loses its variation too (at its cap): the symptom is the same.
SMOOTHED_CHECK = Check(
    SMOOTHED, "integrity", {SMOOTHED: ("meter_smoothed", "meter_capped")}, run=check_smoothed
)
