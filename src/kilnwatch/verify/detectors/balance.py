"""Correlated meters: sub-meters vs their parent, energy per product, and clipped meters.

* A parent meter and the sum of its sub-meters keep a stable ratio (line losses, small
  unmetered loads). A lasting change of the daily ratio means one side reads wrong or a load
  behind the parent is undeclared.
* A unit's energy per product is stable from day to day; a lasting drop of one energy meter's
  daily intensity (against the unit's own product meter) is that meter reading low.
* A meter whose quantity repeats its own maximum over many at-load intervals is clipped; so is
  one held flat for whole days below its own at-load level while its process ran at load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kilnwatch.analytics.quantities import true_runs
from kilnwatch.analytics.readings import F64, I64
from kilnwatch.verify.check import METER_FAULTS, Check
from kilnwatch.verify.context import EnterpriseContext, MeterData
from kilnwatch.verify.detectors.shift import Shift, is_level, level_shift, window_change
from kilnwatch.verify.evidence import Tolerance, finding, rounded, tce_of, utc_at
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import VerifySettings

RATIO = "verify.submeter.ratio_shift"
INTENSITY = "verify.meter.intensity_drop"
CAPPED = "verify.meter.capped"
PARENT_EXCEEDS = "verify.submeter.parent_exceeds_children"
PARENT_BELOW = "verify.submeter.parent_below_children"
CHILD_LOW = "verify.submeter.child_reads_low"
FLOAT_DIGITS = 6  # register differences carry float noise far below this relative precision


@dataclass(frozen=True)
class ShiftSearch:
    """The level-shift parameters of a check (``min_days``, ``z_threshold``,
    ``min_shift_fraction``)."""

    min_days: int
    z_threshold: float
    min_shift_fraction: float

    @classmethod
    def of(cls, settings: VerifySettings, rule: str) -> ShiftSearch:
        return cls(
            settings.count(rule, "min_days"),
            settings.value(rule, "z_threshold"),
            settings.value(rule, "min_shift_fraction"),
        )

    def find(self, x: F64, prefer: str) -> Shift | None:
        return level_shift(x, self.min_days, self.z_threshold, self.min_shift_fraction, prefer)


def _days(ctx: EnterpriseContext, shift: Shift) -> dict[str, str]:
    return {
        "from": ctx.window.day_start(shift.start_day).isoformat(),
        "to": ctx.window.day_start(shift.end_day).isoformat(),
    }


def _comparable(*meters: MeterData) -> np.ndarray:
    ok = np.ones(meters[0].daily.size, dtype=bool)
    for m in meters:
        ok &= m.full_days() & (m.daily > 0)
    return ok


def intensity_drops(ctx: EnterpriseContext) -> dict[int, Shift]:
    """Energy meters of a unit whose daily energy per product drops for some days (computed
    once per context: the sub-meter check uses them too; none when the check is disabled)."""
    return ctx.derived(INTENSITY, lambda: _intensity_drops(ctx))


def _intensity_drops(ctx: EnterpriseContext) -> dict[int, Shift]:
    out: dict[int, Shift] = {}
    if not ctx.settings.enabled(INTENSITY):
        return out
    search = ShiftSearch.of(ctx.settings, INTENSITY)
    ctx.settings.value(INTENSITY, "at_load_fraction")  # read up front (:func:`_at_load`)
    ctx.settings.value(CAPPED, "flat_run_max_share_below")  # (checks: a flat run's drop)
    for m in ctx.meters.values():
        if m.info.is_product or m.info.measurement == "instant" or _judged_by_ratio(ctx, m):
            continue
        x = _intensity(ctx, m)
        shift = None if x is None else search.find(x, "low")
        if (
            shift is not None
            and shift.change_fraction < 0
            and _against_every_reference(ctx, m, shift)
            and not _fixed_part_spread(ctx, m, shift)
        ):
            out[m.info.id] = shift
    return _without_common_causes(ctx, out)


def _judged_by_ratio(ctx: EnterpriseContext, m: MeterData) -> bool:
    """A parent meter is judged against its sub-meters (the ratio check, which orients a
    shift by physics) unless it is a unit's meter with the unit's product meter: against
    other carriers or a product it does not belong to, a load behind it would show as the
    complement "drop" of the days before the load."""
    if not ctx.children(m.info.id):
        return False
    refs = references(ctx, m)
    return not (m.info.unit_id is not None and len(refs) == 1 and refs[0].info.is_product)


def _overlap(a: Shift, b: Shift) -> bool:
    return a.start_day < b.end_day and b.start_day < a.end_day


def _without_common_causes(ctx: EnterpriseContext, shifts: dict[int, Shift]) -> dict[int, Shift]:
    """Keep the drops that are one meter's own. When the meters linked to it (its parent, its
    sub-meters, or a meter of another carrier of the same unit) drop over the same days, the
    cause is common to them: the process (e.g. a retrofit) or the product meter, not a meter
    reading low."""
    kept = {}
    for meter_id, shift in shifts.items():
        m = ctx.meters[meter_id].info
        linked = [
            other
            for other_id, other in shifts.items()
            if other_id != meter_id
            and _overlap(shift, other)
            and (
                ctx.meters[other_id].info.parent_id == meter_id
                or m.parent_id == other_id
                or (
                    ctx.meters[other_id].info.unit_id == m.unit_id
                    and ctx.meters[other_id].info.carrier != m.carrier
                )
            )
        ]
        if not linked and not _parent_follows(ctx, meter_id, shift):
            kept[meter_id] = shift
    return kept


def _window_change(values: F64, ok: np.ndarray, shift: Shift) -> float | None:
    """Mean inside the shift's days minus mean outside, over comparable days."""
    days = np.arange(values.size)
    inside = ok & (days >= shift.start_day) & (days < shift.end_day)
    outside = ok & ~((days >= shift.start_day) & (days < shift.end_day))
    if not inside.any() or not outside.any():
        return None
    return float(values[inside].mean() - values[outside].mean())


def _parent_follows(ctx: EnterpriseContext, meter_id: int, shift: Shift) -> bool:
    """True when the parent meter (an independent measurement of the same flow) dropped by
    about as much as the meter itself against the same references: consumption really fell,
    the meter is not reading low.

    The parent measures the meter's flow plus its sibling sub-meters' (and losses): where
    every sibling is metered, what the parent reads beyond them is compared, so that another
    unit's own load changes (it follows its own output, not this meter's references) do not
    hide a fall that the parent shows (tuning sim plain 122: a retrofit saving 4.6 % of one
    power unit's coal from the 14th, the parent's drop offset by the other unit's rise)."""
    m = ctx.meters[meter_id]
    parent = ctx.meters.get(m.info.parent_id) if m.info.parent_id is not None else None
    refs = references(ctx, m)
    if parent is None or not refs:
        return False
    own_x, parent_x = _per_reference(ctx, m, refs), _per_reference(ctx, parent, refs)
    if own_x is None or parent_x is None:
        return False
    children = ctx.summable_children(parent)
    siblings = [c for c in children if c.info.id != meter_id]
    if siblings and len(siblings) < len(children):
        rest = [x for c in siblings if (x := _per_reference(ctx, c, refs)) is not None]
        if len(rest) == len(siblings):
            parent_x = parent_x - np.sum(rest, axis=0)  # NaN where a sibling is not comparable
    ok = np.isfinite(own_x) & np.isfinite(parent_x)  # both comparable, references at load
    own = _window_change(np.where(ok, own_x, 0.0), ok, shift)
    theirs = _window_change(np.where(ok, parent_x, 0.0), ok, shift)
    if own is None or theirs is None:
        return False
    return abs(theirs - own) < abs(theirs)


def share_of_load_below(
    ctx: EnterpriseContext, m: MeterData, run: tuple[int, int], days: tuple[int, int]
) -> float:
    """Share of the meter's own at-load readings outside the days ``[days[0], days[1])`` that
    lie below the value it holds over its quantities ``run[0] … run[1]`` (a flat run;
    readings equal to it left out), 1.0 when there is none.

    A meter repeating one value reads less than it measures when that value lies below what
    the meter reads at load: a sensor stuck on one of its own at-load readings lies below
    about as many of them as any reading does, a meter clipped below its usual at-load level
    lies below nearly all of them. Days at load are the meter's own (``at_load_fraction`` of
    its median full day): a stopped plant reads low without any fault. Where the references
    (:func:`references`) read at least hourly, only readings of hours at which they ran at
    least as high as at their lowest hour of the run are compared: hours a process starts or
    slows down read low without any fault, and a ceiling is held while its references run on
    above the level it was reached at (a sensor frozen on a reading of a quiet hour is compared
    with the busier hours that followed it only where those hours' references ran as low).
    """
    first, last = run
    value = float(m.qty[first])
    outside = _load_mask_outside(ctx, m, days)
    load = _reference_per_reading(ctx, m)
    if load is not None and np.isfinite(load[first : last + 1]).any():
        outside &= np.isfinite(load) & (load >= np.nanmin(load[first : last + 1]))
    q = m.qty[outside]
    q = q[np.abs(q - value) > value * 10.0**-FLOAT_DIGITS]
    return float((q < value).mean()) if q.size else 1.0


def frozen_on_reading(ctx: EnterpriseContext, m: MeterData, run: tuple[int, int]) -> bool:
    """True when the flat run over the meter's quantities ``run[0] … run[1]`` began as a
    reading of its own: the meter read above the value just before, and stepped down to it in
    step with its references (:func:`references`, hourly; the step's log ratio to theirs
    within ``frozen_entry_max_z`` robust standard deviations of the meter's own hour-to-hour
    log ratios to them at load). A meter read more often than hourly is not judged: its
    references' load is per clock hour (:func:`_reference_per_reading`), against which its
    quarter-hours' own variation would hide a clip's step (tuning sim plain 114: a coke meter
    read every 15 minutes, clipped 19.2 %, stepped down 14.9 % into its run, within three of
    those spreads).

    A clip reads min(measured, cap): in force before the run it would have held the reading
    before at or below the value, switched on at the run's start it steps the reading down
    below what its references explain. A sensor frozen on a reading repeats what it last
    measured, wherever the load goes afterwards: a repeated value entered this way is a
    monitoring fault, not consumption held under a ceiling.
    """
    first, _ = run
    load = _reference_per_reading(ctx, m)
    max_z = ctx.settings.value(CAPPED, "frozen_entry_max_z")
    if load is None or first < 1 or m.ts_q[first] - m.ts_q[first - 1] != m.step_s:
        return False
    if m.step_s < 3600:
        return False  # the references' load is per clock hour: it cannot resolve a finer step
    before, value = float(m.qty[first - 1]), float(m.qty[first])
    steps = load[first - 1 : first + 1]
    if not (np.isfinite(steps).all() and (steps > 0).all() and before > value > 0):
        return False
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(m.qty) - np.log(load)
    days = (int(m.ts_q[first]) - ctx.window.start_s) // 86_400
    ok = _load_mask_outside(ctx, m, (days, days + 1)) & np.isfinite(ratio)
    pair = ok[1:] & ok[:-1] & (np.diff(m.ts_q) == m.step_s)
    diffs = np.diff(ratio)[pair]
    if diffs.size < 24:
        return False
    spread = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs))))
    step = np.log(value / before) - np.log(steps[1] / steps[0])
    return bool(spread > 0 and abs(step - float(np.median(diffs))) <= max_z * spread)


def _load_readings_outside(ctx: EnterpriseContext, m: MeterData, days: tuple[int, int]) -> F64:
    """The meter's quantities on its own at-load days (``at_load_fraction`` of its median full
    day) outside the days ``[days[0], days[1])``."""
    out: F64 = m.qty[_load_mask_outside(ctx, m, days)]
    return out


def _load_mask_outside(ctx: EnterpriseContext, m: MeterData, days: tuple[int, int]) -> np.ndarray:
    """Per quantity of ``m``: True on its own at-load days outside ``[days[0], days[1])``
    (:func:`_load_readings_outside`)."""
    fraction = ctx.settings.value(INTENSITY, "at_load_fraction")
    day = (m.ts_q - 1 - ctx.window.start_s) // 86_400
    inside = (day >= 0) & (day < m.daily.size)
    loaded = np.zeros(m.qty.size, dtype=bool)
    loaded[inside] = m.at_load_days(fraction)[day[inside]]
    loaded &= ((day < days[0]) | (day >= days[1])) & np.isfinite(m.qty)
    return loaded


def check_intensity(ctx: EnterpriseContext) -> list[Finding]:
    """One finding per energy meter whose energy per product (or per its other references,
    :func:`references`) dropped (its own drop)."""
    out = []
    for meter_id, shift in intensity_drops(ctx).items():
        m = ctx.meters[meter_id]
        days = _days(ctx, shift)
        refs = references(ctx, m)
        per = "product" if refs[0].info.is_product else "/".join(r.info.code for r in refs)
        lost = -shift.change_fraction * float(m.daily[shift.start_day : shift.end_day].sum())
        evidence = {
            "meter": m.info.code,
            "change_fraction": rounded(shift.change_fraction),
            "robust_z": rounded(shift.z, 2),
            "references": [r.info.code for r in refs],
            **days,
            "daily_quantity": [rounded(v, 3) for v in m.daily.tolist()],
        }
        out.append(
            finding(
                ctx,
                INTENSITY,
                f"{m.info.code}: energy per {per} {shift.change_fraction:+.1%} "
                f"from {days['from']} to {days['to']}",
                evidence,
                fraction=shift.change_fraction,
                meter=m.info,
                tce=tce_of(m.info.carrier, lost / (1 + shift.change_fraction), m.info.uom),
                start_at=ctx.window.day_start(shift.start_day),
                end_at=ctx.window.day_start(shift.end_day),
            )
        )
    return out


@dataclass(frozen=True)
class Attribution:
    """When a ratio rise is put on one sub-meter (``attribution_z``,
    ``min_explained_fraction``)."""

    z_min: float
    min_explained_fraction: float

    @classmethod
    def of(cls, settings: VerifySettings) -> Attribution:
        return cls(
            settings.value(RATIO, "attribution_z"),
            settings.value(RATIO, "min_explained_fraction"),
        )


def check_submeters(ctx: EnterpriseContext) -> list[Finding]:
    """Parent vs sum of children, per parent meter with at least one child; a rise explained
    by a child's own intensity drop (:func:`intensity_drops`) is that child's finding."""
    search = ShiftSearch.of(ctx.settings, RATIO)
    attribution = Attribution.of(ctx.settings)
    tolerance = Tolerance.of(ctx.settings, RATIO)
    child_shifts = intensity_drops(ctx)
    out = []
    for parent in ctx.meters.values():
        children = ctx.summable_children(parent)
        if not children:
            continue
        ok = _comparable(parent, *children)
        kids = np.sum([c.daily for c in children], axis=0)
        x = np.where(ok, parent.daily / np.where(kids > 0, kids, 1.0), np.nan)
        shift = search.find(x, "short")
        if shift is not None:
            meters = (parent, *children)
            error = tolerance.combined_error(m.info.accuracy_pct for m in meters)
            shift = oriented_by_losses(x, shift, error)
        if shift is None or _explained(shift, children, child_shifts):
            continue
        culprit = _child_reading_low(ctx, attribution, children, (kids, ok), shift)
        if culprit is not None:
            out.append(_child_finding(ctx, parent, *culprit, shift))
        else:
            out.append(_ratio_finding(ctx, parent, children, shift))
    return out


def oriented_by_losses(x: F64, shift: Shift, tolerance: float) -> Shift:
    """The abnormal side of a ratio shift that splits the month in two, by physics rather
    than by length: a parent meter never reads less than its sub-meters (the difference is
    losses, ≥ 0), so a side whose ratio parent / Σ sub-meters is below 1 − ``tolerance`` (the
    meters' combined maximum permissible error: meters within their classes cannot read that
    far below; tuning sim base 113, a parent 3.2 % low from the 10th, 0.986 against 1.019
    before, was put on the first nine days as a load behind it while the bound was three
    times that error) is abnormal when the other is not; when both are, the lower side (the
    further from what is possible); otherwise the side with the higher ratio is (normal
    losses are the lower level: a load behind the parent or a sub-meter reading low raises
    it). A fault running to the month's end is often the longer side; but a short side at
    the month's end whose days are no level of their own (one odd last day next to normal
    ones, :func:`~kilnwatch.verify.detectors.shift.is_level`) is the anomaly, never the
    reference of a month-long "shift" (issue 12). The month's edges are its first and last
    comparable days: days without comparable data (a gap on the 1st) split nothing."""
    days = x.size
    comparable = np.flatnonzero(np.isfinite(x))
    if comparable.size == 0:
        return shift
    first, last = int(comparable[0]), int(comparable[-1]) + 1
    at_start, at_end = shift.start_day <= first, shift.end_day >= last
    if at_start == at_end:
        return shift  # inside the month: no contiguous complement to choose
    other = (shift.end_day, days) if at_start else (0, shift.start_day)
    inside = x[shift.start_day : shift.end_day]
    outside = x[other[0] : other[1]]
    if not np.isfinite(inside).any() or not np.isfinite(outside).any():
        return shift
    level_in, level_out = float(np.nanmean(inside)), float(np.nanmean(outside))
    impossible_in, impossible_out = level_in < 1 - tolerance, level_out < 1 - tolerance
    if impossible_in != impossible_out:
        abnormal_inside = impossible_in
    elif impossible_in:  # both below their sub-meters: the lower is the further from physics
        abnormal_inside = level_in < level_out
    else:  # a short side at the month's end that is one odd day is a month-end anomaly
        odd_end = at_end and not is_level(x, (shift.start_day, days), other)
        abnormal_inside = level_in > level_out or odd_end
    if abnormal_inside:
        return shift
    tested = window_change(x, *other)
    return shift if tested is None else Shift(other[0], other[1], tested[0], tested[1])


def references(ctx: EnterpriseContext, m: MeterData) -> list[MeterData]:
    """Independent daily measures of the activity the meter's quantity follows.

    The product meter of the meter's unit when it has one (energy per product). Without one,
    the meters of the other energy carriers of the same process: electricity, coal and gas
    of one process all follow its output, so a meter reading low shows as a drop against
    each of them while they keep their own ratios. The process is the meter's unit; an
    entry meter (no unit) is the process's only when the enterprise has a single unit. The
    meter's own carrier is never a reference (its parent and sub-meters are the meters
    under comparison). Empty when there is none, or several products (not comparable).
    """
    unit_id = m.info.unit_id
    if unit_id is None and len(ctx.info.units) == 1:
        unit_id = ctx.info.units[0].id
    if unit_id is None:
        return []
    products = ctx.product_meters(unit_id)
    if products:
        return products if len(products) == 1 else []
    single = len(ctx.info.units) == 1
    return [
        o
        for o in ctx.meters.values()
        if not o.info.is_product
        and o.info.measurement != "instant"
        and o.info.carrier != m.info.carrier
        and (o.info.unit_id == unit_id or (single and o.info.unit_id is None))
    ]


def _at_load(ctx: EnterpriseContext, r: MeterData) -> np.ndarray:
    """Days on which the reference ran at its usual load (at least ``at_load_fraction`` of its
    median full day): a process's fixed consumption (lighting, pumps, auxiliaries) does not
    follow its output, so on part-load days (an outage starting, production control) the
    ratios between its meters move without any meter reading wrong."""
    return r.at_load_days(ctx.settings.value(INTENSITY, "at_load_fraction"))


def _per_reference(ctx: EnterpriseContext, m: MeterData, refs: list[MeterData]) -> F64 | None:
    """Daily quantity of ``m`` per the geometric mean of ``refs`` on the days they all ran
    at load (NaN = not comparable)."""
    if not refs:
        return None
    ok = _comparable(m, *refs)
    for r in refs:
        ok &= _at_load(ctx, r)
    log_ref = np.mean([np.log(np.where(r.daily > 0, r.daily, 1.0)) for r in refs], axis=0)
    return np.where(ok, m.daily / np.exp(log_ref), np.nan)


def _intensity(ctx: EnterpriseContext, m: MeterData) -> F64 | None:
    """Daily quantity of the meter per its references (:func:`references`), or None."""
    return _per_reference(ctx, m, references(ctx, m))


def _fixed_and_variable(ctx: EnterpriseContext, m: MeterData, shift: Shift) -> F64 | None:
    """Daily quantity of ``m`` over what a fixed + variable model of it predicts from its
    references (:func:`references`, their geometric mean ``r``) on the days they all ran at
    load (NaN = not comparable), or None when the model has no fixed part.

    A process's consumption is a fixed part (auxiliaries, lighting, idle losses, radiation)
    plus a part proportional to its output, E = a + b·r (the energy baseline of ISO
    50006:2014, normalised by its relevant variable, here the output): on busy days the fixed
    part is spread over more output and the energy per output falls while every meter reads
    right. The model is fitted by least squares outside ``shift`` (the days under suspicion
    would fit a meter reading low on busy days as a large fixed part), over the clock hours
    of the at-load days when the meter and its references read at least hourly (the load
    varies more from hour to hour than from day to day, which tells the fixed part from the
    proportional one), else over those days (at least three points either way); a fit with a
    negative fixed part or slope is no fixed + variable relation (noise, output too steady
    to tell), and None is returned: the plain ratio stands.
    """
    refs = references(ctx, m)
    if not refs:
        return None
    ok = _comparable(m, *refs)
    for r in refs:
        ok &= _at_load(ctx, r)
    days = np.arange(ok.size)
    fit_days = ok & ((days < shift.start_day) | (days >= shift.end_day))
    r_daily = np.exp(np.mean([np.log(np.where(r.daily > 0, r.daily, 1.0)) for r in refs], axis=0))
    hourly = _hourly_pairs(ctx, m, refs, fit_days)
    if hourly is not None and hourly[0].size >= 3:
        line = _line_fit(hourly[1], hourly[0])
        line = None if line is None else (line[0], line[1] * 24.0)  # a day's fixed part
    elif fit_days.sum() >= 3:
        line = _line_fit(r_daily[fit_days], m.daily[fit_days])
    else:
        return None
    # a product reference: E = a + b·output, a > 0; another carrier with the larger fixed
    # part (electricity beside a fuel) leaves a negative intercept against it
    product = refs[0].info.is_product
    if line is None or not (line[0] > 0 and (line[1] > 0 or not product)):
        return None
    predicted = line[1] + line[0] * r_daily
    if not (predicted[ok] > 0).all():
        return None
    return np.where(ok, m.daily / predicted, np.nan)


def _line_fit(x: F64, y: F64) -> tuple[float, float] | None:
    """Least-squares (slope, intercept) of ``y`` on ``x``, None when ``x`` does not vary."""
    dx = x - x.mean()
    spread = float((dx * dx).sum())
    if spread <= 0:
        return None
    slope = float((dx * (y - y.mean())).sum()) / spread
    return slope, float(y.mean()) - slope * float(x.mean())


def _hourly_pairs(
    ctx: EnterpriseContext, m: MeterData, refs: list[MeterData], days: np.ndarray
) -> tuple[F64, F64] | None:
    """The meter's quantity and its references' geometric mean over each full clock hour of
    ``days`` (every meter covering the hour), or None when one reads less often than
    hourly."""
    if any(not 0 < x.step_s <= 3600 for x in (m, *refs)):
        return None
    hours, own = _hour_totals(m)
    load = _references_at_hours(refs, hours)
    if load is None:
        return None
    day = (hours * 3600 - ctx.window.start_s) // 86_400
    inside = (day >= 0) & (day < days.size)
    keep = np.zeros(hours.size, dtype=bool)
    keep[inside] = days[day[inside]]
    keep &= np.isfinite(load) & (own > 0)
    return own[keep], load[keep]


def _references_at_hours(refs: list[MeterData], hours: I64) -> F64 | None:
    """The geometric mean of the references' quantities over each clock hour of ``hours``
    (epoch hours; NaN where a reference does not cover the hour fully or drew nothing), or
    None when a reference covers no hour at all."""
    logs = np.zeros(hours.size)
    for r in refs:
        r_hours, totals = _hour_totals(r)
        if r_hours.size == 0:
            return None
        at = np.clip(np.searchsorted(r_hours, hours), 0, r_hours.size - 1)
        found = (r_hours[at] == hours) & (totals[at] > 0)
        logs += np.where(found, np.log(np.where(found, totals[at], 1.0)), np.nan)
    out: F64 = np.exp(logs / len(refs))
    return out


def _hour_totals(m: MeterData) -> tuple[I64, F64]:
    """The clock hours (epoch hour of each interval's end minus one second) the meter covers
    with all its readings, and its quantity in each."""
    ok = np.isfinite(m.qty)
    hours, index = np.unique((m.ts_q[ok] - 1) // 3600, return_inverse=True)
    totals = np.bincount(index, weights=m.qty[ok], minlength=hours.size).astype(np.float64)
    full = np.bincount(index, minlength=hours.size) >= 3600 // m.step_s
    return hours[full], totals[full]


def _fixed_part_spread(ctx: EnterpriseContext, m: MeterData, shift: Shift) -> bool:
    """A drop of the meter's energy per reference that its fixed + variable model
    (:func:`_fixed_and_variable`) explains: against what the model predicts from the output
    of the same days, what is left of it fails the drop's own test (less than
    ``min_shift_fraction``, or a robust z short of ``z_threshold``). What is left is judged,
    not its share of the drop: a meter reading 8 % low over a slow week whose fixed part
    lowers the ratio by 9 % keeps less than half the drop and is still a drop."""
    y = _fixed_and_variable(ctx, m, shift)
    tested = None if y is None else window_change(y, shift.start_day, shift.end_day)
    if tested is None:
        return False
    search = ShiftSearch.of(ctx.settings, INTENSITY)
    return tested[0] > -search.min_shift_fraction or tested[1] > -search.z_threshold


def _against_every_reference(ctx: EnterpriseContext, m: MeterData, shift: Shift) -> bool:
    """A drop is the meter's own only when it shows against each reference on its own (by at
    least half the change against all): with two or more references, a drop against one of
    them alone is that reference reading high, or its own process changing."""
    refs = references(ctx, m)
    if len(refs) < 2:
        return True
    for r in refs:
        x = _per_reference(ctx, m, [r])
        tested = None if x is None else window_change(x, shift.start_day, shift.end_day)
        if tested is None or tested[0] > shift.change_fraction / 2:
            return False
    return True


def _child_reading_low(
    ctx: EnterpriseContext, attribution: Attribution, children: list[MeterData],
    daily: tuple[F64, np.ndarray], shift: Shift,
) -> tuple[MeterData, float, float] | None:  # fmt: skip
    """The sub-meter whose own energy per product dropped over the days the parent / children
    ratio rose, by enough to explain that rise: the sub-meter reads low, the parent is right.

    A load behind the parent leaves the sub-meters' intensities unchanged; a sub-meter reading
    low by f lowers its own intensity by f and raises the ratio by about f x its share.
    ``daily``: the children's summed daily quantities and the comparable days.
    Returns (meter, its change, its z) or None.
    """
    if shift.change_fraction <= 0:
        return None
    kids, ok = daily
    best: tuple[MeterData, float, float] | None = None
    for c in children:
        x = _intensity(ctx, c)
        tested = None if x is None else window_change(x, shift.start_day, shift.end_day)
        if tested is None or tested[0] >= 0 or -tested[1] < attribution.z_min:
            continue
        share = float(c.daily[ok].sum() / max(kids[ok].sum(), 1e-12))
        explained = -tested[0] * share / (1.0 + tested[0])
        enough = explained >= attribution.min_explained_fraction * shift.change_fraction
        if enough and (best is None or tested[1] < best[2]):
            best = (c, tested[0], tested[1])
    return best


def _child_finding(
    ctx: EnterpriseContext, parent: MeterData, child: MeterData, change: float, z: float,
    shift: Shift,
) -> Finding:  # fmt: skip
    days = _days(ctx, shift)
    evidence = {
        "meter": child.info.code,
        "parent": parent.info.code,
        "ratio_change_fraction": rounded(shift.change_fraction),
        "ratio_robust_z": rounded(shift.z, 2),
        "own_intensity_change_fraction": rounded(change),
        "own_intensity_robust_z": rounded(z, 2),
        **days,
        "daily_quantity": [rounded(v, 3) for v in child.daily.tolist()],
        "parent_daily": [rounded(v, 3) for v in parent.daily.tolist()],
    }
    lost = -change * float(child.daily[shift.start_day : shift.end_day].sum())
    return finding(
        ctx,
        CHILD_LOW,
        f"{child.info.code}: reads {-change:.1%} low from {days['from']} to {days['to']} "
        f"(its energy per product dropped while {parent.info.code} did not; parent / "
        f"sub-meters ratio {shift.change_fraction:+.1%})",
        evidence,
        fraction=change,
        meter=child.info,
        tce=tce_of(child.info.carrier, lost / (1 + change), child.info.uom),
        start_at=ctx.window.day_start(shift.start_day),
        end_at=ctx.window.day_start(shift.end_day),
    )


def _explained(shift: Shift, children: list[MeterData], child_shifts: dict[int, Shift]) -> bool:
    """A rise of the ratio is explained by a child found reading low over the same days."""
    if shift.change_fraction < 0:
        return False
    return any(
        (s := child_shifts.get(c.info.id)) is not None
        and s.start_day < shift.end_day
        and shift.start_day < s.end_day
        for c in children
    )


def _ratio_finding(
    ctx: EnterpriseContext, parent: MeterData, children: list[MeterData], shift: Shift
) -> Finding:
    up = shift.change_fraction > 0
    code = PARENT_EXCEEDS if up else PARENT_BELOW
    days = _days(ctx, shift)
    evidence = {
        "parent": parent.info.code,
        "children": [c.info.code for c in children],
        "change_fraction": rounded(shift.change_fraction),
        "robust_z": rounded(shift.z, 2),
        **days,
        "parent_daily": [rounded(v, 3) for v in parent.daily.tolist()],
        "children_daily": [rounded(v, 3) for v in np.sum([c.daily for c in children], axis=0)],
    }
    what = "undeclared load or sub-meters reading low" if up else "parent meter reading low"
    return finding(
        ctx,
        code,
        f"{parent.info.code} vs its sub-meters: ratio {shift.change_fraction:+.1%} ({what})",
        evidence,
        fraction=shift.change_fraction,
        meter=parent.info,
        start_at=ctx.window.day_start(shift.start_day),
        end_at=ctx.window.day_start(shift.end_day),
    )


@dataclass(frozen=True)
class FlatCap:
    """A meter's quantity held at one ``value`` from reading ``first`` to reading ``last``
    (indices of its quantities), over whole days ``[start_day, end_day)``; ``share_below``:
    the share of its own at-load readings outside those days that lie below the value."""

    value: float
    first: int
    last: int
    start_day: int
    end_day: int
    share_below: float


def flat_caps(ctx: EnterpriseContext) -> dict[int, FlatCap]:
    """Energy meters held flat below their own at-load level (at most
    ``flat_run_max_share_below`` of their at-load readings outside the run below the value)
    while their process ran at load (:func:`_flat_cap`)."""
    out: dict[int, FlatCap] = {}
    limit = ctx.settings.value(CAPPED, "flat_run_max_share_below")
    ctx.settings.value(CAPPED, "frozen_entry_max_z")  # read up front (:func:`frozen_on_reading`)
    for m in ctx.meters.values():
        energy = tce_of(m.info.carrier, 1.0, m.info.uom) is not None
        if m.info.is_product or m.info.measurement == "instant" or not energy:
            continue
        cap = _flat_cap(ctx, m)
        if cap is None or cap.share_below > limit:
            continue
        if not frozen_on_reading(ctx, m, (cap.first, cap.last)):
            out[m.info.id] = cap
    return out


def _flat_cap(ctx: EnterpriseContext, m: MeterData) -> FlatCap | None:
    """The meter's longest run of one positive quantity (float noise of register differences
    rounded away) that covers whole days on each of which every reference of the meter
    (:func:`references`: its unit's product meter, else its process's other carriers) ran at
    load (``at_load_fraction`` of its median full day), or None.

    A sensor stuck on a reading repeats one of its own at-load readings; a meter clipped below
    its usual at-load level while the process ran on holds a value that lies below nearly all
    of them (``share_below``, :func:`share_of_load_below`): the consumption above it is not
    metered, whatever the run's length (one run when the load never fell below the cap, which
    the ceiling search :func:`_ceiling` leaves to the stuck check).
    """
    refs = references(ctx, m)
    finite = np.isfinite(m.qty)
    if not refs or m.step_s <= 0 or not (finite & (m.qty > 0)).any():
        return None
    top = float(m.qty[finite].max())
    q = np.where(finite, np.round(m.qty / top, FLOAT_DIGITS), np.nan)
    same = (np.diff(q) == 0) & (q[1:] > 0) & (np.diff(m.ts_q) == m.step_s)
    starts, ends = true_runs(same)
    long = m.ts_q[ends] - m.ts_q[starts] + m.step_s >= 86_400  # may cover a whole day
    starts, ends = starts[long], ends[long]
    if starts.size == 0:
        return None
    at_load = np.ones(m.daily.size, dtype=bool)
    for r in refs:
        at_load &= _at_load(ctx, r)
    best: FlatCap | None = None
    for a, b in zip(starts, ends, strict=True):  # readings a … b hold one value
        # whole days: the day of each reading is that of its interval's end minus one second
        start_day = -(-(int(m.ts_q[a]) - m.step_s - ctx.window.start_s) // 86_400)
        end_day = (int(m.ts_q[b]) - ctx.window.start_s) // 86_400
        start_day, end_day = max(start_day, 0), min(end_day, m.daily.size)
        if end_day <= start_day or not at_load[start_day:end_day].all():
            continue
        if best is None or b - a > best.last - best.first:
            share = share_of_load_below(ctx, m, (int(a), int(b)), (start_day, end_day))
            best = FlatCap(float(m.qty[a]), int(a), int(b), start_day, end_day, share)
    return best


def check_capped(ctx: EnterpriseContext) -> list[Finding]:
    """Energy meters whose at-load quantities pile up at a ceiling (:func:`_ceiling`), or
    that were held flat below their own at-load level while their process ran at load
    (:func:`flat_caps`)."""
    out = []
    min_share = ctx.settings.value(CAPPED, "min_share")
    min_count = ctx.settings.count(CAPPED, "min_count")
    resolution = ctx.settings.value(CAPPED, "relative_resolution_fraction")
    spike = (
        ctx.settings.value(CAPPED, "min_spike_ratio"),
        ctx.settings.value(CAPPED, "spike_band_fraction"),
    )
    min_rank = ctx.settings.value(CAPPED, "min_reference_rank")
    flat = flat_caps(ctx)
    for m in ctx.meters.values():
        positive = np.isfinite(m.qty) & (m.qty > 0)
        q = m.qty[positive]
        if m.info.is_product or m.info.measurement == "instant" or q.size < min_count:
            continue
        energy = tce_of(m.info.carrier, 1.0, m.info.uom) is not None
        loaded = _on_reference_load_days(ctx, m)[positive]
        load = _reference_per_reading(ctx, m)
        rising = None if load is None else (load[positive], min_rank)
        found = _ceiling(q, resolution, min_count, min_share, spike, energy, loaded, rising)
        if found is None:
            cap = flat.get(m.info.id)
            if cap is not None:
                out.append(_flat_cap_finding(ctx, m, cap))
            continue
        top, at_max, share = found
        count = int(at_max.sum())
        ts = m.ts_q[positive][at_max]
        evidence = {
            "meter": m.info.code,
            "maximum": rounded(top, 4),
            "readings_at_maximum": count,
            "share_of_at_load_readings": rounded(share),
        }
        out.append(
            finding(
                ctx,
                CAPPED,
                f"{m.info.code}: {count} readings stuck at the maximum {top:g} {m.info.uom}",
                evidence,
                fraction=share,
                meter=m.info,
                severity="high",
                start_at=utc_at(int(ts.min()) - m.step_s),
                end_at=utc_at(int(ts.max())),
            )
        )
    return out


def _flat_cap_finding(ctx: EnterpriseContext, m: MeterData, cap: FlatCap) -> Finding:
    """The finding of a meter held flat below its own at-load level (:func:`flat_caps`); its
    fraction is the share of its usual at-load reading (the median outside the run) the cap
    leaves unmetered, its tce that share over the run's readings (the process ran at load)."""
    outside = _load_readings_outside(ctx, m, (cap.start_day, cap.end_day))
    usual = float(np.median(outside)) if outside.size else cap.value
    hidden = 1.0 - cap.value / usual
    count = cap.last - cap.first + 1
    hours = (int(m.ts_q[cap.last]) - int(m.ts_q[cap.first]) + m.step_s) / 3600
    evidence = {
        "meter": m.info.code,
        "basis": "flat_run",
        "maximum": rounded(cap.value, 4),
        "readings_at_maximum": count,
        "share_of_at_load_readings": 1.0,
        "flat_run_hours": rounded(hours, 1),
        "share_of_load_readings_below": rounded(cap.share_below),
        "usual_fraction_unmetered": rounded(hidden),
        "references": [r.info.code for r in references(ctx, m)],
        "from": ctx.window.day_start(cap.start_day).isoformat(),
        "to": ctx.window.day_start(cap.end_day).isoformat(),
    }
    return finding(
        ctx,
        CAPPED,
        f"{m.info.code}: held at {cap.value:g} {m.info.uom} over {hours:.0f} h while its "
        f"process ran at load, below {1 - cap.share_below:.0%} of its own at-load readings "
        f"(about {hidden:.1%} of its usual reading not metered)",
        evidence,
        fraction=hidden,
        meter=m.info,
        tce=tce_of(m.info.carrier, (usual - cap.value) * count, m.info.uom),
        severity="high",
        start_at=utc_at(int(m.ts_q[cap.first]) - m.step_s),
        end_at=utc_at(int(m.ts_q[cap.last])),
    )


def _ceiling(
    q: F64,
    resolution: float,
    min_count: int,
    min_share: float,
    spike: tuple[float, float],
    energy: bool,
    on_load_days: np.ndarray,
    rising: tuple[F64, float] | None = None,
) -> tuple[float, np.ndarray, float] | None:
    """The value at which a meter's positive quantities ``q`` pile up as a ceiling, the
    readings at it and their share, or None.

    The meter's maximum, reached by at least ``min_count`` readings making ``min_share`` of
    its readings at or above its median (a meter clipped all month). Else the value
    repeated most often, over the longest stretch of readings none of which exceeds it,
    when the meter left it for lower readings and came back to it exactly within that
    stretch: a meter clipped from some time on (its month's maximum is from before) follows
    the load below its cap and returns to the same cap, while a sensor stuck on one value
    repeats it in one run. The share is then of the readings from the first to the last at
    the value; a ceiling piles up the readings that would lie above it, so it holds at least
    ``spike`` = (``min_spike_ratio``, ``spike_band_fraction``) ratio times the readings of
    the band just below it, where a smooth or coarsely rounded series that merely crosses
    a value holds about as many or more; a meter with no reading anywhere in that band does
    not resolve it, and only an ``energy`` meter (a carrier with a GB/T 2589 coefficient) is
    judged so. Only the readings at that value on days its references ran at load
    (``on_load_days``, :func:`_on_reference_load_days`) count: a ceiling hides consumption when the
    process runs on above it, while a value repeated through an outage (a standby flow) hides
    nothing. Where the readings just below the value are too many for a pile-up (a ceiling at
    the meter's usual level, where its readings are densest), ``rising`` = (the references'
    quantity over each reading's hour, ``min_reference_rank``) can show it instead
    (:func:`_references_above`). A meter whose own
    resolution (:func:`_relative_resolution`) is coarser than
    ``resolution`` cannot tell a cap from its rounding steps and is not judged, but for a
    pile-up with at least ``min_spike_ratio`` of its steps in the band below the value (steps
    of at most ``spike_band_fraction`` / ``min_spike_ratio``): one step then holds at least
    ``min_spike_ratio`` times the readings of that many steps beside it, which rounding a
    series that merely crosses the value cannot do (a coal or coke meter read in t to three
    decimals, about 3 t an interval, has steps of about 3e-4).
    """
    top = float(q.max())
    at_max = q >= top * (1 - resolution)
    loaded = max(int((q >= float(np.median(q))).sum()), 1)
    if _relative_resolution(q, top) <= resolution and at_max.sum() >= min_count:
        if at_max.sum() / loaded >= min_share:
            return top, at_max, float(at_max.sum() / loaded)
    found = _ceiling_from_onset(q, resolution, spike, rising) if energy else None
    if found is None:
        return None
    cap, at_cap, piled = found
    step = _relative_resolution(q, cap)
    if step > resolution and not (piled and step <= spike[1] / spike[0]):
        return None
    at_cap = at_cap & on_load_days
    count = int(at_cap.sum())
    if count == 0:
        return None
    where = np.flatnonzero(at_cap)
    share = count / (int(where[-1]) - int(where[0]) + 1)
    return (cap, at_cap, share) if count >= min_count and share >= min_share else None


def _ceiling_from_onset(
    q: F64, resolution: float, spike: tuple[float, float], rising: tuple[F64, float] | None = None
) -> tuple[float, np.ndarray, bool] | None:
    """The most repeated value of ``q``, its readings within the stretch (between readings
    above it) that holds most of them and whether they pile up, when that stretch has lower
    readings between two of them, the value is held in at least two runs of two readings or
    more, and ``spike`` (ratio, band) holds: at least ratio times as many readings at the
    value (within ``resolution``) as in the band of that relative width just below it (a
    pile-up, see :func:`_ceiling`), or else the references rise above it (``rising``,
    :func:`_references_above`); None otherwise."""
    scale = float(q.max())
    rounded_q = np.round(q / scale, FLOAT_DIGITS)
    values, counts = np.unique(rounded_q, return_counts=True)
    cap = float(np.median(q[rounded_q == values[np.argmax(counts)]]))  # as read, not rescaled
    near = np.abs(q - cap) <= cap * resolution
    stretch = np.cumsum(q > cap * (1 + resolution))  # a new stretch after each reading above
    best = np.bincount(stretch[near]).argmax() if near.any() else 0
    at_cap = near & (stretch == best)
    where = np.flatnonzero(at_cap)
    if where.size < 2:
        return None
    between = q[where[0] : where[-1] + 1]
    band = (q >= cap * (1 - spike[1])) & (q < cap * (1 - resolution))
    if not band.any():
        return None  # the meter does not resolve the band below the value (coarse steps)
    below = band[where[0] : where[-1] + 1]
    piled = at_cap.sum() >= spike[0] * max(int(below.sum()), 1)
    lower = np.zeros(q.size, dtype=bool)
    lower[where[0] : where[-1] + 1] = between < cap * (1 - resolution)
    if not piled and (
        rising is None
        or not _references_above(rising, at_cap, lower)
        or not _above_at_matching_load(q, rising, at_cap, cap * (1 + resolution))
    ):
        return None  # no pile-up: as many readings just below (a smooth or coarse series)
    starts, ends = true_runs(at_cap)
    lengths = ends - starts
    if (lengths >= 2).sum() < 2:
        return None  # one run at the value (a stuck sensor), stray readings near it aside
    return (cap, at_cap, bool(piled)) if (between < cap * (1 - resolution)).any() else None


def _references_above(rising: tuple[F64, float], at_cap: np.ndarray, lower: np.ndarray) -> bool:
    """True when the references ran higher at the readings at a candidate ceiling
    (``at_cap``) than at the meter's lower readings of the same stretch (``lower``): the
    probability that the references' quantity of an hour at the value exceeds that of an hour
    below it (ties half, a Mann-Whitney statistic) is at least ``rising[1]``.

    A meter that follows its process's load reaches a ceiling in its busiest hours and
    reads below it in the others, so the hours at the ceiling are those the references
    (:func:`references`) read highest (near 1); a sensor stuck on a value, or a value a
    series merely crosses, lies at any load (about 0.5).
    """
    load, min_rank = rising
    a, b = load[at_cap & np.isfinite(load)], load[lower & np.isfinite(load)]
    if a.size < 2 or b.size < 2:
        return False
    above = (a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean()
    return bool(above >= min_rank)


def _above_at_matching_load(
    q: F64, rising: tuple[F64, float], at_cap: np.ndarray, above: float
) -> bool:
    """True when, outside the stretch of a candidate ceiling (before its first reading at the
    value or after its last), the meter read above the value (``above``: beyond its
    resolution) in at least ``rising[1]`` of the hours at which its references ran at least
    as high as at the median hour at the value, or when it has no such hour.

    A meter clipped from some time on read more than its cap before, whenever its process
    ran as high as in the hours at the cap. A process held at its own capacity (a kiln or
    furnace at its rated output) reads flat on every meter at once: its references are at
    their top in the hours at the value as well, and in the other hours at that load the
    meter reads about the same value, as often below it as above (about 0.5).
    """
    load, min_rank = rising
    where = np.flatnonzero(at_cap)
    level = np.nanmedian(load[at_cap]) if np.isfinite(load[at_cap]).any() else np.nan
    if not np.isfinite(level):
        return True
    outside = np.ones(q.size, dtype=bool)
    outside[where[0] : where[-1] + 1] = False
    matching = outside & np.isfinite(load) & (load >= level)
    if not matching.any():
        return True
    return bool((q[matching] > above).mean() >= min_rank)


def _reference_per_reading(ctx: EnterpriseContext, m: MeterData) -> F64 | None:
    """Per quantity of ``m``: the geometric mean of its references' (:func:`references`)
    quantities over the clock hour the quantity's interval ends in (NaN when a reference
    does not cover that hour fully); None when the meter or a reference reads less often
    than hourly, or it has none."""
    refs = references(ctx, m)
    if not refs or not 0 < m.step_s <= 3600 or any(not 0 < r.step_s <= 3600 for r in refs):
        return None
    return _references_at_hours(refs, (m.ts_q - 1) // 3600)


def _on_reference_load_days(ctx: EnterpriseContext, m: MeterData) -> np.ndarray:
    """Per quantity of ``m``: True when it lies on a day every reference of the meter
    (:func:`references`) ran at load (:func:`_at_load`), or when it has none (not judged)."""
    refs = references(ctx, m)
    day = (m.ts_q - 1 - ctx.window.start_s) // 86_400
    if not refs:
        return np.ones(m.qty.size, dtype=bool)
    at_load = np.ones(m.daily.size, dtype=bool)
    for r in refs:
        at_load &= _at_load(ctx, r)
    inside = (day >= 0) & (day < at_load.size)
    out = np.zeros(m.qty.size, dtype=bool)
    out[inside] = at_load[day[inside]]
    return out


def _relative_resolution(q: F64, top: float) -> float:
    """Smallest step between distinct quantities relative to ``top`` (the meter's effective
    resolution; float noise of register differences is rounded away first)."""
    steps = np.diff(np.unique(np.round(q / top, FLOAT_DIGITS)))
    return float(steps.min()) if steps.size else float("inf")


INTENSITY_CHECK = Check(INTENSITY, "integrity", {INTENSITY: METER_FAULTS}, run=check_intensity)
RATIO_CHECK = Check(
    RATIO,
    "integrity",
    {PARENT_EXCEEDS: ("submeter_mismatch",), PARENT_BELOW: METER_FAULTS, CHILD_LOW: METER_FAULTS},
    run=check_submeters,
    shared=Tolerance.PARAMETERS,
)
CAPPED_CHECK = Check(CAPPED, "integrity", {CAPPED: ("meter_capped",)}, run=check_capped)
