"""Baseline model of daily energy against daily production, eemeter's fit/predict shape.

``E_d = a + b · P_d + c · H_d``: a fixed daily use ``a`` [tce/d] (hot standby, losses), a use
per unit of product ``b`` [tce per product unit] and a use per operating hour ``c`` [tce/h]
(auxiliaries that run while the unit runs), fitted by ordinary least squares on the baseline
days. ``c`` is fitted only when operating hours vary in the baseline (else they are the
intercept). This is the routine adjustment of IPMVP: the baseline is carried to the reporting
period's production and operating hours.

References
----------
.. [1] IPMVP Core Concepts (EVO 10000-1:2022), 4.6 and 8.1: savings = (baseline energy ±
   routine adjustments ± non-routine adjustments) − reporting-period energy; the routine
   adjustment by a regression on the independent variables (here production).
.. [2] CalTRACK Methods 2.0, 3.1 and 3.4: a model fitted on the baseline, predictions for the
   reporting period, avoided energy use = prediction − measurement.
.. [3] ASHRAE Guideline 14-2014, Annex B: fit statistics (R², CV(RMSE), NMBE) and the
   autocorrelation of residuals, as in :mod:`kilnwatch.domain.mv.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kilnwatch.domain.mv.data import DailyData, MVWarning
from kilnwatch.domain.mv.settings import MVSettings
from kilnwatch.domain.mv.stats import (
    FloatArray,
    cv_rmse,
    effective_observations,
    lag1_autocorrelation,
    nmbe,
    r_squared,
)
from kilnwatch.errors import InputError

MODEL_TYPE = "production_linear_daily"


@dataclass(frozen=True)
class ProductionModel:
    """A fitted baseline model and its statistics.

    Parameters
    ----------
    intercept_tce_per_day : float
        Fixed daily energy ``a``. [tce/d]
    slope_tce_per_product : float
        Energy per unit of product ``b`` (0 for a mean model). [tce/product unit]
    hours_tce_per_hour : float
        Energy per operating hour ``c`` (0 when not fitted). [tce/h]
    n_params : int
        Parameters fitted ``p`` (1 for a mean model, 2, or 3 with operating hours). [-]
    n_days : int
        Baseline days ``n``. [-]
    mean_energy_tce_per_day : float
        Mean baseline energy ``ȳ``. [tce/d]
    r_squared, cv_rmse, nmbe : float
        Fit statistics of Guideline 14 Annex B. [-]
    autocorrelation : float
        Lag-1 autocorrelation ``ρ`` of the residuals. [-]
    n_effective : float
        ``n (1 − ρ) / (1 + ρ)``. [-]
    production_min, production_max : float
        Range of baseline daily production. [product unit/d]
    baseline_first, baseline_last : str
        First and last baseline day, ISO dates. [-]
    warnings : tuple of MVWarning
        What the fit found (``mv.model.mean_only``, ``mv.model.negative_slope``). [-]

    References
    ----------
    .. [1] IPMVP 2022, 8.1; ASHRAE Guideline 14-2014, Annex B; CalTRACK 2.0, 3.1.
    """

    intercept_tce_per_day: float
    slope_tce_per_product: float
    hours_tce_per_hour: float
    n_params: int
    n_days: int
    mean_energy_tce_per_day: float
    r_squared: float
    cv_rmse: float
    nmbe: float
    autocorrelation: float
    n_effective: float
    production_min: float
    production_max: float
    baseline_first: str
    baseline_last: str
    warnings: tuple[MVWarning, ...] = ()

    @classmethod
    def fit(cls, data: DailyData, settings: MVSettings | None = None) -> ProductionModel:
        """Fit ``E = a + b P`` by least squares on the baseline days.

        Parameters
        ----------
        data : DailyData
            Complete baseline days. [-]
        settings : MVSettings, optional
            ``min_production_cv`` decides a mean model when production hardly varies. [-]

        Returns
        -------
        ProductionModel
            The coefficients and Guideline 14 statistics.

        Raises
        ------
        InputError
            Fewer than three baseline days, or a mean energy of zero.

        References
        ----------
        .. [1] IPMVP 2022, 8.1 (routine adjustments by regression); ASHRAE Guideline 14-2014,
           Annex B (statistics).
        """
        s = settings or MVSettings()
        if len(data) < 3:
            raise InputError("a baseline needs at least 3 complete days", field="baseline")
        y, x = data.energy_tce, data.production
        warnings: list[MVWarning] = []
        mean_x = float(np.mean(x))
        spread = float(np.std(x)) / mean_x if mean_x > 0 else 0.0
        hours = data.running_hours
        columns = [np.ones_like(y)]
        if spread >= s.min_production_cv:
            columns.append(x)
        else:
            warnings.append(
                MVWarning(
                    "mv.model.mean_only",
                    "daily production hardly varies in the baseline: no production term",
                    {"production_cv": round(spread, 4)},
                )
            )
        use_hours = hours is not None and float(np.std(hours)) > 0 and len(columns) == 2
        if use_hours and hours is not None:
            columns.append(hours)
        coef = np.linalg.lstsq(np.column_stack(columns), y, rcond=None)[0]
        a = float(coef[0])
        b = float(coef[1]) if len(coef) > 1 else 0.0
        c = float(coef[2]) if len(coef) > 2 else 0.0
        p = len(coef)
        if b < 0:
            warnings.append(
                MVWarning(
                    "mv.model.negative_slope",
                    "energy falls as production rises in the baseline",
                    {"slope_tce_per_product": b},
                )
            )
        predicted = a + b * x + (c * hours if hours is not None else 0.0)
        rho = lag1_autocorrelation(y - predicted)
        return cls(
            a,
            b,
            c,
            p,
            len(data),
            float(np.mean(y)),
            r_squared(y, predicted),
            cv_rmse(y, predicted, p),
            nmbe(y, predicted, p),
            rho,
            effective_observations(len(data), rho),
            float(np.min(x)),
            float(np.max(x)),
            data.days[0].isoformat(),
            data.days[-1].isoformat(),
            tuple(warnings),
        )

    def predict(self, production: FloatArray, hours: FloatArray | None = None) -> FloatArray:
        """Adjusted-baseline energy for each day's production and operating hours. [tce/d]

        Raises
        ------
        InputError
            The model has an operating-hours term and ``hours`` are not given.
        """
        result: FloatArray = self.intercept_tce_per_day + self.slope_tce_per_product * production
        if self.hours_tce_per_hour:
            if hours is None:
                raise InputError("this baseline needs operating hours", field="running_hours")
            result = result + self.hours_tce_per_hour * hours
        return result

    def out_of_range(self, production: FloatArray) -> FloatArray:
        """1 for each day whose production lies outside the baseline's range, else 0. [-]"""
        outside = (production < self.production_min) | (production > self.production_max)
        return outside.astype(np.float64)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, read back by :meth:`from_json`."""
        return {
            "model_type": MODEL_TYPE,
            "intercept_tce_per_day": self.intercept_tce_per_day,
            "slope_tce_per_product": self.slope_tce_per_product,
            "hours_tce_per_hour": self.hours_tce_per_hour,
            "n_params": self.n_params,
            "n_days": self.n_days,
            "mean_energy_tce_per_day": self.mean_energy_tce_per_day,
            "r_squared": self.r_squared,
            "cv_rmse": self.cv_rmse,
            "nmbe": self.nmbe,
            "autocorrelation": self.autocorrelation,
            "n_effective": self.n_effective,
            "production_min": self.production_min,
            "production_max": self.production_max,
            "baseline_first": self.baseline_first,
            "baseline_last": self.baseline_last,
            "warnings": [w.to_json() for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductionModel:
        """The model :meth:`to_json` wrote."""
        if data.get("model_type") != MODEL_TYPE:
            raise InputError(f"not a {MODEL_TYPE} model", field="model_type")
        fields = {k: v for k, v in data.items() if k not in ("model_type", "warnings")}
        warnings = tuple(
            MVWarning(w["code"], w["description"], w.get("data", {}))
            for w in data.get("warnings", [])
        )
        return cls(**fields, warnings=warnings)


__all__ = ["MODEL_TYPE", "ProductionModel"]
