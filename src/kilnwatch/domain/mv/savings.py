"""Measured savings of a retrofit: adjusted baseline − reporting energy, with uncertainty.

References
----------
.. [1] IPMVP Core Concepts (EVO 10000-1:2022), 4.6 (savings = baseline-period energy ±
   routine adjustments ± non-routine adjustments − reporting-period energy) and 8.2
   (non-routine adjustments for changes of static factors, each documented).
.. [2] ASHRAE Guideline 14-2014, Annex B: fractional savings uncertainty with lag-1
   autocorrelation (:func:`kilnwatch.domain.mv.stats.savings_uncertainty_fraction`).
.. [3] CalTRACK Methods 2.0, 1.4.5 (avoided energy use) and 1.4.4 (intervention period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np

from kilnwatch.domain.mv.data import DailyData, MVWarning, is_blocking, sufficiency_warnings
from kilnwatch.domain.mv.model import ProductionModel
from kilnwatch.domain.mv.settings import MVSettings
from kilnwatch.domain.mv.stats import savings_uncertainty_fraction
from kilnwatch.errors import InputError


@dataclass(frozen=True)
class Adjustment:
    """A non-routine adjustment of the baseline, with its reason (IPMVP 8.2).

    Parameters
    ----------
    energy_tce : float
        Energy added to the adjusted baseline (negative to remove). [tce]
    reason : str
        Why (a changed static factor: a new line, a product change ...). [-]
    recorded_by : str
        Who recorded it. [-]

    References
    ----------
    .. [1] IPMVP Core Concepts (EVO 10000-1:2022), 8.2 (non-routine adjustments).
    """

    energy_tce: float
    reason: str
    recorded_by: str = ""

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InputError("an adjustment needs a reason", field="reason")
        if not np.isfinite(self.energy_tce):
            raise InputError("adjustment energy must be finite", field="energy_tce")


@dataclass(frozen=True)
class SavingsResult:
    """Savings over a reporting period and how sure they are.

    Parameters
    ----------
    reporting_first, reporting_last : date or None
        The reporting days used. [-]
    reporting_days : int
        Complete reporting days ``m``. [-]
    adjusted_baseline_tce : float
        Σ model prediction for the reporting days + non-routine adjustments. [tce]
    adjustments_tce : float
        Σ non-routine adjustments. [tce]
    reporting_energy_tce : float
        Σ measured reporting energy. [tce]
    savings_tce : float
        ``adjusted_baseline_tce − reporting_energy_tce``. [tce]
    savings_fraction : float
        ``savings_tce / adjusted_baseline_tce``. [-]
    uncertainty_fraction : float
        Half-width of the interval, as a fraction of the adjusted baseline. [-]
    confidence : float
        Confidence level of the interval. [-]
    out_of_range_fraction : float
        Share of reporting days whose production lies outside the baseline's range. [-]
    significant : bool
        True when the whole interval lies above zero: savings shown at ``confidence``. [-]
    warnings : tuple of MVWarning
        Data and model warnings. [-]
    instrument_u_fraction : float
        The meters' relative standard uncertainty included in the interval. [-]

    References
    ----------
    .. [1] IPMVP 2022, 4.6; ASHRAE Guideline 14-2014, Annex B; CalTRACK 2.0, 1.4.5.
    """

    reporting_first: date | None
    reporting_last: date | None
    reporting_days: int
    adjusted_baseline_tce: float
    adjustments_tce: float
    reporting_energy_tce: float
    savings_tce: float
    savings_fraction: float
    uncertainty_fraction: float
    confidence: float
    out_of_range_fraction: float
    significant: bool
    warnings: tuple[MVWarning, ...]
    instrument_u_fraction: float = 0.0

    @property
    def interval_fraction(self) -> tuple[float, float]:
        """Lower and upper bound of the savings fraction. [-]"""
        return (
            self.savings_fraction - self.uncertainty_fraction,
            self.savings_fraction + self.uncertainty_fraction,
        )

    @property
    def uncertainty_tce(self) -> float:
        """Half-width of the interval. [tce]"""
        return self.uncertainty_fraction * self.adjusted_baseline_tce

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        low, high = self.interval_fraction
        return {
            "reporting_first": self.reporting_first.isoformat() if self.reporting_first else None,
            "reporting_last": self.reporting_last.isoformat() if self.reporting_last else None,
            "reporting_days": self.reporting_days,
            "adjusted_baseline_tce": self.adjusted_baseline_tce,
            "adjustments_tce": self.adjustments_tce,
            "reporting_energy_tce": self.reporting_energy_tce,
            "savings_tce": self.savings_tce,
            "savings_fraction": self.savings_fraction,
            "uncertainty_fraction": self.uncertainty_fraction,
            "interval_fraction": [low, high],
            "confidence": self.confidence,
            "out_of_range_fraction": self.out_of_range_fraction,
            "significant": self.significant,
            "instrument_u_fraction": self.instrument_u_fraction,
            "warnings": [w.to_json() for w in self.warnings],
        }


def measure_savings(
    model: ProductionModel,
    reporting: DailyData,
    *,
    adjustments: tuple[Adjustment, ...] = (),
    instrument_u_fraction: float = 0.0,
    settings: MVSettings | None = None,
) -> SavingsResult:
    """Savings of the reporting period against the adjusted baseline.

    Parameters
    ----------
    model : ProductionModel
        The baseline model fitted before the retrofit. [-]
    reporting : DailyData
        Complete reporting days after the intervention period. [-]
    adjustments : tuple of Adjustment
        Non-routine adjustments, each with its reason. [-]
    instrument_u_fraction : float
        Relative standard uncertainty from the meters
        (:func:`kilnwatch.domain.mv.stats.instrument_uncertainty_fraction`). [-]
    settings : MVSettings, optional
        Confidence level and minimum days. [-]

    Returns
    -------
    SavingsResult
        Savings [tce] and their fraction of the adjusted baseline, the interval at
        ``settings.confidence`` and the warnings.

    Raises
    ------
    InputError
        The reporting period is too short, or the adjusted baseline is not positive.

    Notes
    -----
    ``S = Σ_d (a + b P_d) + Σ adj − Σ_d E_d``; ``F = S / (Σ_d (a + b P_d) + Σ adj)``; the
    half-width ``t · 1.26 · CV · sqrt((n/n') (1 + 2/n') / m)`` is the Guideline 14 fractional
    savings uncertainty times ``F``, combined by root sum of squares with ``z · u_instrument``
    (IPMVP Appendix B, GUM 5.1.2). Savings are significant when ``F`` exceeds the half-width.

    References
    ----------
    .. [1] IPMVP 2022, 4.6 and 8.2; ASHRAE Guideline 14-2014, Annex B; CalTRACK 2.0, 1.4.5.
    """
    s = settings or MVSettings()
    warnings = list(model.warnings) + sufficiency_warnings(reporting, s, "reporting")
    if is_blocking(warnings):
        raise InputError(
            f"reporting period has {len(reporting)} complete days, fewer than "
            f"{s.min_reporting_days}",
            field="reporting",
        )
    predicted = float(np.sum(model.predict(reporting.production, reporting.running_hours)))
    adjustments_tce = float(sum(a.energy_tce for a in adjustments))
    baseline = predicted + adjustments_tce
    if baseline <= 0:
        raise InputError("adjusted baseline energy is not positive", field="baseline")
    measured = float(np.sum(reporting.energy_tce))
    savings = baseline - measured
    fraction = savings / baseline
    model_half = savings_uncertainty_fraction(
        model.cv_rmse,
        model.n_days,
        model.n_effective,
        len(reporting),
        s.confidence,
        model.n_params,
    )
    z = NormalDist().inv_cdf(0.5 + s.confidence / 2)
    half = (model_half**2 + (z * instrument_u_fraction) ** 2) ** 0.5
    outside = float(np.mean(model.out_of_range(reporting.production)))
    if outside > 0:
        warnings.append(
            MVWarning(
                "mv.reporting.out_of_range",
                f"{outside:.0%} of reporting days lie outside the baseline production range",
                {"out_of_range_fraction": round(outside, 4)},
            )
        )
    return SavingsResult(
        reporting.days[0],
        reporting.days[-1],
        len(reporting),
        baseline,
        adjustments_tce,
        measured,
        savings,
        fraction,
        half,
        s.confidence,
        outside,
        fraction - half > 0,
        tuple(warnings),
        instrument_u_fraction,
    )


__all__ = ["Adjustment", "SavingsResult", "measure_savings"]
