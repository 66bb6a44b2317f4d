"""A meter's total over a period as an input of an account, and its energy and CO2.

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则: comprehensive energy consumption (the conversion
   itself is :func:`kilnwatch.domain.energy_kgce`).
.. [2] NDRC 2013-2015, 企业温室气体排放核算方法与报告指南, and the MEE & NBS electricity CO2
   factors, as :mod:`kilnwatch.domain.carbon` cites them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kilnwatch.domain import co2_combustion_t, co2_electricity_t, co2_heat_t, energy_kgce
from kilnwatch.domain.carbon import grid_factor
from kilnwatch.domain.units import convert, dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.reference.carbon import load_carrier_fuels, load_grid_factors
from kilnwatch.reference.energy import load_densities


@dataclass(frozen=True)
class MeterInput:
    """One meter's total over the period, as used in an account."""

    meter_code: str
    carrier: str
    quantity: float
    unit: str
    readings: int


def _kgce(item: MeterInput) -> float:
    """GB/T 2589 conversion; a liquid metered by volume is weighed first when its coefficient
    is per tonne (``energy/densities.csv``)."""
    density = load_densities().get(item.carrier)
    if density is not None and dimension_of(item.unit) == "volume":
        mass_t = convert(item.quantity, item.unit, "m3") * density
        return energy_kgce(item.carrier, mass_t, "t").kgce
    return energy_kgce(item.carrier, item.quantity, item.unit).kgce


def _factor_year(year: int) -> int | None:
    """The newest national grid factor year not after ``year`` (the factor in force)."""
    years = [f.year for f in load_grid_factors() if f.kind == "grid_average" and f.year]
    years = [y for y in years if y <= year]
    return max(years) if years else None


def energy_kgce_of(inputs: Iterable[MeterInput], notes: list[str]) -> float | None:
    """Σ GB/T 2589 kgce of ``inputs``; None (with the reason in ``notes``) when one fails."""
    total_kgce = 0.0
    for i in inputs:
        try:
            total_kgce += _kgce(i)
        except KilnwatchError as exc:
            notes.append(f"{i.meter_code}: {exc.message}")
            return None
    return total_kgce


def co2_of(
    inputs: Iterable[MeterInput], year: int, notes: list[str], by_source_t: dict[str, float]
) -> float:
    """CO2 [t] of fuels burned and electricity and heat bought, by source into ``by_source_t``."""
    fuels = load_carrier_fuels()
    total = 0.0
    for i in inputs:
        try:
            if i.carrier == "electricity":
                factor_year = _factor_year(year)
                kwh = convert(i.quantity, i.unit, "kWh")
                t = co2_electricity_t(kwh, factor_year).co2_t
                notes.append(
                    f"electricity CO2 uses the {grid_factor(factor_year).factor_id} grid factor"
                )
            elif i.carrier in ("steam", "heat") and i.unit == "GJ":
                t = co2_heat_t(i.quantity).co2_t
            elif i.carrier in fuels:
                t = co2_combustion_t(fuels[i.carrier], i.quantity, i.unit).co2_t
            else:
                continue
        except KilnwatchError as exc:
            notes.append(f"{i.meter_code}: no CO2 ({exc.message})")
            continue
        by_source_t[i.carrier] = by_source_t.get(i.carrier, 0.0) + t
        total += t
    return total
