"""Standard-coal conversion and comprehensive energy consumption (GB/T 2589).

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则: definition of 1 kgce (low heat value 29 307 kJ),
   comprehensive energy consumption (input energy minus energy supplied outside), unit product
   comprehensive energy consumption, and Annex A (reference standard-coal coefficients).
   Clause numbers were not checked against the text; see ``docs/accounting.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kilnwatch.domain.units import check_finite, convert, dimension_of, unit_def
from kilnwatch.errors import InputError, NoConfirmedValueError, UnitError, UnknownCarrierError
from kilnwatch.reference.energy import (
    CoalCoefficient,
    load_coal_coefficients,
    load_electricity_equal_values,
    load_energy_constants,
)

ElectricityBasis = Literal["equivalent", "equal"]
Method = Literal["reference_coefficient", "measured_lhv", "equal_value"]
ELECTRICITY = "electricity"
KGCE_PER_TCE_UNIT = "tce"
Quantities = Mapping[str, tuple[float, str]]


@dataclass(frozen=True)
class ConversionResult:
    """One carrier quantity converted to standard coal.

    ``coefficient`` is [kgce per ``coefficient_unit``]; ``kgce`` is the result [kgce].
    """

    carrier: str
    quantity: float
    unit: str
    kgce: float
    coefficient: float
    coefficient_unit: str
    method: Method
    basis: ElectricityBasis | None
    source: str
    confidence: str

    @property
    def tce(self) -> float:
        """The result [tce]."""
        return convert(self.kgce, "kgce", KGCE_PER_TCE_UNIT)


@dataclass(frozen=True)
class ComprehensiveEnergy:
    """Comprehensive energy consumption: consumed minus exported [tce], with the parts."""

    consumed_tce: float
    exported_tce: float
    parts_consumed: tuple[ConversionResult, ...]
    parts_exported: tuple[ConversionResult, ...]

    @property
    def net_tce(self) -> float:
        """Comprehensive energy consumption [tce] = consumed - exported."""
        return self.consumed_tce - self.exported_tce


def carrier_keys(coefficients: tuple[CoalCoefficient, ...] | None = None) -> tuple[str, ...]:
    """Every carrier key with a GB/T 2589 row, in table order, without repeats."""
    rows = load_coal_coefficients() if coefficients is None else coefficients
    return tuple(dict.fromkeys(row.carrier for row in rows))


def coefficient_for(
    carrier: str, unit: str, coefficients: tuple[CoalCoefficient, ...] | None = None
) -> CoalCoefficient:
    """The coefficient row of ``carrier`` whose unit has the dimension of ``unit``.

    Raises
    ------
    UnknownCarrierError
        ``carrier`` has no row.
    UnitError
        ``unit`` is unknown, or no row of the carrier is in that dimension (e.g. coal in kWh).
    """
    rows = load_coal_coefficients() if coefficients is None else coefficients
    candidates = [row for row in rows if row.carrier == carrier]
    if not candidates:
        known = ", ".join(carrier_keys(rows))
        raise UnknownCarrierError(f"unknown energy carrier {carrier!r}; known: {known}")
    dimension = dimension_of(unit)
    for row in candidates:
        if dimension_of(row.unit) == dimension:
            return row
    allowed = ", ".join(row.unit for row in candidates)
    raise UnitError(f"{carrier!r} cannot be measured in {unit!r}; use a unit like {allowed}")


def _check_quantity(quantity: float) -> None:
    check_finite(quantity, "quantity")
    if quantity < 0:
        raise InputError(f"quantity must not be negative, got {quantity}", field="quantity")


def _from_measured_lhv(row: CoalCoefficient, lhv_kj_per_unit: float) -> tuple[float, str, str]:
    check_finite(lhv_kj_per_unit, "measured_lhv_kj_per_unit")
    if lhv_kj_per_unit <= 0:
        raise InputError("measured low heat value must be positive", field="measured_lhv")
    kj_per_kgce = load_energy_constants()["kj_per_kgce"]
    note = f"measured low heat value {lhv_kj_per_unit} kJ/{row.unit} / {kj_per_kgce.value} kJ/kgce"
    return lhv_kj_per_unit / kj_per_kgce.value, note, kj_per_kgce.confidence


def _equal_value(year: int | None, override: float | None) -> tuple[float, str, str]:
    if override is not None:
        return check_finite(override, "equal_value_kgce_per_kwh"), "supplied by caller", "n/a"
    values = load_electricity_equal_values()
    if year is not None and year in values:
        entry = values[year]
        return entry.kgce_per_kwh, entry.source, entry.confidence
    raise NoConfirmedValueError(
        f"no confirmed electricity 等价值 for year {year}; pass equal_value_kgce_per_kwh "
        "(sourced years: " + (", ".join(map(str, sorted(values))) or "none") + ")"
    )


def energy_kgce(
    carrier: str,
    quantity: float,
    unit: str,
    *,
    measured_lhv_kj_per_unit: float | None = None,
    electricity_basis: ElectricityBasis = "equivalent",
    year: int | None = None,
    equal_value_kgce_per_kwh: float | None = None,
    coefficients: tuple[CoalCoefficient, ...] | None = None,
) -> ConversionResult:
    """Convert a carrier quantity to standard coal [kgce].

    Parameters
    ----------
    carrier : str
        Carrier key (``raw_coal``, ``natural_gas``, ``electricity``, ``steam`` ...).
    quantity : float
        The physical quantity [unit], >= 0.
    unit : str
        Unit key of ``quantity`` (``t``, ``kg``, ``m3``, ``10^4m3``, ``kWh``, ``MWh``, ``GJ`` ...).
    measured_lhv_kj_per_unit : float, optional
        The enterprise's measured low heat value [kJ per the carrier's reference unit, e.g.
        kJ/kg for coal, kJ/m3 for gas]; takes precedence over the reference coefficient.
    electricity_basis : {"equivalent", "equal"}
        当量值 (calorific, 0.1229 kgce/kWh) or 等价值 (generation-based, by year).
    year : int, optional
        The year whose 等价值 applies (only with ``electricity_basis="equal"``).
    equal_value_kgce_per_kwh : float, optional
        An explicit 等价值 [kgce/kWh], e.g. from the statistics bureau for the year.
    coefficients : tuple of CoalCoefficient, optional
        The coefficient table; defaults to the packaged GB/T 2589 table.

    Returns
    -------
    ConversionResult
        ``kgce`` [kgce], the coefficient used, its source and confidence.

    Raises
    ------
    UnknownCarrierError, UnitError, NoConfirmedValueError, InputError

    Notes
    -----
    ``kgce = quantity [ref unit] * coefficient [kgce/ref unit]``, where the coefficient is the
    measured LHV / 29 307 kJ/kgce when given, else the reference coefficient.

    References
    ----------
    .. [1] GB/T 2589-2020, Annex A (reference coefficients) and the kgce definition.
    """
    _check_quantity(quantity)
    row = coefficient_for(carrier, unit, coefficients)
    quantity_ref = convert(quantity, unit, row.unit)
    method: Method = "reference_coefficient"
    basis: ElectricityBasis | None = electricity_basis if carrier == ELECTRICITY else None
    if carrier == ELECTRICITY and electricity_basis == "equal":
        coefficient, source, confidence = _equal_value(year, equal_value_kgce_per_kwh)
        method = "equal_value"
    elif measured_lhv_kj_per_unit is not None:
        if carrier == ELECTRICITY:
            raise InputError("electricity has no heat value to measure", field="measured_lhv")
        coefficient, source, confidence = _from_measured_lhv(row, measured_lhv_kj_per_unit)
        method = "measured_lhv"
    elif row.kgce_per_unit is None:
        raise NoConfirmedValueError(
            f"{carrier!r} has no confirmed GB/T 2589 coefficient ({row.notes}); "
            "supply the measured low heat value"
        )
    else:
        coefficient, source, confidence = row.kgce_per_unit, row.source, row.confidence
    return ConversionResult(
        carrier=carrier,
        quantity=quantity,
        unit=unit,
        kgce=quantity_ref * coefficient,
        coefficient=coefficient,
        coefficient_unit=f"kgce/{row.unit}",
        method=method,
        basis=basis,
        source=source,
        confidence=confidence,
    )


def _convert_all(
    quantities: Quantities,
    lhv: Mapping[str, float],
    basis: ElectricityBasis,
    year: int | None,
    equal_value: float | None,
) -> tuple[ConversionResult, ...]:
    return tuple(
        energy_kgce(
            carrier,
            qty,
            unit,
            measured_lhv_kj_per_unit=lhv.get(carrier),
            electricity_basis=basis,
            year=year,
            equal_value_kgce_per_kwh=equal_value,
        )
        for carrier, (qty, unit) in quantities.items()
    )


def comprehensive_energy_tce(
    consumed: Quantities,
    exported: Quantities | None = None,
    *,
    measured_lhv_kj_per_unit: Mapping[str, float] | None = None,
    electricity_basis: ElectricityBasis = "equivalent",
    year: int | None = None,
    equal_value_kgce_per_kwh: float | None = None,
) -> ComprehensiveEnergy:
    """Comprehensive energy consumption of a unit, enterprise or region for a period [tce].

    Parameters
    ----------
    consumed : mapping of carrier -> (quantity, unit)
        Energy purchased/consumed in the period [unit].
    exported : mapping of carrier -> (quantity, unit), optional
        Energy sold or transferred out in the period [unit].
    measured_lhv_kj_per_unit : mapping of carrier -> float, optional
        Measured low heat values [kJ per reference unit], taking precedence per carrier.
    electricity_basis, year, equal_value_kgce_per_kwh
        As in :func:`energy_kgce`.

    Returns
    -------
    ComprehensiveEnergy
        ``consumed_tce``, ``exported_tce`` and ``net_tce`` = consumed - exported [tce].

    References
    ----------
    .. [1] GB/T 2589-2020, comprehensive energy consumption = energy input converted to
       standard coal minus energy output supplied outside the boundary.
    """
    lhv = measured_lhv_kj_per_unit or {}
    parts_in = _convert_all(consumed, lhv, electricity_basis, year, equal_value_kgce_per_kwh)
    parts_out = _convert_all(exported or {}, lhv, electricity_basis, year, equal_value_kgce_per_kwh)
    return ComprehensiveEnergy(
        consumed_tce=sum(p.tce for p in parts_in),
        exported_tce=sum(p.tce for p in parts_out),
        parts_consumed=parts_in,
        parts_exported=parts_out,
    )


def unit_intensity(numerator: float, output: float) -> float:
    """Energy (or emission) per unit of output: ``numerator / output``.

    Parameters
    ----------
    numerator : float
        Energy [kgce, kWh, ...] or emission [tCO2] for the period.
    output : float
        Product output for the same period [t, kWh, weight boxes ...], > 0.

    Raises
    ------
    InputError
        ``output`` is zero, negative or not finite.
    """
    check_finite(numerator, "numerator")
    check_finite(output, "output")
    if output <= 0:
        raise InputError(f"output must be positive, got {output}", field="output")
    return numerator / output


def split_field_unit(field_unit: str) -> tuple[str, str]:
    """Numerator and denominator of a field unit: ``kgce/t`` -> (``kgce``, ``t``)."""
    numerator, sep, denominator = field_unit.partition("/")
    if not sep:
        raise UnitError(f"field unit {field_unit!r} is not a ratio")
    return numerator, denominator


def field_intensity(
    field_unit: str,
    output: float,
    *,
    energy_kgce: float | None = None,
    electricity_kwh: float | None = None,
    output_unit: str | None = None,
) -> float:
    """Unit product energy consumption in a field's unit (kgce/t, kWh/t, gce/kWh ...).

    Parameters
    ----------
    field_unit : str
        The field's unit, e.g. ``kgce/t`` (clinker), ``kWh/t`` (aluminium liquid),
        ``gce/kWh`` (electricity supplied).
    output : float
        Product output [output_unit, default the field unit's denominator].
    energy_kgce : float, optional
        Comprehensive energy [kgce]; needed when the numerator is coal equivalent.
    electricity_kwh : float, optional
        Electricity [kWh]; needed when the numerator is an energy unit (kWh).
    output_unit : str, optional
        Unit of ``output`` when it differs from the denominator (e.g. ``MWh``).

    References
    ----------
    .. [1] GB/T 2589-2020, unit product comprehensive energy consumption = comprehensive
       energy consumption / output of qualified product.
    """
    numerator, denominator = split_field_unit(field_unit)
    if output_unit is not None and output_unit != denominator:
        output = convert(output, output_unit, denominator)
    kind = unit_def(numerator).dimension
    if kind == "coal_equivalent" and energy_kgce is not None:
        return unit_intensity(convert(energy_kgce, "kgce", numerator), output)
    if kind == "energy" and electricity_kwh is not None:
        return unit_intensity(convert(electricity_kwh, "kWh", numerator), output)
    raise InputError(
        f"{field_unit!r} needs {'energy_kgce' if kind != 'energy' else 'electricity_kwh'}"
    )
