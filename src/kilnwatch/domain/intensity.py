"""Energy and carbon intensity of a period compared with a base year (e.g. 2020).

References
----------
.. [1] 国发〔2021〕33号,《“十四五”节能减排综合工作方案》: energy consumption per unit of GDP in
   2025 13.5 % below 2020 (as quoted; see ``levels/targets.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass

from kilnwatch.domain.energy import unit_intensity
from kilnwatch.domain.levels import compare, convert_pct
from kilnwatch.errors import InputError
from kilnwatch.reference.levels import Target, load_targets

ENERGY_TARGET = "energy_intensity_reduction_2025"


@dataclass(frozen=True)
class IntensityChange:
    """Intensity of ``year`` vs ``base_year``; ``reduction_fraction`` > 0 means it fell."""

    year: int
    base_year: int
    intensity: float
    base_intensity: float

    @property
    def change_fraction(self) -> float:
        """(intensity - base) / base; negative when intensity fell."""
        return (self.intensity - self.base_intensity) / self.base_intensity

    @property
    def reduction_fraction(self) -> float:
        """(base - intensity) / base; positive when intensity fell."""
        return -self.change_fraction


@dataclass(frozen=True)
class TargetCheck:
    """Whether an intensity reduction meets a target."""

    target: str
    reduction_fraction: float
    target_fraction: float
    met: bool
    source: str
    confidence: str


def intensity_vs_base(
    numerator: float,
    denominator: float,
    base_numerator: float,
    base_denominator: float,
    *,
    year: int,
    base_year: int,
) -> IntensityChange:
    """Intensity of a period and of the base year.

    Parameters
    ----------
    numerator, denominator : float
        Energy [tce] or CO2 [tCO2] and output or value added [t, 10^4 CNY ...] of ``year``.
    base_numerator, base_denominator : float
        The same for ``base_year`` (same units).

    Returns
    -------
    IntensityChange
        Both intensities [numerator unit / denominator unit] and the change.
    """
    base = unit_intensity(base_numerator, base_denominator)
    if base <= 0:
        raise InputError("base-year intensity must be positive", field="base_numerator")
    return IntensityChange(year, base_year, unit_intensity(numerator, denominator), base)


def check_reduction_target(change: IntensityChange, target: Target | None = None) -> TargetCheck:
    """Compare a reduction with a target (default: energy intensity -13.5 % 2025 vs 2020).

    Raises
    ------
    InputError
        The change's base year differs from the target's base year.
    """
    goal = load_targets()[ENERGY_TARGET] if target is None else target
    if goal.base_year is not None and goal.base_year != change.base_year:
        raise InputError(
            f"target {goal.target} is relative to {goal.base_year}, not {change.base_year}",
            field="base_year",
        )
    wanted = convert_pct(goal.value, goal.unit)
    met = compare(change.reduction_fraction, goal.comparison, wanted)
    return TargetCheck(
        goal.target, change.reduction_fraction, wanted, met, goal.source, goal.confidence
    )
