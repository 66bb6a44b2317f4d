"""Daily energy and production of one production unit, and whether they suffice for M&V.

References
----------
.. [1] CalTRACK Methods 2.0, section 2.2 (data sufficiency): 2.2.1.1 a 365-day baseline,
   2.2.1.2 at most 10 % of baseline days missing, 2.2.2.1 a day counts when no more than half
   of its interval values are missing; 1.4.4 the intervention period is left out.
.. [2] IPMVP Core Concepts (EVO 10000-1:2022), Option B (retrofit isolation, all parameters
   measured: the unit's own sub-meters) and Option C (whole facility: the entry meters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from kilnwatch.domain.mv.settings import MVSettings
from kilnwatch.domain.mv.stats import FloatArray
from kilnwatch.errors import InputError


@dataclass(frozen=True)
class MVWarning:
    """A finding about the data or the model, as data (eemeter's ``EEMeterWarning`` shape).

    Parameters
    ----------
    code : str
        Stable dotted code, e.g. ``mv.baseline.short``. [-]
    description : str
        What was found, in English. [-]
    data : dict
        The figures behind it. [-]

    References
    ----------
    .. [1] OpenEEmeter/eemeter ``EEMeterWarning`` (qualified name, description, data);
       CalTRACK Methods 2.0, 2.2 (the sufficiency it reports).
    """

    code: str
    description: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"code": self.code, "description": self.description, "data": self.data}


@dataclass(frozen=True)
class DailyData:
    """One value per day of a unit's energy and production, complete days only.

    Parameters
    ----------
    days : tuple of date
        Local days in increasing order. [-]
    energy_tce : array
        Comprehensive energy consumption per day (GB/T 2589). [tce/d]
    production : array
        Product output per day. [product unit/d]
    expected_days : int
        Days in the period, present or not (for the missing share). [-]
    running_hours : array, optional
        Hours of the day with production (operating hours, an independent variable of
        IPMVP 4.6). [h/d]

    References
    ----------
    .. [1] CalTRACK Methods 2.0, 2.2.2.1 (complete days); IPMVP 2022, 4.6 (independent
       variables).
    """

    days: tuple[date, ...]
    energy_tce: FloatArray
    production: FloatArray
    expected_days: int
    running_hours: FloatArray | None = None

    def __post_init__(self) -> None:
        n = len(self.days)
        hours = self.running_hours
        if (
            len(self.energy_tce) != n
            or len(self.production) != n
            or (hours is not None and len(hours) != n)
        ):
            raise InputError("days, energy and production differ in length", field="days")
        if n and not np.all(np.isfinite(self.energy_tce)):
            raise InputError("energy must be finite", field="energy_tce")
        if self.expected_days < n:
            raise InputError("more days than the period has", field="expected_days")

    @classmethod
    def from_rows(
        cls,
        rows: list[tuple[date, float, float]] | list[tuple[date, float, float, float]],
        expected_days: int | None = None,
    ) -> DailyData:
        """Build from ``(day, energy_tce, production[, running_hours])`` rows in any order."""
        ordered = sorted(rows)
        hours = (
            np.array([r[3] for r in ordered], dtype=np.float64)
            if ordered and len(ordered[0]) == 4
            else None
        )
        return cls(
            tuple(r[0] for r in ordered if isinstance(r[0], date)),
            np.array([r[1] for r in ordered], dtype=np.float64),
            np.array([r[2] for r in ordered], dtype=np.float64),
            len(ordered) if expected_days is None else expected_days,
            hours,
        )

    def __len__(self) -> int:
        return len(self.days)

    @property
    def missing_fraction(self) -> float:
        """Share of the period's days without complete data. [-]"""
        return 1.0 - len(self) / self.expected_days if self.expected_days else 1.0


def sufficiency_warnings(data: DailyData, settings: MVSettings, period: str) -> list[MVWarning]:
    """Warnings about the amount of data of a baseline or reporting period.

    Parameters
    ----------
    data : DailyData
        The period's complete days. [-]
    settings : MVSettings
        Minimum days and largest missing share. [-]
    period : {"baseline", "reporting"}
        Which period, for the codes. [-]

    Returns
    -------
    list of MVWarning
        ``mv.<period>.too_short`` (fewer days than the minimum: no result),
        ``mv.<period>.missing_days`` (more missing than CalTRACK 2.2.1.2 allows),
        ``mv.baseline.shorter_than_year`` (CalTRACK 2.2.1.1 asks for 365 days; a production
        driven model is accepted on less, said so).

    References
    ----------
    .. [1] CalTRACK Methods 2.0, 2.2.1.1 and 2.2.1.2.
    """
    warnings: list[MVWarning] = []
    minimum = settings.min_baseline_days if period == "baseline" else settings.min_reporting_days
    if len(data) < minimum:
        warnings.append(
            MVWarning(
                f"mv.{period}.too_short",
                f"{period} has {len(data)} complete days, fewer than {minimum}",
                {"days": len(data), "minimum_days": minimum},
            )
        )
    if data.missing_fraction > settings.max_missing_fraction:
        warnings.append(
            MVWarning(
                f"mv.{period}.missing_days",
                f"{data.missing_fraction:.0%} of the {period} days are incomplete",
                {"missing_fraction": round(data.missing_fraction, 4)},
            )
        )
    if period == "baseline" and data.expected_days < 365:
        warnings.append(
            MVWarning(
                "mv.baseline.shorter_than_year",
                "baseline shorter than the 365 days of CalTRACK 2.2.1.1",
                {"days": data.expected_days},
            )
        )
    return warnings


def is_blocking(warnings: list[MVWarning]) -> bool:
    """Whether a warning means no savings can be stated (a period too short).

    Parameters
    ----------
    warnings : list of MVWarning
        Warnings of :func:`sufficiency_warnings`. [-]

    Returns
    -------
    bool
        True when one code ends in ``.too_short``. [-]

    References
    ----------
    .. [1] CalTRACK Methods 2.0, 2.2.1 (a baseline that is not sufficient is not modelled).
    """
    return any(w.code.endswith(".too_short") for w in warnings)


__all__ = ["DailyData", "MVWarning", "is_blocking", "sufficiency_warnings"]
