"""Standard-coal conversion and comprehensive energy consumption (GB/T 2589).

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则 (issued 2020-09-29, in force 2021-04-01). Its foreword
   places the definitions of 能量的当量值 in 3.2, 能源的等价值 in 3.3, 综合能耗, 单位产值综合能耗
   and 单位产品综合能耗 in 3.5-3.8 and 折标准煤系数 in 3.9; the calculation principles in
   Clause 4, the boundary in Clause 5, the calculation scope in Clause 6, the conversion to
   standard coal in Clause 8, and reference coefficients in Annex A. The body text was not
   read: which of 3.5-3.8 holds which definition, and the clause of the formulas, are not
   known; see ``docs/accounting.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kilnwatch.domain._validate import check_finite, check_nonnegative, split_ratio_unit
from kilnwatch.domain.units import convert, dimension_of, unit_def
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
    """One carrier quantity converted to standard coal, with the coefficient used.

    Parameters
    ----------
    carrier : str
        Carrier key (``raw_coal``, ``electricity`` ...). [-]
    quantity : float
        The physical quantity as given. [unit of ``unit``]
    unit : str
        Unit key of ``quantity``. [-]
    kgce : float
        The quantity in standard coal. [kgce]
    coefficient : float
        The conversion coefficient used. [kgce per ``coefficient_unit``]
    coefficient_unit : str
        Unit of the coefficient, ``kgce/<reference unit>``. [-]
    method : {"reference_coefficient", "measured_lhv", "equal_value"}
        Where the coefficient came from. [-]
    basis : {"equivalent", "equal"} or None
        For electricity: 当量值 or 等价值; None for other carriers. [-]
    source : str
        Source of the coefficient. [-]
    confidence : str
        ``good``, ``medium``, ``low``, or ``n/a`` for a value the caller supplied. [-]

    References
    ----------
    .. [1] GB/T 2589-2020, 3.2 (当量值), 3.3 (等价值), 3.9 (折标准煤系数) and Annex A.
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
        """The result in tonnes of standard coal [tce]."""
        return convert(self.kgce, "kgce", KGCE_PER_TCE_UNIT)


@dataclass(frozen=True)
class ComprehensiveEnergy:
    """Comprehensive energy consumption of a boundary for a period, with its parts.

    Parameters
    ----------
    consumed_tce : float
        Energy consumed within the boundary. [tce]
    exported_tce : float
        Energy supplied outside the boundary. [tce]
    parts_consumed : tuple of ConversionResult
        The conversion of each consumed carrier. [-]
    parts_exported : tuple of ConversionResult
        The conversion of each exported carrier. [-]

    References
    ----------
    .. [1] GB/T 2589-2020, 3.5-3.8 (综合能耗) and Clauses 4-6 (principles, boundary, scope).
    """

    consumed_tce: float
    exported_tce: float
    parts_consumed: tuple[ConversionResult, ...]
    parts_exported: tuple[ConversionResult, ...]

    @property
    def net_tce(self) -> float:
        """Comprehensive energy consumption [tce] = consumed - exported."""
        return self.consumed_tce - self.exported_tce


def carrier_keys(coefficients: tuple[CoalCoefficient, ...] | None = None) -> tuple[str, ...]:
    """Every carrier key with a GB/T 2589 row, in table order, without repeats.

    Parameters
    ----------
    coefficients : tuple of CoalCoefficient, optional
        The coefficient table; defaults to ``energy/standard_coal_coefficients.csv``. [-]

    Returns
    -------
    tuple of str
        ``raw_coal``, ``washed_coal`` ... ``electricity`` ...

    References
    ----------
    .. [1] GB/T 2589-2020, Annex A (reference standard-coal coefficients), as transcribed in
       ``energy/standard_coal_coefficients.csv`` (source and confidence per row).
    """
    rows = load_coal_coefficients() if coefficients is None else coefficients
    return tuple(dict.fromkeys(row.carrier for row in rows))


def coefficient_for(
    carrier: str, unit: str, coefficients: tuple[CoalCoefficient, ...] | None = None
) -> CoalCoefficient:
    """The coefficient row of ``carrier`` whose unit has the dimension of ``unit``.

    Parameters
    ----------
    carrier : str
        Carrier key of ``energy/standard_coal_coefficients.csv``. [-]
    unit : str
        Unit key the carrier is measured in; picks the mass, volume or energy row. [-]
    coefficients : tuple of CoalCoefficient, optional
        The coefficient table; defaults to the packaged GB/T 2589 table. [-]

    Returns
    -------
    CoalCoefficient
        ``kgce_per_unit`` [kgce per the row's unit] (None when only a range is known), unit,
        source and confidence.

    Raises
    ------
    UnknownCarrierError
        ``carrier`` has no row.
    UnitError
        ``unit`` is unknown, or no row of the carrier is in that dimension (e.g. coal in kWh).

    References
    ----------
    .. [1] GB/T 2589-2020, Annex A (reference standard-coal coefficients).
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
    """Convert a carrier quantity to standard coal.

    Parameters
    ----------
    carrier : str
        Carrier key (``raw_coal``, ``natural_gas``, ``electricity``, ``steam`` ...). [-]
    quantity : float
        The physical quantity, >= 0. [unit of ``unit``]
    unit : str
        Unit key of ``quantity`` (``t``, ``kg``, ``m3``, ``10^4m3``, ``kWh``, ``GJ`` ...). [-]
    measured_lhv_kj_per_unit : float, optional
        The enterprise's measured low heat value, per the carrier's reference unit (kJ/kg for
        coal, kJ/m³ for gas); takes precedence over the reference coefficient. [kJ/unit]
    electricity_basis : {"equivalent", "equal"}
        当量值 (calorific equivalent, 0.1229 kgce/kWh) or 等价值 (by year). [-]
    year : int, optional
        The calendar year whose 等价值 applies (only with ``electricity_basis="equal"``). [-]
    equal_value_kgce_per_kwh : float, optional
        An explicit 等价值, e.g. the statistics bureau's figure for the year. [kgce/kWh]
    coefficients : tuple of CoalCoefficient, optional
        The coefficient table; defaults to the packaged GB/T 2589 table. [-]

    Returns
    -------
    ConversionResult
        ``kgce`` [kgce], the coefficient used [kgce/unit], its source and confidence.

    Raises
    ------
    UnknownCarrierError, UnitError, NoConfirmedValueError, InputError

    Notes
    -----
    ``kgce = quantity [reference unit] × coefficient [kgce/reference unit]``, where the
    coefficient is ``measured LHV [kJ/unit] / 29 307 [kJ/kgce]`` when a measured low heat value
    is given, the 等价值 of the year for electricity on the ``equal`` basis, and otherwise the
    reference coefficient of Annex A.

    References
    ----------
    .. [1] GB/T 2589-2020, Clause 8 (conversion to standard coal), 3.9 (折标准煤系数) and
       Annex A (reference coefficients).
    .. [2] GB/T 2589-2020, 3.2 (能量的当量值) and 3.3 (能源的等价值), for the electricity basis.
    """
    check_nonnegative(quantity, "quantity")
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
    """Comprehensive energy consumption of a unit, enterprise or region for a period.

    Parameters
    ----------
    consumed : mapping of carrier to (quantity, unit)
        Energy purchased or consumed in the period, each in its own unit key. [unit of each]
    exported : mapping of carrier to (quantity, unit), optional
        Energy sold or transferred outside the boundary in the period. [unit of each]
    measured_lhv_kj_per_unit : mapping of carrier to float, optional
        Measured low heat values per reference unit, taking precedence per carrier. [kJ/unit]
    electricity_basis : {"equivalent", "equal"}
        当量值 or 等价值 for electricity, as in :func:`energy_kgce`. [-]
    year : int, optional
        The calendar year whose 等价值 applies. [-]
    equal_value_kgce_per_kwh : float, optional
        An explicit electricity 等价值. [kgce/kWh]

    Returns
    -------
    ComprehensiveEnergy
        ``consumed_tce``, ``exported_tce`` and ``net_tce`` [tce], with each carrier's
        conversion.

    Notes
    -----
    ``E = Σ consumed_i × coefficient_i − Σ exported_j × coefficient_j`` [tce]: the energy
    entering the boundary converted to standard coal, minus the energy supplied outside it.

    References
    ----------
    .. [1] GB/T 2589-2020, 3.5-3.8 (综合能耗), Clause 4 (calculation principles), Clause 5
       (boundary) and Clause 6 (calculation scope); the clause of the formula was not read.
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
    """Energy (or emission) per unit of output.

    Parameters
    ----------
    numerator : float
        Energy (kgce, kWh ...) or emission (tCO₂) of the period. [unit of the numerator]
    output : float
        Product output of the same period (t, kWh, weight boxes ...), > 0. [unit of output]

    Returns
    -------
    float
        ``numerator / output``. [numerator unit / output unit]

    Raises
    ------
    InputError
        ``output`` is zero, negative or not finite.

    Notes
    -----
    ``e = E / P``: energy (or emission) of the period over the output of qualified product.

    References
    ----------
    .. [1] GB/T 2589-2020, 3.5-3.8 (单位产品综合能耗, 单位产值综合能耗).
    """
    check_finite(numerator, "numerator")
    check_finite(output, "output")
    if output <= 0:
        raise InputError(f"output must be positive, got {output}", field="output")
    return numerator / output


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
        ``gce/kWh`` (electricity supplied). [-]
    output : float
        Product output, in ``output_unit`` or else the field unit's denominator. [unit of
        ``output_unit``]
    energy_kgce : float, optional
        Comprehensive energy; needed when the numerator is coal equivalent. [kgce]
    electricity_kwh : float, optional
        Electricity; needed when the numerator is an energy unit (kWh). [kWh]
    output_unit : str, optional
        Unit key of ``output`` when it differs from the denominator (e.g. ``MWh``). [-]

    Returns
    -------
    float
        The intensity. [unit of ``field_unit``]

    Raises
    ------
    InputError
        The numerator the field needs is not given, or ``output`` is not positive.
    UnitError
        ``field_unit`` is not a ratio, or ``output_unit`` does not convert to its denominator.

    Notes
    -----
    ``e = E / P`` with ``E`` converted to the field unit's numerator and ``P`` to its
    denominator, e.g. ``gce/kWh = 1000 × kgce / kWh supplied``.

    References
    ----------
    .. [1] GB/T 2589-2020, 3.5-3.8 (单位产品综合能耗: comprehensive energy consumption over the
       output of qualified product).
    .. [2] The limit standards define each field's indicator and unit, e.g. GB 16780-2021
       (cement, kgce/t clinker), GB 21258-2024 (coal power, gce/kWh supplied), GB 21346-2022
       (aluminium, kWh/t liquid aluminium); see ``levels/fields.csv``.
    """
    numerator, denominator = split_ratio_unit(field_unit)
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


def kgce_per_kgoe() -> tuple[float, str]:
    """The standard coal of one kilogram of oil equivalent, with its confidence.

    Returns
    -------
    tuple of (float, str)
        ``kj_per_kgoe / kj_per_kgce`` [kgce/kgoe] and the lower confidence of the two constants.

    References
    ----------
    .. [1] GB/T 2589-2020 (1 kgce = 29 307 kJ) and the IEA/OECD oil equivalent
       (1 kgoe = 41 868 kJ), ``reference/energy/constants.csv``.
    """
    constants = load_energy_constants()
    kgce, kgoe = constants["kj_per_kgce"], constants["kj_per_kgoe"]
    grades = ("low", "medium", "good")
    worst = min(kgce.confidence, kgoe.confidence, key=grades.index)
    return kgoe.value / kgce.value, worst


def refinery_intensity(energy_kgce: float, crude_t: float, energy_factor: float) -> float:
    """A refinery's 单位能量因数能耗 from its comprehensive energy and crude processed.

    Parameters
    ----------
    energy_kgce : float
        Comprehensive energy consumption of the refinery over the period. [kgce]
    crude_t : float
        Crude oil and purchased feedstock processed over the same period. [t]
    energy_factor : float
        The refinery's energy factor (能量因数): the sum over its process units of each unit's
        throughput share times its factor, as the refinery declares it. [-]

    Returns
    -------
    float
        ``E / (1.4286 × P × F)``. [kgoe/(t·energy_factor)]

    Raises
    ------
    InputError
        ``crude_t`` or ``energy_factor`` is not positive, or a value is not finite.

    References
    ----------
    .. [1] GB 30251-2024, 炼化行业单位产品能源消耗限额, Table 1 (炼油单位能量因数能耗).
    .. [2] GB/T 2589-2020 and the IEA/OECD oil equivalent for kgce -> kgoe
       (:func:`kgce_per_kgoe`).
    """
    check_nonnegative(energy_kgce, "energy_kgce")
    for name, value in (("crude_t", crude_t), ("energy_factor", energy_factor)):
        if check_finite(value, name) <= 0:
            raise InputError(f"{name} must be positive, got {value}", field=name)
    factor, _ = kgce_per_kgoe()
    return unit_intensity(energy_kgce / factor, crude_t * energy_factor)
