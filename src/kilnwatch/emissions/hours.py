"""Valid hours, hourly emission amounts and their substitution, after HJ 75-2017.

An analyser's readings are grouped by clock hour: a reading stamped ``ts`` closes the interval
ending at ``ts`` and belongs to the hour ``(h, h + 1 h]`` (HJ 212 stores the period end,
docs/hj212.md). For one pollutant of one stack an hour is

* **stopped** (停运) when at least half of the concentration analyser's expected readings carry
  a stop flag (``F``): the source is not emitting; no amount is counted and the hour is not in
  the capture rate;
* **valid** when the concentration and the flue-gas flow each have at least
  ``min_valid_fraction_per_hour`` of their expected readings with a valid flag (``N``, or no
  flag from sources that send none): HJ 75-2017 valid hourly mean (有效小时均值); the
  readings expected in an hour are one hour over the analyser's usual interval, the median
  spacing of its consecutive readings within the same hour over the hours considered
  (:func:`kilnwatch.domain.emissions.median_step_s`);
* **invalid** otherwise (calibration ``C``, maintenance ``M``, fault ``D``, too few readings,
  nothing received).

Amounts: valid hour ``C × Q × 1 h`` (:func:`kilnwatch.domain.emissions.hourly_amount_kg`);
an invalid hour is substituted (修约) when the capture rate of the period is at least
``capture_min_pct``: the largest valid hourly amount among the ``lookback`` valid hours before
its run of invalid hours (180 / 720 / 2160 h by capture rate and run length); below that it
stays missing. Parameters: ``reference/emissions/validity.csv`` (HJ 75-2017 as implemented by
one platform; FACTS.md §1.1-1.2, confidence noted per row).

The rules work on each analyser's clock hours (:class:`~kilnwatch.domain.emissions.HourCounts`:
readings, valid and stop-flagged ones, their sums, the spacings within the hour), grouped from
the raw readings (:class:`Analyser`, verification) or read from the hourly rollup the store
keeps at ingest (``emission_hours``, :mod:`kilnwatch.store.rollups.emission_hours`: pages,
reports, API); both give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kilnwatch.domain.emissions import (
    HOUR_S,
    HourCounts,
    hour_counts,
    hourly_amount_kg,
    median_step_s,
    o2_corrected_mg_m3,
)
from kilnwatch.reference.emissions import load_validity_parameters

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
VALID, INVALID, STOPPED = 0, 1, 2
STATUS_NAMES = ("valid", "invalid", "stopped")


@dataclass(frozen=True)
class ValiditySettings:
    """HJ 75-2017 parameters (``validity.csv``)."""

    min_valid_fraction_per_hour: float
    capture_min_pct: float
    capture_high_pct: float
    run_short_h: int
    lookback_short_h: int
    lookback_long_h: int
    lookback_low_h: int
    history_days: int
    episode_gap_h: int
    low_capture_finding_pct: float

    @classmethod
    def packaged(cls) -> ValiditySettings:
        p = load_validity_parameters()
        ints = {"run_short_h", "lookback_short_h", "lookback_long_h", "lookback_low_h"}
        ints |= {"history_days", "episode_gap_h"}
        return cls(**{k: int(v) if k in ints else float(v) for k, v in p.items()})  # type: ignore[arg-type]

    def lookback_h(self, capture_pct: float, run_h: int) -> int:
        if capture_pct >= self.capture_high_pct:
            return self.lookback_short_h if run_h <= self.run_short_h else self.lookback_long_h
        return self.lookback_low_h


@dataclass(frozen=True)
class Analyser:
    """One analyser's readings: interval ends [epoch s], values [meter unit], HJ 212 flags."""

    ts_s: I64
    value: F64
    flag: NDArray[np.object_]

    def counts(self, start_s: int, n_hours: int) -> HourCounts:
        """The readings grouped into the hours ``(start_s + i h, start_s + (i + 1) h]``."""
        return hour_counts(self.ts_s, self.value, self.flag, start_s, n_hours)


def no_counts(n_hours: int) -> HourCounts:
    """The hours of an analyser without readings."""
    i, f = np.zeros(n_hours, dtype=np.int64), np.zeros(n_hours, dtype=np.float64)
    e = np.zeros(0, dtype=np.int64)
    return HourCounts(i, i, i, f, f, e, e, e)


@dataclass(frozen=True)
class HourlyMeans:
    """Per hour: mean of the valid readings (NaN when none), counts of valid and stop-flagged
    readings, and the readings expected in an hour."""

    mean: F64
    n_valid: I64
    n_stopped: I64
    expected: int


def means_of(c: HourCounts) -> HourlyMeans:
    """Hourly means, valid and stop-flagged counts and the readings expected per hour."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(c.valid > 0, c.valid_sum / np.maximum(c.valid, 1), np.nan)
    return HourlyMeans(mean, c.valid, c.stopped, max(1, HOUR_S // median_step_s(c)))


Hours = Analyser | HourCounts
"""An analyser's readings, raw or already grouped by hour over the hours asked for."""


def counts_over(a: Hours, start_s: int, n_hours: int) -> HourCounts:
    """``a`` grouped into the hours ``(start_s + i h, …]``, i < n_hours (grouped hours must
    be those hours already)."""
    if isinstance(a, Analyser):
        return a.counts(start_s, n_hours)
    if a.n_hours != n_hours:
        raise ValueError(f"{a.n_hours} grouped hours given where {n_hours} are needed")
    return a


def hourly_means(a: Hours, start_s: int, n_hours: int) -> HourlyMeans:
    """Group ``a`` into the hours ``(start_s + i h, start_s + (i + 1) h]``, i < n_hours."""
    return means_of(counts_over(a, start_s, n_hours))


@dataclass(frozen=True)
class PollutantHours:
    """One pollutant of one stack, hour by hour from ``start_s`` (period hours only).

    ``concentration_mg_m3`` measured hourly mean, ``corrected_mg_m3`` at the reference O2
    (the measured value when the limit has no reference O2; NaN when O2 is not valid),
    ``amount_kg`` the valid or substituted amount (NaN: missing; 0 when stopped).
    """

    start_s: int
    status: NDArray[np.int8]
    concentration_mg_m3: F64
    flow_m3_per_h: F64
    o2_pct: F64
    corrected_mg_m3: F64
    amount_kg: F64
    substituted: NDArray[np.bool_]
    capture_pct: float | None

    @property
    def n_hours(self) -> int:
        return int(self.status.size)

    def count(self, status: int) -> int:
        return int((self.status == status).sum())


def hour_status(conc: HourlyMeans, flow: HourlyMeans, min_fraction: float) -> NDArray[np.int8]:
    """Stopped, valid or invalid per hour (module docstring)."""
    status = np.full(conc.mean.size, INVALID, dtype=np.int8)
    enough_c = conc.n_valid >= min_fraction * conc.expected
    enough_f = flow.n_valid >= min_fraction * flow.expected
    status[enough_c & enough_f] = VALID
    status[conc.n_stopped * 2 >= conc.expected] = STOPPED
    return status


def capture_rate_pct(status: NDArray[np.int8]) -> float | None:
    """Valid-data capture rate: valid hours / (hours − stopped hours) [%]; None when the
    source never ran (HJ 75-2017 as implemented by one platform, FACTS.md §1.2)."""
    running = int((status != STOPPED).sum())
    return None if running == 0 else 100.0 * int((status == VALID).sum()) / running


def substitute(
    amount_kg: F64, status: NDArray[np.int8], first: int, capture_pct: float | None,
    s: ValiditySettings,
) -> tuple[F64, NDArray[np.bool_]]:  # fmt: skip
    """Amounts with the invalid hours from index ``first`` on substituted (module docstring);
    hours before ``first`` are history for the look-back only."""
    out = amount_kg.copy()
    done = np.zeros(amount_kg.size, dtype=bool)
    if capture_pct is None or capture_pct < s.capture_min_pct:
        return out, done
    valid_idx = np.flatnonzero(status == VALID)
    i = first
    while i < status.size:
        if status[i] != INVALID:
            i += 1
            continue
        j = i
        while j < status.size and status[j] == INVALID:
            j += 1
        before = valid_idx[valid_idx < i][-s.lookback_h(capture_pct, j - i) :]
        if before.size:
            out[i:j] = float(np.max(amount_kg[before]))
            done[i:j] = True
        i = j
    return out, done


def pollutant_hours(
    conc: Hours, flow: Hours, flow_to_m3_per_h: float, o2: Hours | None,
    o2_ref_pct: float | None, start_s: int, n_hours: int, history_h: int, s: ValiditySettings,
) -> PollutantHours:  # fmt: skip
    """Hours of one pollutant over the period ``[start_s, start_s + n_hours h)``, with
    ``history_h`` hours before it for the substitution look-back (analysers given as
    :class:`HourCounts` cover those ``history_h + n_hours`` hours).

    ``flow_to_m3_per_h`` converts the flow analyser's unit to m3/h (3600 for m3/s).
    """
    t0, n = start_s - history_h * HOUR_S, history_h + n_hours
    c, f = hourly_means(conc, t0, n), hourly_means(flow, t0, n)
    status = hour_status(c, f, s.min_valid_fraction_per_hour)
    flow_h = f.mean * flow_to_m3_per_h
    amount = np.where(status == VALID, hourly_amount_kg(c.mean, flow_h), np.nan)
    amount[status == STOPPED] = 0.0
    capture = capture_rate_pct(status[history_h:])
    amount, done = substitute(amount, status, history_h, capture, s)
    o2_mean = np.full(n, np.nan)
    if o2 is not None:
        om = hourly_means(o2, t0, n)
        o2_mean = np.where(
            om.n_valid >= s.min_valid_fraction_per_hour * om.expected, om.mean, np.nan
        )
    conc_valid = np.where(status == VALID, c.mean, np.nan)
    corrected = (
        conc_valid if o2_ref_pct is None else o2_corrected_mg_m3(conc_valid, o2_mean, o2_ref_pct)
    )
    p = slice(history_h, n)
    return PollutantHours(
        start_s, status[p], c.mean[p], flow_h[p], o2_mean[p], corrected[p], amount[p], done[p],
        capture,
    )  # fmt: skip
