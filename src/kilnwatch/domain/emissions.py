"""Flue-gas emission formulas: reference-O2 correction and hourly emission amount.

Pure functions over scalars or NumPy arrays. Concentrations are of dry flue gas at standard
state (标干: 273 K, 101.325 kPa) as CEMS report them; flows are standard dry flows.
"""

from __future__ import annotations

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
