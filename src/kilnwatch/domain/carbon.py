"""CO2 from fuel combustion, purchased electricity and heat, and clinker calcination.

References
----------
.. [1] NDRC 2013-2015, 企业温室气体排放核算方法与报告指南 (24 industry guidelines):
   combustion CO2 = activity [GJ] x carbon content [tC/GJ] x oxidation rate x 44/12; purchased
   electricity/heat CO2 = activity x factor; default values table (fuel_factors.csv).
.. [2] MEE & NBS, 2022 and 2023 electricity CO2 emission factors (grid_factors.csv).
.. [3] GB/T 32150-2025, clauses 7.5.6-7.5.7: purchased heat default 0.11 tCO2/GJ (as cited).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kilnwatch.domain.units import check_finite, convert
from kilnwatch.errors import InputError, NoConfirmedValueError, UnknownCarrierError
from kilnwatch.reference.carbon import (
    FuelFactor,
    GridFactor,
    HeatFactor,
    load_carbon_constants,
    load_fuel_factors,
    load_grid_factors,
    load_heat_factors,
    load_process_factors,
)

NATIONAL = "national"
GRID_AVERAGE = "grid_average"


@dataclass(frozen=True)
class CombustionEmission:
    """CO2 of burning one fuel, with the parameters used."""

    fuel: str
    activity_gj: float
    ncv_gj_per_unit: float
    carbon_tc_per_gj: float
    oxidation_fraction: float
    co2_t: float
    source: str
    confidence: str


@dataclass(frozen=True)
class FactorEmission:
    """CO2 = activity x factor, with the factor's identity, source and confidence."""

    activity: float
    activity_unit: str
    factor: float
    factor_unit: str
    factor_id: str
    co2_t: float
    source: str
    confidence: str


def _nonnegative(value: float, name: str) -> float:
    if check_finite(value, name) < 0:
        raise InputError(f"{name} must not be negative, got {value}", field=name)
    return value


def co2_per_c() -> float:
    """Mass ratio CO2/C = 44/12 (from the molar masses in carbon/constants.csv)."""
    masses = load_carbon_constants()
    return masses["molar_mass_co2"] / masses["molar_mass_c"]


def fuel_factor(fuel: str, factors: Mapping[str, FuelFactor] | None = None) -> FuelFactor:
    """Default factors of ``fuel``; :class:`UnknownCarrierError` if the fuel has none."""
    table = load_fuel_factors() if factors is None else factors
    if fuel not in table:
        known = ", ".join(table)
        raise UnknownCarrierError(f"no combustion factors for fuel {fuel!r}; known: {known}")
    return table[fuel]


def co2_combustion_t(
    fuel: str,
    quantity: float,
    unit: str,
    *,
    ncv_gj_per_unit: float | None = None,
    carbon_tc_per_gj: float | None = None,
    oxidation_fraction: float | None = None,
    factors: Mapping[str, FuelFactor] | None = None,
) -> CombustionEmission:
    """CO2 from burning a fossil fuel [tCO2].

    Parameters
    ----------
    fuel : str
        Fuel key of ``carbon/fuel_factors.csv`` (``bituminous_coal``, ``natural_gas`` ...).
    quantity : float
        Fuel burned [unit]; mass for solids/liquids, volume for gases.
    unit : str
        Unit key of ``quantity`` (``t``, ``kg``, ``m3``, ``10^4m3`` ...).
    ncv_gj_per_unit : float, optional
        Measured net calorific value [GJ per the factor's unit: t or 10^4 m3].
    carbon_tc_per_gj : float, optional
        Measured carbon content per unit heat [tC/GJ].
    oxidation_fraction : float, optional
        Carbon oxidation rate [fraction, 0-1].

    Returns
    -------
    CombustionEmission
        ``co2_t`` = quantity x NCV x carbon content x oxidation x 44/12.

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南, fossil fuel combustion formula and Annex
       default-value table.
    """
    row = fuel_factor(fuel, factors)
    amount = convert(_nonnegative(quantity, "quantity"), unit, row.unit)
    ncv = row.ncv_gj_per_unit if ncv_gj_per_unit is None else _nonnegative(ncv_gj_per_unit, "ncv")
    cc = row.carbon_tc_per_gj if carbon_tc_per_gj is None else _nonnegative(carbon_tc_per_gj, "cc")
    ox = row.oxidation_fraction if oxidation_fraction is None else oxidation_fraction
    if not 0 <= check_finite(ox, "oxidation_fraction") <= 1:
        raise InputError("oxidation_fraction must be within 0..1", field="oxidation_fraction")
    activity_gj = amount * ncv
    measured = (ncv_gj_per_unit, carbon_tc_per_gj, oxidation_fraction) != (None, None, None)
    return CombustionEmission(
        fuel=fuel,
        activity_gj=activity_gj,
        ncv_gj_per_unit=ncv,
        carbon_tc_per_gj=cc,
        oxidation_fraction=ox,
        co2_t=activity_gj * cc * ox * co2_per_c(),
        source=("measured values + " if measured else "") + row.source,
        confidence=row.confidence,
    )


def grid_factor(
    year: int | None,
    region: str | None = None,
    *,
    factor_id: str | None = None,
    factors: tuple[GridFactor, ...] | None = None,
) -> GridFactor:
    """The grid-average factor of ``region`` (default national) for ``year``, or by id.

    Raises
    ------
    NoConfirmedValueError
        No factor for that year and region (years are never substituted).
    """
    rows = load_grid_factors() if factors is None else factors
    for row in rows:
        if factor_id is not None and row.factor_id == factor_id:
            return row
        wanted = (GRID_AVERAGE, region or NATIONAL, year)
        if factor_id is None and year is not None and (row.kind, row.region, row.year) == wanted:
            return row
    known = ", ".join(f"{r.factor_id}" for r in rows)
    raise NoConfirmedValueError(
        f"no confirmed grid factor for year={year}, region={region or NATIONAL}, "
        f"factor_id={factor_id}; available: {known}"
    )


def co2_electricity_t(
    electricity_kwh: float,
    year: int | None,
    region: str | None = None,
    *,
    factor_id: str | None = None,
    factor_tco2_per_mwh: float | None = None,
) -> FactorEmission:
    """CO2 of purchased electricity [tCO2] = MWh x grid factor [tCO2/MWh].

    Parameters
    ----------
    electricity_kwh : float
        Net purchased electricity [kWh].
    year : int or None
        The year whose published factor applies.
    region : str, optional
        ``national`` (default) or a province key present in grid_factors.csv.
    factor_id : str, optional
        Pick a factor row by id instead of year/region.
    factor_tco2_per_mwh : float, optional
        An explicit factor [tCO2/MWh] (e.g. a newly published one).
    """
    mwh = convert(_nonnegative(electricity_kwh, "electricity_kwh"), "kWh", "MWh")
    if factor_tco2_per_mwh is not None:
        factor, fid, source, conf = factor_tco2_per_mwh, "explicit", "supplied by caller", "n/a"
    else:
        row = grid_factor(year, region, factor_id=factor_id)
        factor, fid, source, conf = row.tco2_per_mwh, row.factor_id, row.source, row.confidence
    return FactorEmission(mwh, "MWh", factor, "tCO2/MWh", fid, mwh * factor, source, conf)


def heat_factor(year: int | None, factors: tuple[HeatFactor, ...] | None = None) -> HeatFactor:
    """The heat factor for ``year``: that year's row, else the any-year default row."""
    rows = load_heat_factors() if factors is None else factors
    exact = [r for r in rows if r.year is not None and r.year == year]
    fallback = [r for r in rows if r.year is None]
    if exact or fallback:
        return (exact or fallback)[0]
    raise NoConfirmedValueError(f"no confirmed purchased-heat factor for year {year}")


def co2_heat_t(
    heat_gj: float, year: int | None = None, *, factor_tco2_per_gj: float | None = None
) -> FactorEmission:
    """CO2 of purchased heat [tCO2] = GJ x heat factor [tCO2/GJ].

    References
    ----------
    .. [1] GB/T 32150-2025, clauses 7.5.6-7.5.7 (as cited): measured factor first,
       default 0.11 tCO2/GJ.
    """
    gj = _nonnegative(heat_gj, "heat_gj")
    if factor_tco2_per_gj is not None:
        return FactorEmission(
            gj,
            "GJ",
            factor_tco2_per_gj,
            "tCO2/GJ",
            "explicit",
            gj * factor_tco2_per_gj,
            "supplied by caller",
            "n/a",
        )
    row = heat_factor(year)
    return FactorEmission(
        gj,
        "GJ",
        row.tco2_per_gj,
        "tCO2/GJ",
        row.factor_id,
        gj * row.tco2_per_gj,
        row.source,
        row.confidence,
    )


def clinker_factor_tco2_per_t(
    cao_fraction: float,
    mgo_fraction: float,
    *,
    non_carbonate_cao_fraction: float = 0.0,
    non_carbonate_mgo_fraction: float = 0.0,
) -> float:
    """Process CO2 per tonne of clinker [tCO2/t] from its CaO and MgO content.

    Notes
    -----
    ``EF = (CaO - CaO_nc) x 44/56 + (MgO - MgO_nc) x 44/40`` with mass fractions, where
    ``_nc`` is the part that did not come from carbonates (stoichiometry of CaCO3 -> CaO + CO2
    and MgCO3 -> MgO + CO2).

    References
    ----------
    .. [1] 中国水泥生产企业温室气体排放核算方法与报告指南, clinker calcination (formula text not
       seen; the ratio is stoichiometric).
    """
    fractions = (cao_fraction, mgo_fraction, non_carbonate_cao_fraction, non_carbonate_mgo_fraction)
    if any(not 0 <= check_finite(f, "fraction") <= 1 for f in fractions):
        raise InputError("oxide fractions must be within 0..1", field="fraction")
    cao = cao_fraction - non_carbonate_cao_fraction
    mgo = mgo_fraction - non_carbonate_mgo_fraction
    if cao < 0 or mgo < 0:
        raise InputError("non-carbonate oxide exceeds total oxide", field="fraction")
    m = load_carbon_constants()
    co2 = m["molar_mass_co2"]
    return cao * co2 / m["molar_mass_cao"] + mgo * co2 / m["molar_mass_mgo"]


def co2_process_clinker_t(
    clinker_t: float,
    cao_fraction: float,
    mgo_fraction: float,
    *,
    non_carbonate_cao_fraction: float = 0.0,
    non_carbonate_mgo_fraction: float = 0.0,
) -> float:
    """Process (calcination) CO2 of a clinker output [tCO2] = clinker [t] x EF [tCO2/t]."""
    factor = clinker_factor_tco2_per_t(
        cao_fraction,
        mgo_fraction,
        non_carbonate_cao_fraction=non_carbonate_cao_fraction,
        non_carbonate_mgo_fraction=non_carbonate_mgo_fraction,
    )
    return _nonnegative(clinker_t, "clinker_t") * factor


def co2_process_carbonate_t(
    material: str, mass_t: float, *, purity_fraction: float = 1.0
) -> FactorEmission:
    """Process CO2 of calcining a carbonate [tCO2] = mass [t] x purity x factor [tCO2/t].

    ``material`` is a key of ``carbon/process_factors.csv`` (``limestone``, ``dolomite``).
    """
    factors = load_process_factors()
    if material not in factors:
        raise UnknownCarrierError(
            f"no process factor for {material!r}; known: {', '.join(factors)}"
        )
    if not 0 <= check_finite(purity_fraction, "purity_fraction") <= 1:
        raise InputError("purity_fraction must be within 0..1", field="purity_fraction")
    row = factors[material]
    pure_t = _nonnegative(mass_t, "mass_t") * purity_fraction
    return FactorEmission(
        pure_t,
        "t",
        row.tco2_per_t,
        "tCO2/t",
        material,
        pure_t * row.tco2_per_t,
        row.source,
        row.confidence,
    )
