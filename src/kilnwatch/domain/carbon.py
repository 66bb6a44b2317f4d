"""CO₂ from fuel combustion, purchased electricity and heat, and process calcination.

References
----------
.. [1] NDRC, 企业温室气体排放核算方法与报告指南 (24 industry guidelines, 2013-2015; the first
   ten, steel, chemicals and power generation among them, issued with
   发改办气候〔2013〕2526号). Each guideline's 核算方法 part gives combustion CO₂ = activity [GJ]
   × carbon content [tC/GJ] × oxidation rate × 44/12 and purchased electricity or heat CO₂ =
   activity × factor, with a table of default values (``carbon/fuel_factors.csv``).
   Section and table numbers were not checked against the texts.
.. [2] MEE & NBS, 2022 electricity CO₂ emission factors (published December 2024) and 2023
   factors (公告2025年第47号), as cited in ``carbon/grid_factors.csv``.
.. [3] GB/T 32150-2025, 7.5.6-7.5.7: purchased heat, default 0.11 tCO₂/GJ (as cited by
   third-party code; ``carbon/heat_factors.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kilnwatch.domain._validate import check_fraction, check_nonnegative
from kilnwatch.domain.units import convert
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
    """CO₂ of burning one fuel, with the parameters used.

    Parameters
    ----------
    fuel : str
        Fuel key of ``carbon/fuel_factors.csv``. [-]
    activity_gj : float
        Heat of the fuel burned (quantity × net calorific value). [GJ]
    ncv_gj_per_unit : float
        Net calorific value used, per the factor's unit (t or 10⁴ m³). [GJ/unit]
    carbon_tc_per_gj : float
        Carbon content per unit heat used. [tC/GJ]
    oxidation_fraction : float
        Carbon oxidation rate used. [-]
    co2_t : float
        The emission. [tCO₂]
    source : str
        Source of the default factors (prefixed when measured values were used). [-]
    confidence : str
        Confidence of the default factors: good, medium or low. [-]

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南 (发改办气候〔2013〕2526号 and later batches),
       fossil fuel combustion.
    """

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
    """CO₂ = activity × factor, with the factor's identity, source and confidence.

    Parameters
    ----------
    activity : float
        The activity (MWh of electricity, GJ of heat, t of carbonate). [unit of
        ``activity_unit``]
    activity_unit : str
        ``MWh``, ``GJ`` or ``t``. [-]
    factor : float
        The emission factor used. [tCO₂ per activity unit]
    factor_unit : str
        ``tCO2/MWh``, ``tCO2/GJ`` or ``tCO2/t``. [-]
    factor_id : str
        Row id of the factor table, the material, or ``explicit`` for a supplied factor. [-]
    co2_t : float
        The emission. [tCO₂]
    source : str
        Source of the factor. [-]
    confidence : str
        good, medium, low, or ``n/a`` for a supplied factor. [-]

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南: emissions of purchased electricity and heat, and
       process emissions, as activity × emission factor.
    """

    activity: float
    activity_unit: str
    factor: float
    factor_unit: str
    factor_id: str
    co2_t: float
    source: str
    confidence: str


def co2_per_c() -> float:
    """Mass ratio of CO₂ to carbon, 44/12.

    Returns
    -------
    float
        ``M(CO₂) / M(C)`` from the integer molar masses of ``carbon/constants.csv``. [-]

    Notes
    -----
    ``44 / 12 = 3.667``: each tonne of carbon oxidised gives 44/12 t of CO₂.

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南, fossil fuel combustion: the 44/12 factor of the
       emission-factor formula.
    """
    masses = load_carbon_constants()
    return masses["molar_mass_co2"] / masses["molar_mass_c"]


def fuel_factor(fuel: str, factors: Mapping[str, FuelFactor] | None = None) -> FuelFactor:
    """The default combustion factors of a fuel.

    Parameters
    ----------
    fuel : str
        Fuel key of ``carbon/fuel_factors.csv`` (``bituminous_coal``, ``natural_gas`` ...). [-]
    factors : mapping of str to FuelFactor, optional
        Defaults for each fuel; ``carbon/fuel_factors.csv`` when omitted. [-]

    Returns
    -------
    FuelFactor
        Net calorific value [GJ/unit], carbon content [tC/GJ], oxidation rate [-], the unit
        (t or 10^4m3), source and confidence.

    Raises
    ------
    UnknownCarrierError
        The fuel has no row.

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南, table of default values for common fossil
       fuels (as transcribed by third-party code; ``carbon/fuel_factors.csv``).
    """
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
    """CO₂ from burning a fossil fuel.

    Parameters
    ----------
    fuel : str
        Fuel key of ``carbon/fuel_factors.csv`` (``bituminous_coal``, ``natural_gas`` ...). [-]
    quantity : float
        Fuel burned: mass for solids and liquids, volume for gases. [unit of ``unit``]
    unit : str
        Unit key of ``quantity`` (``t``, ``kg``, ``m3``, ``10^4m3`` ...). [-]
    ncv_gj_per_unit : float, optional
        Measured net calorific value per the factor's unit (t or 10⁴ m³). [GJ/unit]
    carbon_tc_per_gj : float, optional
        Measured carbon content per unit heat. [tC/GJ]
    oxidation_fraction : float, optional
        Measured carbon oxidation rate, 0-1. [-]
    factors : mapping of str to FuelFactor, optional
        The default-factor table; defaults to the packaged one. [-]

    Returns
    -------
    CombustionEmission
        ``co2_t`` [tCO₂] with the heat [GJ] and the parameters used.

    Notes
    -----
    ``E = AD × CC × OF × 44/12`` with ``AD = FC × NCV`` [GJ]: fuel consumed FC, net calorific
    value NCV, carbon content CC [tC/GJ] and oxidation rate OF; measured values replace the
    defaults one by one.

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南 (发改办气候〔2013〕2526号 and later batches),
       核算方法: fossil fuel combustion, and the table of default values.
    """
    row = fuel_factor(fuel, factors)
    amount = convert(check_nonnegative(quantity, "quantity"), unit, row.unit)
    ncv = (
        row.ncv_gj_per_unit
        if ncv_gj_per_unit is None
        else check_nonnegative(ncv_gj_per_unit, "ncv")
    )
    cc = (
        row.carbon_tc_per_gj
        if carbon_tc_per_gj is None
        else check_nonnegative(carbon_tc_per_gj, "cc")
    )
    ox = row.oxidation_fraction if oxidation_fraction is None else oxidation_fraction
    check_fraction(ox, "oxidation_fraction")
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
    """The grid-average electricity CO₂ factor of a region and year, or a row by id.

    Parameters
    ----------
    year : int or None
        The calendar year of the published factor. [-]
    region : str, optional
        ``national`` (default) or a province key present in ``carbon/grid_factors.csv``. [-]
    factor_id : str, optional
        A row id of ``carbon/grid_factors.csv``; overrides year and region. [-]
    factors : tuple of GridFactor, optional
        The factor table; defaults to the packaged one. [-]

    Returns
    -------
    GridFactor
        ``tco2_per_mwh`` [tCO₂/MWh] with its year, region, source and confidence.

    Raises
    ------
    NoConfirmedValueError
        No factor for that year and region (years are never substituted).

    References
    ----------
    .. [1] MEE & NBS, 2022 electricity CO₂ emission factors (published December 2024) and 2023
       factors (公告2025年第47号), national and provincial grid averages, as cited in
       ``carbon/grid_factors.csv``.
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
    """CO₂ of net purchased electricity.

    Parameters
    ----------
    electricity_kwh : float
        Net purchased electricity. [kWh]
    year : int or None
        The calendar year whose published factor applies. [-]
    region : str, optional
        ``national`` (default) or a province key present in ``grid_factors.csv``. [-]
    factor_id : str, optional
        A factor row by id instead of year and region. [-]
    factor_tco2_per_mwh : float, optional
        An explicit factor, e.g. a newly published one. [tCO₂/MWh]

    Returns
    -------
    FactorEmission
        ``co2_t`` [tCO₂], the activity [MWh] and the factor used [tCO₂/MWh].

    Notes
    -----
    ``E = AD × EF``: net purchased electricity [MWh] times the grid factor [tCO₂/MWh].

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南, 核算方法: emissions of purchased electricity.
    .. [2] MEE & NBS, 2022 and 2023 electricity CO₂ emission factors (``grid_factors.csv``).
    """
    mwh = convert(check_nonnegative(electricity_kwh, "electricity_kwh"), "kWh", "MWh")
    if factor_tco2_per_mwh is not None:
        factor, fid, source, conf = factor_tco2_per_mwh, "explicit", "supplied by caller", "n/a"
    else:
        row = grid_factor(year, region, factor_id=factor_id)
        factor, fid, source, conf = row.tco2_per_mwh, row.factor_id, row.source, row.confidence
    return FactorEmission(mwh, "MWh", factor, "tCO2/MWh", fid, mwh * factor, source, conf)


def heat_factor(year: int | None, factors: tuple[HeatFactor, ...] | None = None) -> HeatFactor:
    """The purchased-heat CO₂ factor of a year: that year's row, else the any-year default.

    Parameters
    ----------
    year : int or None
        The calendar year. [-]
    factors : tuple of HeatFactor, optional
        The factor table; defaults to ``carbon/heat_factors.csv``. [-]

    Returns
    -------
    HeatFactor
        ``tco2_per_gj`` [tCO₂/GJ] with its source and confidence.

    Raises
    ------
    NoConfirmedValueError
        Neither a row of the year nor an any-year row exists.

    References
    ----------
    .. [1] GB/T 32150-2025, 7.5.6-7.5.7: purchased heat, default 0.11 tCO₂/GJ (as cited by
       third-party code; ``carbon/heat_factors.csv``).
    """
    rows = load_heat_factors() if factors is None else factors
    exact = [r for r in rows if r.year is not None and r.year == year]
    fallback = [r for r in rows if r.year is None]
    if exact or fallback:
        return (exact or fallback)[0]
    raise NoConfirmedValueError(f"no confirmed purchased-heat factor for year {year}")


def co2_heat_t(
    heat_gj: float, year: int | None = None, *, factor_tco2_per_gj: float | None = None
) -> FactorEmission:
    """CO₂ of purchased heat.

    Parameters
    ----------
    heat_gj : float
        Net purchased heat. [GJ]
    year : int, optional
        The calendar year whose factor applies. [-]
    factor_tco2_per_gj : float, optional
        A measured or supplied factor, which comes first. [tCO₂/GJ]

    Returns
    -------
    FactorEmission
        ``co2_t`` [tCO₂], the activity [GJ] and the factor used [tCO₂/GJ].

    Notes
    -----
    ``E = AD × EF``: purchased heat [GJ] times the heat factor [tCO₂/GJ].

    References
    ----------
    .. [1] GB/T 32150-2025, 7.5.6-7.5.7 (as cited): a measured factor first, else the default
       0.11 tCO₂/GJ.
    """
    gj = check_nonnegative(heat_gj, "heat_gj")
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
    """Process CO₂ per tonne of clinker from its CaO and MgO content.

    Parameters
    ----------
    cao_fraction : float
        CaO mass fraction of the clinker, 0-1. [-]
    mgo_fraction : float
        MgO mass fraction of the clinker, 0-1. [-]
    non_carbonate_cao_fraction : float
        CaO that did not come from carbonates (e.g. from slag), 0-1. [-]
    non_carbonate_mgo_fraction : float
        MgO that did not come from carbonates, 0-1. [-]

    Returns
    -------
    float
        The clinker emission factor. [tCO₂/t]

    Notes
    -----
    ``EF = (CaO − CaO_nc) × 44/56 + (MgO − MgO_nc) × 44/40`` with mass fractions, where ``_nc``
    is the part that did not come from carbonates (stoichiometry of CaCO₃ → CaO + CO₂ and
    MgCO₃ → MgO + CO₂).

    References
    ----------
    .. [1] 中国水泥生产企业温室气体排放核算方法与报告指南（试行） (NDRC): process emissions of
       clinker calcination. The formula text was not seen; the ratios are stoichiometric
       (``carbon/constants.csv``).
    """
    check_fraction(cao_fraction, "cao_fraction")
    check_fraction(mgo_fraction, "mgo_fraction")
    check_fraction(non_carbonate_cao_fraction, "non_carbonate_cao_fraction")
    check_fraction(non_carbonate_mgo_fraction, "non_carbonate_mgo_fraction")
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
    """Process (calcination) CO₂ of a clinker output.

    Parameters
    ----------
    clinker_t : float
        Clinker produced. [t]
    cao_fraction, mgo_fraction : float
        CaO and MgO mass fractions of the clinker, each 0-1. [-]
    non_carbonate_cao_fraction, non_carbonate_mgo_fraction : float
        The parts of those oxides that did not come from carbonates, each 0-1. [-]

    Returns
    -------
    float
        The process emission. [tCO₂]

    Notes
    -----
    ``E = clinker [t] × EF [tCO₂/t]`` with ``EF`` of :func:`clinker_factor_tco2_per_t`.

    References
    ----------
    .. [1] 中国水泥生产企业温室气体排放核算方法与报告指南（试行） (NDRC): process emissions of
       clinker calcination (formula text not seen).
    """
    factor = clinker_factor_tco2_per_t(
        cao_fraction,
        mgo_fraction,
        non_carbonate_cao_fraction=non_carbonate_cao_fraction,
        non_carbonate_mgo_fraction=non_carbonate_mgo_fraction,
    )
    return check_nonnegative(clinker_t, "clinker_t") * factor


def co2_process_carbonate_t(
    material: str, mass_t: float, *, purity_fraction: float = 1.0
) -> FactorEmission:
    """Process CO₂ of calcining a carbonate.

    Parameters
    ----------
    material : str
        A key of ``carbon/process_factors.csv`` (``limestone``, ``dolomite``). [-]
    mass_t : float
        Carbonate consumed. [t]
    purity_fraction : float
        Carbonate content of the material, 0-1. [-]

    Returns
    -------
    FactorEmission
        ``co2_t`` [tCO₂], the pure carbonate [t] and the factor used [tCO₂/t].

    Notes
    -----
    ``E = mass × purity × EF`` with the material's factor [tCO₂/t carbonate].

    References
    ----------
    .. [1] 企业温室气体排放核算方法与报告指南, process emissions of carbonate use. The
       guideline's default factors were not seen: limestone 0.440 and dolomite 0.4743 come from
       third-party demo data (``carbon/process_factors.csv``, low).
    """
    factors = load_process_factors()
    if material not in factors:
        raise UnknownCarrierError(
            f"no process factor for {material!r}; known: {', '.join(factors)}"
        )
    check_fraction(purity_fraction, "purity_fraction")
    row = factors[material]
    pure_t = check_nonnegative(mass_t, "mass_t") * purity_fraction
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
