"""Settings of measurement and verification (frozen, eemeter's settings-object shape).

The minimums are modelling choices of kilnwatch, not figures of a standard: CalTRACK asks for
365 baseline days (2.2.1.1), which a production-driven daily model of a process unit does not
need to see its operating modes; the shorter baseline is accepted and reported as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MVSettings:
    """Parameters of baseline fitting and savings statements.

    Parameters
    ----------
    confidence : float
        Two-sided confidence level of the stated savings interval. [-]
    min_baseline_days : int
        Fewest complete baseline days to fit a model. [d]
    min_reporting_days : int
        Fewest complete reporting days to state savings. [d]
    max_missing_fraction : float
        Largest share of incomplete days before a warning (CalTRACK 2.2.1.2: 10 %). [-]
    min_production_cv : float
        Below this coefficient of variation of daily production the slope is not identifiable
        and the model is the baseline mean (a warning says so). [-]

    References
    ----------
    .. [1] CalTRACK Methods 2.0, 2.2.1.1-2.2.1.2 (365 days, at most 10 % missing).
    .. [2] ASHRAE Guideline 14-2014, Annex B (savings stated at a confidence level).
    """

    confidence: float = 0.90
    min_baseline_days: int = 30
    min_reporting_days: int = 14
    max_missing_fraction: float = 0.10
    min_production_cv: float = 0.02


__all__ = ["MVSettings"]
