"""Goodness-of-fit and uncertainty statistics of a baseline model.

References
----------
.. [1] ASHRAE Guideline 14-2014, Measurement of Energy, Demand, and Water Savings, Annex B
   (uncertainty of regression baselines): CV(RMSE) and NMBE with ``n − p`` degrees of
   freedom, and the fractional savings uncertainty with lag-1 autocorrelation (below).
.. [2] T. A. Reddy and D. E. Claridge, "Uncertainty of 'measured' energy savings from
   statistical baseline models", HVAC&R Research 6(1), 2000: the effective number of
   observations ``n' = n (1 − ρ) / (1 + ρ)``.
.. [3] M. Abramowitz and I. A. Stegun, Handbook of Mathematical Functions, 1964, 26.7.5
   (Student's t quantile from the normal quantile).
.. [4] JCGM 100:2008 (GUM), 4.3.7: a quantity known only to lie within ±a has the standard
   uncertainty a/√3; 5.1.2: independent components combine by root sum of squares.
.. [5] IPMVP Core Concepts (EVO 10000-1:2022), Appendix B: measurement (instrument) error is
   one component of savings uncertainty, next to modelling error.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from kilnwatch.errors import InputError

FloatArray = npt.NDArray[np.float64]
FSU_EMPIRICAL_FACTOR = 1.26
"""Empirical factor of the Guideline 14 savings-uncertainty approximation (Reddy & Claridge
2000; Guideline 14-2014 Annex B), which stands for the prediction terms of the regression."""


def cv_rmse(measured: FloatArray, predicted: FloatArray, n_params: int) -> float:
    """Coefficient of variation of the root-mean-square error.

    Parameters
    ----------
    measured, predicted : array
        Observed and modelled energy of the baseline intervals. [energy unit]
    n_params : int
        Parameters of the model ``p``. [-]

    Returns
    -------
    float
        ``sqrt(Σ (y − ŷ)² / (n − p)) / ȳ``. [-]

    References
    ----------
    .. [1] ASHRAE Guideline 14-2014, Annex B (CV(RMSE) with ``n − p`` degrees of freedom).
    """
    dof, mean = _dof_and_mean(measured, predicted, n_params)
    return math.sqrt(float(np.sum((measured - predicted) ** 2)) / dof) / mean


def nmbe(measured: FloatArray, predicted: FloatArray, n_params: int) -> float:
    """Normalised mean bias error, positive when the model under-predicts.

    Parameters
    ----------
    measured, predicted : array
        Observed and modelled energy of the baseline intervals. [energy unit]
    n_params : int
        Parameters of the model ``p``. [-]

    Returns
    -------
    float
        ``Σ (y − ŷ) / ((n − p) ȳ)``. [-]

    References
    ----------
    .. [1] ASHRAE Guideline 14-2014, Annex B (NMBE with ``n − p`` degrees of freedom).
    """
    dof, mean = _dof_and_mean(measured, predicted, n_params)
    return float(np.sum(measured - predicted)) / (dof * mean)


def r_squared(measured: FloatArray, predicted: FloatArray) -> float:
    """Coefficient of determination.

    Parameters
    ----------
    measured, predicted : array
        Observed and modelled energy of the baseline intervals. [energy unit]

    Returns
    -------
    float
        ``1 − SS_res / SS_tot`` (1 when ``SS_tot`` is 0). [-]

    References
    ----------
    .. [1] ASHRAE Guideline 14-2014, Annex B (R², a screening statistic only).
    """
    total = float(np.sum((measured - np.mean(measured)) ** 2))
    residual = float(np.sum((measured - predicted) ** 2))
    return 1.0 - residual / total if total > 0 else 1.0


def lag1_autocorrelation(residuals: FloatArray) -> float:
    """Lag-1 autocorrelation of the residuals.

    Parameters
    ----------
    residuals : array
        Baseline residuals ``y − ŷ`` in time order. [energy unit]

    Returns
    -------
    float
        ``ρ = Σ e_t e_{t−1} / Σ e_t²`` of the centred residuals (0 for fewer than 3). [-]

    References
    ----------
    .. [1] Reddy & Claridge 2000 and Guideline 14-2014 Annex B (ρ of the baseline residuals).
    """
    if len(residuals) < 3:
        return 0.0
    centred = residuals - np.mean(residuals)
    denominator = float(np.sum(centred**2))
    if denominator == 0:
        return 0.0
    return float(np.sum(centred[1:] * centred[:-1]) / denominator)


def effective_observations(n: int, rho: float) -> float:
    """Effective number of independent observations.

    Parameters
    ----------
    n : int
        Observations. [-]
    rho : float
        Lag-1 autocorrelation of the residuals. [-]

    Returns
    -------
    float
        ``n' = n (1 − ρ) / (1 + ρ)``; a negative ``ρ`` is taken as 0 (conservative) and
        ``ρ`` is capped at 0.99. [-]

    References
    ----------
    .. [1] Reddy & Claridge 2000; ASHRAE Guideline 14-2014 Annex B.
    """
    rho = min(max(rho, 0.0), 0.99)
    return n * (1.0 - rho) / (1.0 + rho)


def t_quantile(probability: float, dof: float) -> float:
    """Quantile of Student's t distribution (Abramowitz & Stegun 26.7.5).

    Parameters
    ----------
    probability : float
        One-sided probability, e.g. 0.95 for a two-sided 90 % interval. [-]
    dof : float
        Degrees of freedom, at least 1 (accurate to about 1e-3 from 5). [-]

    Returns
    -------
    float
        ``t`` such that ``P(T <= t) = probability``. [-]

    References
    ----------
    .. [1] Abramowitz & Stegun 1964, 26.7.5.
    """
    if not 0.0 < probability < 1.0 or dof < 1:
        raise InputError("t quantile needs 0 < probability < 1 and dof >= 1", field="dof")
    z = NormalDist().inv_cdf(probability)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / dof + g2 / dof**2 + g3 / dof**3 + g4 / dof**4


def savings_uncertainty_fraction(
    cv: float, n: int, n_eff: float, m: int, confidence: float, n_params: int = 2
) -> float:
    """Half-width of the savings interval as a fraction of the adjusted baseline.

    Parameters
    ----------
    cv : float
        CV(RMSE) of the baseline model. [-]
    n : int
        Baseline observations. [-]
    n_eff : float
        Effective baseline observations ``n'``. [-]
    m : int
        Reporting-period observations. [-]
    confidence : float
        Two-sided confidence level, e.g. 0.90. [-]
    n_params : int
        Parameters of the model ``p``; ``t`` has ``n' − p`` degrees of freedom. [-]

    Returns
    -------
    float
        ``t · 1.26 · CV · sqrt((n / n') (1 + 2 / n') / m)``: the Guideline 14 fractional
        savings uncertainty multiplied by the savings fraction ``F``, so that it no longer
        depends on the savings themselves (``ΔE_save = FSU · E_save``). [-]

    References
    ----------
    .. [1] ASHRAE Guideline 14-2014, Annex B, fractional savings uncertainty with
       autocorrelated residuals; Reddy & Claridge 2000.
    """
    if m <= 0 or n_eff <= 0:
        raise InputError("savings uncertainty needs reporting and baseline data", field="days")
    t = t_quantile(0.5 + confidence / 2, max(n_eff - n_params, 1.0))
    return t * FSU_EMPIRICAL_FACTOR * cv * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)


def instrument_uncertainty_fraction(
    shares: list[tuple[float, float]],
) -> float:
    """Relative standard uncertainty of a period's energy from meters drifting within class.

    Parameters
    ----------
    shares : list of (share, accuracy class)
        For each meter: its share of the quantity (energy in tce, or the production term of
        the prediction) and its accuracy class, the largest permissible error. [-], [%]

    Returns
    -------
    float
        ``sqrt(Σ (share · class / 100 / √3)²)``: each meter's error may change anywhere
        within its class between the baseline and the reporting period (a rectangular
        distribution), independently of the others. [-]

    References
    ----------
    .. [1] JCGM 100:2008 (GUM), 4.3.7 and 5.1.2.
    .. [2] IPMVP Core Concepts 2022, Appendix B (instrument error in savings uncertainty).
    .. [3] GB 17167-2006, 4.3.5: accuracy classes required of energy meters.
    """
    return math.sqrt(sum((share * cls / 100 / math.sqrt(3)) ** 2 for share, cls in shares))


def _dof_and_mean(measured: FloatArray, predicted: FloatArray, n_params: int) -> tuple[int, float]:
    """Degrees of freedom ``n − p`` and the mean ``ȳ``, refusing what makes them undefined."""
    n = len(measured)
    if len(predicted) != n or n <= n_params:
        raise InputError(f"need more than {n_params} observations, got {n}", field="energy")
    mean = float(np.mean(measured))
    if mean == 0:
        raise InputError("mean measured energy is zero: CV(RMSE), NMBE undefined", field="energy")
    return n - n_params, mean


__all__ = [
    "FSU_EMPIRICAL_FACTOR",
    "cv_rmse",
    "effective_observations",
    "instrument_uncertainty_fraction",
    "lag1_autocorrelation",
    "nmbe",
    "r_squared",
    "savings_uncertainty_fraction",
    "t_quantile",
]
