"""Energy and carbon intensity of a period compared with a base year (e.g. 2020).

References
----------
.. [1] 国发〔2021〕33号,《“十四五”节能减排综合工作方案》: energy consumption per unit of GDP in
   2025 13.5 % below 2020 (as quoted; see ``levels/targets.csv``).
.. [2] GB/T 2589-2020, 3.5-3.8: 单位产值综合能耗 and 单位产品综合能耗, the intensities compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from kilnwatch.domain.energy import unit_intensity
from kilnwatch.domain.levels import meets_target, target_fraction
from kilnwatch.errors import InputError
from kilnwatch.reference.levels import Target, load_targets

ENERGY_TARGET = "energy_intensity_reduction_2025"


@dataclass(frozen=True)
class IntensityChange:
    """Intensity of a year against a base year; ``reduction_fraction`` > 0 means it fell.

    Parameters
    ----------
    year : int
        The calendar year compared. [-]
    base_year : int
        The base year (e.g. 2020). [-]
    intensity : float
        Intensity of ``year``. [numerator unit / denominator unit]
    base_intensity : float
        Intensity of ``base_year``, in the same unit. [numerator unit / denominator unit]

    References
    ----------
    .. [1] 国发〔2021〕33号: intensity in 2025 relative to 2020 (as quoted in
       ``levels/targets.csv``).
    """

    year: int
    base_year: int
    intensity: float
    base_intensity: float

    @property
    def change_fraction(self) -> float:
        """Relative change ``(intensity − base) / base`` [-]; negative when intensity fell."""
        return (self.intensity - self.base_intensity) / self.base_intensity

    @property
    def reduction_fraction(self) -> float:
        """Relative reduction ``(base − intensity) / base`` [-]; positive when it fell."""
        return -self.change_fraction


@dataclass(frozen=True)
class TargetCheck:
    """Whether an intensity reduction meets a target.

    Parameters
    ----------
    target : str
        The target id of ``levels/targets.csv``. [-]
    reduction_fraction : float
        The reduction achieved. [-]
    target_fraction : float
        The reduction wanted. [-]
    met : bool
        Whether the reduction meets the target. [-]
    source : str
        Where the target figure was read (``levels/targets.csv``). [-]
    confidence : str
        How far that reading is trusted: good, medium or low. [-]

    References
    ----------
    .. [1] 国发〔2021〕33号: energy consumption per unit of GDP 13.5 % below 2020 by 2025 (as
       quoted; ``levels/targets.csv``, medium).
    """

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
    numerator : float
        Energy (tce) or CO₂ (tCO₂) of ``year``. [numerator unit]
    denominator : float
        Output or value added (t, 10⁴ CNY ...) of ``year``. [denominator unit]
    base_numerator : float
        The numerator of ``base_year``, in the same unit. [numerator unit]
    base_denominator : float
        The denominator of ``base_year``, in the same unit. [denominator unit]
    year : int
        The calendar year compared. [-]
    base_year : int
        The base year. [-]

    Returns
    -------
    IntensityChange
        Both intensities [numerator unit / denominator unit] and the change.

    Raises
    ------
    InputError
        A non-positive denominator, or a base-year intensity that is not positive.

    Notes
    -----
    ``reduction = (e_base − e) / e_base`` with ``e = numerator / denominator``.

    References
    ----------
    .. [1] 国发〔2021〕33号: intensity in 2025 compared with 2020 (as quoted).
    .. [2] GB/T 2589-2020, 3.5-3.8 (单位产值综合能耗, 单位产品综合能耗).
    """
    base = unit_intensity(base_numerator, base_denominator)
    if base <= 0:
        raise InputError("base-year intensity must be positive", field="base_numerator")
    return IntensityChange(year, base_year, unit_intensity(numerator, denominator), base)


def check_reduction_target(change: IntensityChange, target: Target | None = None) -> TargetCheck:
    """Compare a reduction with a target (default: energy intensity -13.5 % 2025 vs 2020).

    Parameters
    ----------
    change : IntensityChange
        The intensity change to judge. [-]
    target : Target, optional
        A row of ``levels/targets.csv``; default ``energy_intensity_reduction_2025``. [-]

    Returns
    -------
    TargetCheck
        The reduction [-], the target [-], whether it is met, source and confidence.

    Raises
    ------
    InputError
        The change's base year differs from the target's base year.

    Notes
    -----
    Met when ``reduction_fraction <comparison> target value`` (``ge`` 0.135 by default).

    References
    ----------
    .. [1] 国发〔2021〕33号,《“十四五”节能减排综合工作方案》: 13.5 % below 2020 by 2025 (as
       quoted; ``levels/targets.csv``, medium).
    """
    goal = load_targets()[ENERGY_TARGET] if target is None else target
    if goal.base_year is not None and goal.base_year != change.base_year:
        raise InputError(
            f"target {goal.target} is relative to {goal.base_year}, not {change.base_year}",
            field="base_year",
        )
    return TargetCheck(
        goal.target,
        change.reduction_fraction,
        target_fraction(goal),
        meets_target(change.reduction_fraction, goal),
        goal.source,
        goal.confidence,
    )
