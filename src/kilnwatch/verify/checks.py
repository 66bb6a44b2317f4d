"""The checks of verification, in the order they run, and running them.

:data:`CHECKS` is the one set of checks (each declared next to its function in ``rules/`` or
``detectors/``; what a check declares is described in :mod:`kilnwatch.verify.check`). A run
calls :func:`run_checks` per enterprise and period, then :func:`run_province_checks` over
every enterprise of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kilnwatch.verify.check import Check, Checks
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.detectors import (
    balance,
    carrier_peers,
    child_peers,
    emissions,
    flags,
    peers,
    profile,
    profile_peers,
    timeseries,
)
from kilnwatch.verify.evidence import explained_as_info, human, rounded
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.rules import electricity, fuel, reported, revenue

CHECKS = Checks(
    (
        balance.INTENSITY_CHECK,  # first: the sub-meter check uses the intensity drops
        balance.RATIO_CHECK,
        reported.ENERGY_CHECK,
        reported.PRODUCTION_CHECK,
        reported.SHIPPED_CHECK,
        electricity.GRID_CHECK,
        electricity.INVOICE_CHECK,
        fuel.INVOICE_CHECK,
        fuel.COAL_CHECK,
        revenue.SHIPPED_CHECK,
        revenue.MARKET_CHECK,
        balance.CAPPED_CHECK,
        profile.SMOOTHED_CHECK,
        timeseries.GAP_CHECK,
        timeseries.STUCK_CHECK,
        timeseries.IMPOSSIBLE_CHECK,
        timeseries.CORRECTIONS_CHECK,
        timeseries.LATE_CHECK,
        timeseries.DUPLICATES_CHECK,
        flags.FLAGS_CHECK,
        emissions.EXCEEDANCE_CHECK,
        emissions.VALID_DATA_CHECK,
        emissions.EXCEEDANCE_DAY_CHECK,
        emissions.DEVICE_GAP_CHECK,
        peers.PEERS_CHECK,
        peers.OUTPUT_CHECK,
        child_peers.CHILD_PEERS_CHECK,
        carrier_peers.CARRIER_PEERS_CHECK,
        profile_peers.SMOOTHED_PEERS_CHECK,
    )
)


def run_checks(ctx: EnterpriseContext) -> list[Finding]:
    """All findings of one enterprise and period: every enabled enterprise check in order,
    then the findings another finding explains are dropped."""
    out: list[Finding] = []
    for check in CHECKS.enterprise_checks:
        if check.run is not None and ctx.settings.enabled(check.code):
            out += _declared(check, check.run(ctx))
    out = fuel.without_coal_explained_by_meters(out)
    out = _stuck_consequences_as_info(ctx, out)
    out = profile.smoothing_consequences_as_info(ctx, out)
    out = _drops_beside_a_clip_as_info(ctx, out)
    return _without_explained_ratios(ctx, _without_capped_repeats(out))


def run_province_checks(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """The findings of the checks over every enterprise of a run (peers). Each check sees the
    enterprises' own findings and those of the province checks before it: a parent / sub-meter
    rise found only against the peers (a sub-meter reading low all month, with no shift within
    the month) is one the sub-meter check can then put on its side."""
    out: list[Finding] = []
    for check in CHECKS.province_checks:
        enabled = bool(contexts) and contexts[0].settings.enabled(check.code)
        if check.run_province is not None and enabled:
            out += _declared(check, check.run_province(contexts, [*existing, *out]))
    return out


def after_province_checks(ctx: EnterpriseContext | None, findings: list[Finding]) -> list[Finding]:
    """An enterprise's findings once the province checks added theirs: what those explain
    (:func:`ratios_named_by_peers`; comparisons spoiled by a meter the peers found smoothed)
    is kept as info. ``ctx`` None: the enterprise had no context (no meters)."""
    findings = ratios_named_by_peers(findings)
    return findings if ctx is None else profile.smoothing_consequences_as_info(ctx, findings)


def ratios_named_by_peers(findings: list[Finding]) -> list[Finding]:
    """An enterprise's findings after the province checks: a parent / sub-meter rise whose
    side the peers named (a sub-meter found reading low under that parent,
    :mod:`~kilnwatch.verify.detectors.child_peers`) is explained by it and kept as info."""
    named = {
        (f.period, f.evidence.get("parent"))
        for f in findings
        if f.rule_code == balance.CHILD_LOW and f.severity != "info"
    }

    def explained(f: Finding) -> bool:
        return (
            f.rule_code == balance.PARENT_EXCEEDS and (f.period, f.evidence.get("parent")) in named
        )

    return explained_as_info(findings, explained, "a sub-meter reading low")


def _declared(check: Check, findings: list[Finding]) -> list[Finding]:
    """``findings``, after making sure the check emits only the codes it declares."""
    for f in findings:
        if f.rule_code not in check.emits:
            raise RuntimeError(f"{check.code} emitted {f.rule_code}, which it does not declare")
    return findings


def _without_explained_ratios(ctx: EnterpriseContext, findings: list[Finding]) -> list[Finding]:
    """A parent/sub-meter ratio change or an intensity drop over days where that meter (or a
    sub-meter) had readings re-sent with other values is explained by that correction,
    which is reported on its own."""
    corrected = [f for f in findings if f.rule_code == timeseries.CORRECTIONS]
    explainable = frozenset(CHECKS[balance.RATIO].emits) | {balance.INTENSITY}

    def explained(f: Finding) -> bool:
        if f.rule_code not in explainable or f.meter_id is None:
            return False
        related = {f.meter_id} | {c.info.id for c in ctx.children(f.meter_id)}
        return any(
            c.meter_id in related and c.start_at < f.end_at and f.start_at < c.end_at
            for c in corrected
        )

    return [f for f in findings if not explained(f)]


def _stuck_consequences_as_info(ctx: EnterpriseContext, findings: list[Finding]) -> list[Finding]:
    """A comparison that involves a stuck meter (its own shift, its parent's ratio, the
    reports or the grid against the entry meters of its carrier, no further off than its flat
    runs can misstate: :func:`_flat_share_bound`) differs because the meter
    repeats a value: the stuck meter is the finding; the consequences become informational.
    A smoothed finding stays: the smoothed check leaves the flat runs' hours out
    (:func:`~kilnwatch.verify.detectors.profile.flat_hours`), so its days are smoothing
    beyond them."""
    stuck_findings = [f for f in findings if f.rule_code == timeseries.STUCK]
    stuck = {f.meter_id for f in stuck_findings}
    stuck.discard(None)
    if not stuck:
        return findings
    findings = [_flat_run_hiding(ctx, f, findings) for f in findings]
    stuck_carriers = {
        ctx.meters[i].info.carrier
        for i in stuck
        if i is not None and i in ctx.meters and ctx.meters[i].info.level == "entry"
    }

    def involved(f: Finding) -> bool:
        if f.rule_code in (timeseries.STUCK, balance.CAPPED) or f.severity == "info":
            return False
        if "flat_run_value" in f.evidence:
            return False  # the consumption the flat run hides (:func:`_flat_run_hiding`)
        if f.rule_code == profile.SMOOTHED:
            return False  # judged without the flat runs' hours: the smoothing is the finding
        if f.meter_id is not None:
            related = {f.meter_id} | {c.info.id for c in ctx.children(f.meter_id)}
            return bool(related & stuck) or _reference_stuck(ctx, f, stuck_findings)
        item = str(f.evidence.get("item", ""))
        carrier = "electricity" if f.rule_code.startswith("verify.electricity.") else None
        carrier = item.partition(":")[2] if item.startswith("energy:") else carrier
        if carrier not in stuck_carriers or carrier is None:
            return False
        off = abs(f.magnitude_fraction) if f.magnitude_fraction is not None else 0.0
        return off <= _flat_share_bound(ctx, carrier, stuck)

    return explained_as_info(findings, involved, "a stuck meter")


def _reference_stuck(ctx: EnterpriseContext, f: Finding, stuck: list[Finding]) -> bool:
    """An intensity drop over days on which one of the meter's references (its unit's
    product meter, else its process's other carriers) repeated a value: the ratio moved with
    the stuck reference (a product meter stuck in a busy hour reads high, the energy per
    product drops), not with the meter."""
    if f.rule_code != balance.INTENSITY or f.meter_id not in ctx.meters:
        return False
    refs = {r.info.id for r in balance.references(ctx, ctx.meters[f.meter_id])}
    return any(
        s.meter_id in refs and s.start_at < f.end_at and f.start_at < s.end_at for s in stuck
    )


def _flat_share_bound(ctx: EnterpriseContext, carrier: str, stuck: set[int | None]) -> float:
    """The most of the carrier's metered month the flat runs of its stuck entry meters can
    misstate, as a share of its entry meters' total: every flat interval at the meter's
    largest interval quantity of the month. A month comparison further off than that is not
    the stuck meter's doing (tuning sim base 71: a moving average repeating a value for 2.5 h
    'explained' coal reported 13.3 % below the meters)."""
    entry = ctx.by_level("entry", carrier)
    total = sum(m.total for m in entry)
    if total <= 0:
        return float("inf")
    misstated = 0.0
    for m in entry:
        if m.info.id not in stuck or m.qty.size == 0:
            continue
        intervals = sum(b - a for a, b in timeseries.flat_runs(ctx, m))
        misstated += intervals * float(np.nanmax(m.qty))
    return misstated / total


def _flat_run_hiding(ctx: EnterpriseContext, f: Finding, findings: list[Finding]) -> Finding:
    """A stuck meter's own intensity drop, kept as an integrity finding when the value of its
    longest flat run lies below all but ``flat_run_max_share_below`` of its own comparable
    at-load readings outside the drop
    (:func:`~kilnwatch.verify.detectors.balance.share_of_load_below`): its references ran on
    while it repeated a value below its usual at-load level, so it hides consumption whatever
    the cause (a meter clipped from mid-month sits at its cap as one run; a sensor stuck on
    one of its at-load readings does not lie below nearly all of them). The limit is the
    clip's own (:data:`~kilnwatch.verify.detectors.balance.CAPPED`): the drop is no second
    witness, a repeated low value lowers the energy per product by itself. Other findings are
    returned as they are."""
    if f.rule_code != balance.INTENSITY or f.meter_id is None or f.severity == "info":
        return f
    if not any(s.rule_code == timeseries.STUCK and s.meter_id == f.meter_id for s in findings):
        return f
    m = ctx.meters[f.meter_id]
    run = _longest_run_quantities(ctx, m)
    shift = balance.intensity_drops(ctx).get(f.meter_id)
    if shift is None or run is None:
        return f
    limit = ctx.settings.value(balance.CAPPED, "flat_run_max_share_below")
    share = balance.share_of_load_below(ctx, m, run, (shift.start_day, shift.end_day))
    if share > limit or balance.frozen_on_reading(ctx, m, run):
        return f
    value = float(m.qty[run[0]])
    evidence = {
        **f.evidence,
        "flat_run_value": value,
        "share_of_load_readings_below": rounded(share),
    }
    message = f"{f.message} (a flat run at {human(value)}: below its own at-load readings)"
    return replace(f, evidence=evidence, message=message)


def _longest_run_quantities(ctx: EnterpriseContext, m: MeterData) -> tuple[int, int] | None:
    """The meter's quantities (first, last index) over its longest flat run
    (:func:`~kilnwatch.verify.detectors.timeseries.flat_runs`: readings of its own grid), or
    None."""
    runs = timeseries.flat_runs(ctx, m)
    if not runs:
        return None
    a, b = max(runs, key=lambda r: r[1] - r[0])
    ts = m.series.ts_s
    inside = np.flatnonzero((m.ts_q >= ts[a]) & (m.ts_q <= ts[b]))
    return (int(inside[0]), int(inside[-1])) if inside.size else None


def _drops_beside_a_clip_as_info(ctx: EnterpriseContext, findings: list[Finding]) -> list[Finding]:
    """An intensity drop of one carrier's meter of a unit, over days on which a meter of
    another carrier of the same unit was found clipped (a ceiling or a flat run below its
    at-load level, :data:`~kilnwatch.verify.detectors.balance.CAPPED`, or a stuck meter's own
    drop hiding consumption), is kept as info: the clip is the stronger evidence, seen in the
    readings themselves, the drop only in a ratio whose references the same process moves (a
    busy or quiet stretch changes one carrier's energy per product while another is held at
    its ceiling); the unit's month is inspected from the clip rather than charged with a
    second fault of another meter."""

    def clip(f: Finding) -> bool:
        own_drop = f.rule_code == balance.INTENSITY and "flat_run_value" in f.evidence
        return f.severity != "info" and (f.rule_code == balance.CAPPED or own_drop)

    clips = [f for f in findings if clip(f) and f.meter_id in ctx.meters]

    def explained(f: Finding) -> bool:
        if f.rule_code != balance.INTENSITY or clip(f) or f.meter_id not in ctx.meters:
            return False
        m = ctx.meters[f.meter_id].info
        return m.unit_id is not None and any(
            (other := ctx.meters[c.meter_id].info).unit_id == m.unit_id
            and other.carrier != m.carrier
            and c.start_at < f.end_at
            and f.start_at < c.end_at
            for c in clips
            if c.meter_id is not None
        )

    return explained_as_info(findings, explained, "a meter of the same unit found clipped")


def _without_capped_repeats(findings: list[Finding]) -> list[Finding]:
    """A clipped meter repeats its cap; that is the cap, not a second (stuck) fault."""
    capped = {f.meter_id for f in findings if f.rule_code == balance.CAPPED}
    return [f for f in findings if not (f.rule_code == timeseries.STUCK and f.meter_id in capped)]
