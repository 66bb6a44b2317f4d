"""Detectors on one meter's raw readings: gaps, stuck values, impossible steps, corrections
(versions > 1), late deliveries and repeated deliveries (``delivery_repeats``). Each works
on whole numpy arrays of a meter at once."""

from __future__ import annotations

import numpy as np

from kilnwatch.analytics.quantities import daily_counts, true_runs
from kilnwatch.analytics.readings import I64
from kilnwatch.store.models import SOURCE_CODES
from kilnwatch.verify.check import Check, EnterpriseRun, Kind
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.evidence import finding, local_at, rounded, utc_at
from kilnwatch.verify.findings import Finding

GAP = "verify.timeseries.data_gap"
STUCK = "verify.timeseries.stuck"
IMPOSSIBLE = "verify.timeseries.impossible"
CORRECTIONS = "verify.timeseries.corrections"
LATE = "verify.timeseries.late_data"
DUPLICATES = "verify.timeseries.duplicates"
#: Sources that deliver in real time; only for these is a delivery lag meaningful (a file
#: import of last month's data is not "late data").
REAL_TIME_SOURCES = frozenset(SOURCE_CODES[k] for k in ("http", "mqtt", "hj212"))
MAX_LISTED = 20


def _in_period(ctx: EnterpriseContext, m: MeterData) -> np.ndarray:
    return (m.series.ts_s > ctx.window.start_s) & (m.series.ts_s <= ctx.window.end_s)


def _gaps(ts: I64, step: int, start_s: int, end_s: int) -> list[tuple[int, int, int]]:
    """(last reading before, first reading after, missing intervals) of each gap."""
    grid = np.concatenate(([start_s], ts, [end_s + step]))
    missing = np.diff(grid) // step - 1
    idx = np.flatnonzero(missing > 0)
    return [(int(grid[i]), int(grid[i + 1]), int(missing[i])) for i in idx]


def check_gaps(ctx: EnterpriseContext) -> list[Finding]:
    """Missing intervals on a meter's own grid: a monitoring-quality event (completeness,
    online rate), informational unless it hides consumption: an interval meter missing at
    least ``material_missing_fraction`` of the month, or gaps forming a pattern (at least
    ``pattern_min_gaps`` gaps, most of them within ``month_end_days`` of the month's ends,
    where they shift consumption between months)."""
    least = ctx.settings.count(GAP, "min_missing_intervals")
    material = ctx.settings.value(GAP, "material_missing_fraction")
    pattern_gaps = ctx.settings.count(GAP, "pattern_min_gaps")
    edge_s = ctx.settings.value(GAP, "month_end_days") * 86_400
    out: list[Finding] = []
    for m in ctx.meters.values():
        if m.step_s <= 0:
            continue
        ts = m.series.ts_s[_in_period(ctx, m)]
        gaps = [
            g for g in _gaps(ts, m.step_s, ctx.window.start_s, ctx.window.end_s) if g[2] >= least
        ]
        if not gaps or ts.size == 0:
            continue
        expected = (ctx.window.end_s - ctx.window.start_s) // m.step_s
        missing = sum(g[2] for g in gaps)
        at_edges = sum(
            1
            for a, b, _n in gaps
            if b <= ctx.window.start_s + edge_s or a >= ctx.window.end_s - edge_s
        )
        patterned = len(gaps) >= pattern_gaps and 2 * at_edges > len(gaps)
        hides = m.info.measurement == "interval" and missing / max(expected, 1) >= material
        evidence = {
            "meter": m.info.code,
            "interval_s": m.step_s,
            "missing_intervals": missing,
            "expected_intervals": expected,
            "gaps_at_month_ends": at_edges,
            "patterned": patterned,
            "gaps": [
                {"after": local_at(ctx, a), "before": local_at(ctx, b), "missing": n}
                for a, b, n in gaps[:MAX_LISTED]
            ],
        }
        out.append(
            finding(
                ctx,
                GAP,
                f"{m.info.code}: {missing} of {expected} intervals missing in {len(gaps)} gap(s)"
                + (", most at the month's ends" if patterned else ""),
                evidence,
                fraction=missing / max(expected, 1),
                meter=m.info,
                start_at=utc_at(gaps[0][0]),
                end_at=utc_at(gaps[-1][1]),
                severity=None if hides or patterned else "info",
            )
        )
    return out


def _flat_hours_by_day(
    ctx: EnterpriseContext, ts: np.ndarray, runs: list[tuple[int, int]], step_s: int
) -> dict[str, float]:
    """Hours of the period's days (local date: hours) covered by the flat runs, every run
    counted: the intervals ending at readings ``a + 1 … b`` of a run ``(a, b)`` repeat the
    value before them."""
    window = ctx.window
    ends = np.concatenate([ts[a + 1 : b + 1] for a, b in runs])
    hours = daily_counts(ends, window.start_s, window.month.days) * step_s / 3600
    return {
        window.day_start(int(d)).date().isoformat(): rounded(float(hours[d]))
        for d in np.flatnonzero(hours)
    }


def flat_runs(ctx: EnterpriseContext, m: MeterData) -> list[tuple[int, int]]:
    """Runs ``(a, b)`` of readings ``a … b`` of an interval or instant meter repeating one
    non-zero value on its own grid for at least the stuck check's ``min_duration_h`` and
    touching the period (none for a counter: a register that stops is a stop, not a stuck
    value). Computed once per context: the smoothed check leaves these hours out too."""
    return ctx.derived(f"{STUCK}.runs.{m.info.id}", lambda: _flat_runs(ctx, m))


def _flat_runs(ctx: EnterpriseContext, m: MeterData) -> list[tuple[int, int]]:
    if m.info.measurement == "counter" or m.step_s <= 0 or m.series.size < 3:
        return []
    hours = ctx.settings.value(STUCK, "min_duration_h")
    v, ts = m.series.value, m.series.ts_s
    same = (np.diff(v) == 0) & (v[1:] != 0) & (np.diff(ts) == m.step_s)
    starts, ends = true_runs(same)
    runs = [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]
    runs = [(a, b) for a, b in runs if (ts[b] - ts[a]) >= hours * 3600]
    return [(a, b) for a, b in runs if ctx.window.start_s < ts[b] and ts[a] <= ctx.window.end_s]


def check_stuck(ctx: EnterpriseContext) -> list[Finding]:
    """Interval and instant meters repeating one non-zero value over ``min_duration_h``
    (:func:`flat_runs`)."""
    ctx.settings.value(STUCK, "min_duration_h")  # read up front
    out: list[Finding] = []
    for m in ctx.meters.values():
        runs = flat_runs(ctx, m)
        if not runs:
            continue
        v, ts = m.series.value, m.series.ts_s
        longest = max(runs, key=lambda r: r[1] - r[0])
        evidence = {
            "meter": m.info.code,
            "value": float(v[longest[0]]),
            "run_count": len(runs),
            "flat_hours_by_day": _flat_hours_by_day(ctx, ts, runs, m.step_s),
            "runs": [
                {
                    "from": local_at(ctx, ts[a]),
                    "to": local_at(ctx, ts[b]),
                    "readings": int(b - a + 1),
                    "value": float(v[a]),
                }
                for a, b in runs[:MAX_LISTED]
            ],
        }
        out.append(
            finding(
                ctx,
                STUCK,
                f"{m.info.code}: the same value {v[longest[0]]:g} repeated over "
                f"{(ts[longest[1]] - ts[longest[0]]) / 3600:.1f} h ({len(runs)} run(s))",
                evidence,
                meter=m.info,
                severity="medium",
                start_at=utc_at(ts[runs[0][0]]),
                end_at=utc_at(ts[runs[-1][1]]),
            )
        )
    return out


def check_impossible(ctx: EnterpriseContext) -> list[Finding]:
    """Counter registers going backwards; negative interval quantities. A register that
    restarts near zero (at most ``replacement_max_fraction`` of the value before) is a meter
    replacement: a monitoring-quality event (informational), counted from the new register."""
    restart = ctx.settings.value(IMPOSSIBLE, "replacement_max_fraction")
    out: list[Finding] = []
    for m in ctx.meters.values():
        if m.info.measurement == "instant":
            continue
        bad = ~np.isfinite(m.qty) if m.info.measurement == "counter" else m.qty < 0
        if not bad.any():
            continue
        when = m.ts_q[bad]
        v = m.series.value
        back = np.flatnonzero(np.diff(v) < 0) + 1
        restarted = (v[back] >= 0) & (v[back] <= restart * v[back - 1])
        replaced = back[restarted] if m.info.measurement == "counter" else back[:0]
        replacements = m.info.measurement == "counter" and replaced.size == back.size
        evidence = {
            "meter": m.info.code,
            "count": int(bad.sum()),
            "at": [local_at(ctx, t) for t in when[:MAX_LISTED]],
            "replacements": [
                {
                    "at": local_at(ctx, m.series.ts_s[i]),
                    "before": float(v[i - 1]),
                    "after": float(v[i]),
                }
                for i in replaced[:MAX_LISTED]
            ],
        }
        if replacements:
            what = "meter replaced (register restarted near zero)"
        else:
            what = (
                "register went backwards" if m.info.measurement == "counter" else "negative value"
            )
        out.append(
            finding(
                ctx,
                IMPOSSIBLE,
                f"{m.info.code}: {what} {int(bad.sum())} time(s)",
                evidence,
                meter=m.info,
                severity="info" if replacements else "low",
                start_at=utc_at(when.min()),
                end_at=utc_at(when.max()),
            )
        )
    return out


def check_corrections(ctx: EnterpriseContext) -> list[Finding]:
    """Timestamps stored again with another value (version > 1), and how they changed it."""
    out: list[Finding] = []
    least = ctx.settings.count(CORRECTIONS, "min_count")
    for m in ctx.meters.values():
        s = m.series
        changed = (s.versions > 1) & _in_period(ctx, m) & (s.value != s.first_value)
        if changed.sum() < least:
            continue
        before, after = float(s.first_value[changed].sum()), float(s.value[changed].sum())
        change = (after - before) / before if before else 0.0
        evidence = {
            "meter": m.info.code,
            "corrected_readings": int(changed.sum()),
            "sum_first_version": rounded(before),
            "sum_latest_version": rounded(after),
            "change_fraction": rounded(change),
            "at": [local_at(ctx, t) for t in s.ts_s[changed][:MAX_LISTED]],
        }
        out.append(
            finding(
                ctx,
                CORRECTIONS,
                f"{m.info.code}: {int(changed.sum())} readings re-sent later with other values "
                f"({change:+.1%})",
                evidence,
                fraction=change,
                meter=m.info,
                start_at=utc_at(s.ts_s[changed].min() - m.step_s),
                end_at=utc_at(s.ts_s[changed].max()),
            )
        )
    return out


def check_late(ctx: EnterpriseContext) -> list[Finding]:
    """Real-time deliveries received more than ``max_lag_h`` after their timestamp."""
    out: list[Finding] = []
    lag_s = ctx.settings.value(LATE, "max_lag_h") * 3600
    least = ctx.settings.count(LATE, "min_count")
    for m in ctx.meters.values():
        s = m.series
        live = np.isin(s.source, list(REAL_TIME_SOURCES)) & _in_period(ctx, m)
        late = live & (s.lag_s > lag_s)
        if late.sum() < least:
            continue
        evidence = {
            "meter": m.info.code,
            "late_readings": int(late.sum()),
            "max_lag_h": rounded(float(s.lag_s[late].max()) / 3600, 1),
        }
        out.append(
            finding(
                ctx,
                LATE,
                f"{m.info.code}: {int(late.sum())} readings delivered late (back-dated)",
                evidence,
                meter=m.info,
                severity="medium",
                start_at=utc_at(s.ts_s[late].min()),
                end_at=utc_at(s.ts_s[late].max()),
            )
        )
    return out


def repeat_episodes(repeats_ts: I64, step_s: int) -> I64:
    """Start [epoch s] of each repeat episode: repeats of consecutive timestamps (at most one
    reading interval apart) are one episode, e.g. one re-sent batch after a timeout."""
    ts = np.unique(repeats_ts)
    if ts.size == 0:
        return ts
    return ts[np.concatenate(([True], np.diff(ts) > step_s))]


def busy_windows(episodes: I64, window_s: int, least: int) -> list[tuple[int, int]]:
    """Merged (first, last episode start) spans of windows of ``window_s`` holding at least
    ``least`` episodes."""
    if episodes.size < least:
        return []
    end_idx = np.searchsorted(episodes, episodes + window_s, side="left")
    hot = np.flatnonzero(end_idx - np.arange(episodes.size) >= least)
    spans: list[tuple[int, int]] = []
    for i in hot:
        lo, hi = int(episodes[i]), int(episodes[end_idx[i] - 1])
        if spans and lo <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans


def check_duplicates(ctx: EnterpriseContext) -> list[Finding]:
    """Bursts or systematic repeated deliveries of stored values (``delivery_repeats``)."""
    window_s = int(ctx.settings.value(DUPLICATES, "window_h") * 3600)
    least = ctx.settings.count(DUPLICATES, "min_episodes")
    min_share = ctx.settings.value(DUPLICATES, "min_share")
    default_step_s = ctx.settings.count(DUPLICATES, "default_interval_s")
    out: list[Finding] = []
    for m in ctx.meters.values():
        r = m.repeats_ts
        r = r[(r > ctx.window.start_s) & (r <= ctx.window.end_s)]
        step = m.step_s if m.step_s > 0 else default_step_s
        spans = busy_windows(repeat_episodes(r, step), window_s, least)
        if not spans:
            continue
        lo, hi = spans[0][0], spans[-1][1]
        inside = int(((r >= lo) & (r <= hi + step)).sum())
        expected = sum((b - a) // step + 1 for a, b in spans)
        share = inside / max(expected, 1)
        if share < min_share:
            continue
        evidence = {
            "meter": m.info.code,
            "repeated_deliveries": int(r.size),
            "in_flagged_spans": inside,
            "expected_readings_in_spans": int(expected),
            "share": rounded(share),
            "spans": [{"from": local_at(ctx, a), "to": local_at(ctx, b)} for a, b in spans],
        }
        out.append(
            finding(
                ctx,
                DUPLICATES,
                f"{m.info.code}: {inside} readings delivered again with the stored value "
                f"({share:.1%} of {expected} between {utc_at(lo):%m-%d %H:%M} and "
                f"{utc_at(hi):%m-%d %H:%M} UTC)",
                evidence,
                fraction=share,
                meter=m.info,
                severity="low",
                start_at=utc_at(lo - step),
                end_at=utc_at(hi),
            )
        )
    return out


def _check(code: str, kind: Kind, run: EnterpriseRun, *faults: str) -> Check:
    return Check(code, kind, {code: faults}, run=run)


GAP_CHECK = _check(GAP, "monitoring_quality", check_gaps, "data_gap")
STUCK_CHECK = _check(STUCK, "monitoring_quality", check_stuck, "stuck_sensor", "meter_capped")
IMPOSSIBLE_CHECK = _check(IMPOSSIBLE, "monitoring_quality", check_impossible)
CORRECTIONS_CHECK = _check(CORRECTIONS, "integrity", check_corrections, "backdated_packets")
LATE_CHECK = _check(LATE, "integrity", check_late, "backdated_packets")
DUPLICATES_CHECK = _check(DUPLICATES, "monitoring_quality", check_duplicates, "duplicate_packets")
