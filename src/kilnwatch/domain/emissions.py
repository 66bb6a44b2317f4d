"""Flue-gas emission formulas: reference-O2 correction and hourly emission amount.

Pure functions over scalars or NumPy arrays. Concentrations are of dry flue gas at standard
state (标干: 273 K, 101.325 kPa) as CEMS report them; flows are standard dry flows. The clock
hours of an analyser's readings (:func:`hour_counts`) are what the HJ 75-2017 hourly rules
work on: computed from the raw readings (verification) or kept by the store as the hourly
rollup ``emission_hours`` (pages, reports, API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

#: O2 share of dry air [%], the fixed point of the reference-O2 formula (HJ 75-2017 A9).
AIR_O2_PCT = 21.0
#: mg per kg (unit definition).
MG_PER_KG = 1e6

ArrayOrFloat = TypeVar("ArrayOrFloat", float, NDArray[np.float64])


def o2_corrected_mg_m3(
    concentration_mg_m3: ArrayOrFloat, o2_measured_pct: ArrayOrFloat, o2_ref_pct: float
) -> ArrayOrFloat:
    """Concentration converted to the reference oxygen content (基准氧含量折算).

    Parameters
    ----------
    concentration_mg_m3 : float or ndarray
        Measured concentration, dry standard state. [mg/m3]
    o2_measured_pct : float or ndarray
        Measured O2 of the dry flue gas. [%]
    o2_ref_pct : float
        Reference O2 fixed by the emission standard (6 % for coal boilers). [%]

    Returns
    -------
    float or ndarray
        Concentration at the reference O2 [mg/m3]; NaN where the measured O2 is 21 % or more
        (air: the formula has no meaning).

    Notes
    -----
    ``C_ref = C × (21 − O2_ref) / (21 − O2_measured)``.

    References
    ----------
    .. [1] HJ 75-2017, Appendix A, formula A9 (as transcribed in HJ 1045-2019 and restated in
       GB 13223-2011 and GB 28662-2012 amendment clause 4.9); /work/shared/reference/emissions/
       FACTS.md §1.4.
    """
    headroom = np.asarray(AIR_O2_PCT - np.asarray(o2_measured_pct, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(
            headroom > 0,
            np.asarray(concentration_mg_m3) * (AIR_O2_PCT - o2_ref_pct) / headroom,
            np.nan,
        )
    if np.ndim(out) == 0:
        return float(out)  # type: ignore[return-value]
    return out  # type: ignore[return-value]


def hourly_amount_kg(
    concentration_mg_m3: ArrayOrFloat, flow_m3_per_h: ArrayOrFloat, hours: float = 1.0
) -> ArrayOrFloat:
    """Mass emitted in an hour from the hourly mean concentration and flow.

    Parameters
    ----------
    concentration_mg_m3 : float or ndarray
        Hourly mean measured concentration, dry standard state (not O2-corrected: the
        correction serves the comparison with a limit, the mass leaves the stack as
        measured). [mg/m3]
    flow_m3_per_h : float or ndarray
        Hourly mean flue-gas flow, dry standard state. [m3/h]
    hours : float
        Duration. [h]

    Returns
    -------
    float or ndarray
        Emitted mass. [kg]

    Notes
    -----
    ``M = C × Q × t × 10⁻⁶``: dimensional (mg/m3 × m3/h × h = mg; 10⁶ mg per kg). The clause of
    HJ 75-2017 that states it was not read (FACTS.md §1.5).

    References
    ----------
    .. [1] HJ 75-2017, 固定污染源烟气（SO2、NOX、颗粒物）排放连续监测技术规范 (continuous emission
       monitoring of stationary sources): emission amounts from concentration and flow at
       standard dry state; clause not verified, the formula here is dimensional.
    """
    return concentration_mg_m3 * flow_m3_per_h * hours / MG_PER_KG


#: HJ 212-2017 clause 6.6.4 Table 8 data flags: ``N`` normal (and no flag, from sources that
#: send none) makes a reading valid for the hourly mean; ``F`` means the source is stopped;
#: every other flag (``M``, ``S``, ``D``, ``C``, ``T``, ``B``) makes it invalid (FACTS.md §3).
VALID_FLAGS = frozenset({"", "N"})
STOP_FLAGS = frozenset({"F"})
#: Seconds in an hour (unit definition).
HOUR_S = 3600

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class HourCounts:
    """One analyser's readings grouped by clock hour: what the HJ 75-2017 hourly rules need.

    Hour ``i`` is ``(start + i h, start + (i + 1) h]`` (a reading closes the interval ending
    at its time stamp, HJ 212).

    Parameters
    ----------
    readings : ndarray of int
        Readings in the hour, any flag. [-]
    valid : ndarray of int
        Readings with a valid flag (``N`` or none). [-]
    stopped : ndarray of int
        Readings with a stop flag (``F``). [-]
    valid_sum : ndarray of float
        Sum of the valid readings, added one by one in time order. [meter unit]
    total : ndarray of float
        Sum of all readings, one by one in time order. [meter unit]
    step_hour : ndarray of int
        Hour index of each (``step_s``, ``step_count``) entry. [-]
    step_s : ndarray of int
        A spacing between two consecutive readings of the same hour. [s]
    step_count : ndarray of int
        How often that spacing occurs in that hour. [-]

    References
    ----------
    .. [1] HJ 212-2017, clause 6.6.4, Table 8 (data flags) and the data period ending at the
       time stamp (docs/hj212.md); HJ 75-2017, valid hourly mean (有效小时均值).
    """

    readings: I64
    valid: I64
    stopped: I64
    valid_sum: F64
    total: F64
    step_hour: I64
    step_s: I64
    step_count: I64

    @property
    def n_hours(self) -> int:
        return int(self.readings.size)


def hour_counts(
    ts_s: I64, value: F64, flag: NDArray[np.object_], start_s: int, n_hours: int
) -> HourCounts:
    """Group one analyser's readings into the clock hours ``(start + i h, start + (i+1) h]``.

    Parameters
    ----------
    ts_s : ndarray of int
        Time stamps, sorted, one per reading (the latest version of each). [s since epoch]
    value : ndarray of float
        Reading values. [meter unit]
    flag : ndarray of str
        HJ 212 data flags (``""`` when none). [-]
    start_s : int
        Start of the first hour. [s since epoch]
    n_hours : int
        Number of hours. [h]

    Returns
    -------
    HourCounts
        Per hour: readings, valid and stop-flagged readings, their sums; the spacings of
        consecutive readings within each hour. Sums are accumulated reading by reading in
        time order, so that grouping any run of whole hours gives the same figures.

    References
    ----------
    .. [1] HJ 212-2017, clause 6.6.4, Table 8 (data flags ``N``, ``F``); HJ 75-2017, valid
       hourly mean (有效小时均值): FACTS.md §1.1, §3.
    """
    idx = (ts_s - 1 - start_s) // HOUR_S
    inside = (idx >= 0) & (idx < n_hours)
    finite = inside & np.isfinite(value)
    flags = flag.astype(str)
    valid = finite & np.isin(flags, list(VALID_FLAGS))
    stopped = finite & np.isin(flags, list(STOP_FLAGS))
    same = inside[1:] & (idx[1:] == idx[:-1])
    pairs = np.stack([idx[1:][same], np.diff(ts_s)[same]]).astype(np.int64)
    if pairs.shape[1]:
        keys, counts = np.unique(pairs, axis=1, return_counts=True)
    else:
        keys, counts = np.zeros((2, 0), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return HourCounts(
        np.bincount(idx[inside], minlength=n_hours).astype(np.int64),
        np.bincount(idx[valid], minlength=n_hours).astype(np.int64),
        np.bincount(idx[stopped], minlength=n_hours).astype(np.int64),
        np.bincount(idx[valid], weights=value[valid], minlength=n_hours).astype(np.float64),
        np.bincount(idx[finite], weights=value[finite], minlength=n_hours).astype(np.float64),
        keys[0].astype(np.int64), keys[1].astype(np.int64), counts.astype(np.int64),
    )  # fmt: skip


def median_step_s(counts: HourCounts) -> int:
    """An analyser's usual reading interval: the median spacing of consecutive readings
    within the same clock hour (gaps between hours, outages, do not count).

    Parameters
    ----------
    counts : HourCounts
        The analyser's hours over the period considered. [-]

    Returns
    -------
    int
        The interval [s]; one hour when no hour holds two readings (hourly data).

    References
    ----------
    .. [1] HJ 75-2017, valid hourly mean: an hour is valid when enough of the readings
       expected in it (one hour / this interval) are valid (FACTS.md §1.1).
    """
    if counts.step_count.sum() == 0:
        return HOUR_S
    steps = np.repeat(counts.step_s, counts.step_count)
    return max(1, int(np.median(steps)))
