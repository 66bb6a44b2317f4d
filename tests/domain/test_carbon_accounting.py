"""CO2 from combustion, purchased electricity/heat and clinker calcination."""

from __future__ import annotations

import pytest

from kilnwatch.domain import (
    co2_combustion_t,
    co2_electricity_t,
    co2_heat_t,
    co2_process_carbonate_t,
    co2_process_clinker_t,
)
from kilnwatch.domain.carbon import clinker_factor_tco2_per_t
from kilnwatch.errors import InputError, NoConfirmedValueError, UnitError, UnknownCarrierError

REL = 1e-12


def test_bituminous_coal_combustion():
    """10 000 t bituminous coal: 10 000 t x 23.204 GJ/t = 232 040 GJ;
    CO2 = 232 040 x 0.02618 tC/GJ x 0.93 x 44/12 = 20 715.57... t."""
    result = co2_combustion_t("bituminous_coal", 10_000, "t")
    assert result.activity_gj == pytest.approx(232_040, rel=REL)
    assert result.co2_t == pytest.approx(232_040 * 0.02618 * 0.93 * 44 / 12, rel=REL)
    assert result.confidence == "medium"


def test_natural_gas_combustion_in_m3_with_measured_ncv():
    """1 000 000 m3 = 100 x 10^4 m3; measured NCV 380 GJ/10^4 m3 -> 38 000 GJ;
    CO2 = 38 000 x 0.0153 x 0.99 x 44/12 = 2110.62 t."""
    result = co2_combustion_t("natural_gas", 1_000_000, "m3", ncv_gj_per_unit=380)
    assert result.co2_t == pytest.approx(38_000 * 0.0153 * 0.99 * 44 / 12, rel=REL)
    assert result.source.startswith("measured values")


def test_combustion_errors():
    with pytest.raises(UnknownCarrierError):
        co2_combustion_t("unobtainium", 1, "t")
    with pytest.raises(UnitError):
        co2_combustion_t("bituminous_coal", 1, "kWh")
    with pytest.raises(InputError):
        co2_combustion_t("bituminous_coal", 1, "t", oxidation_fraction=1.5)


def test_purchased_electricity_by_year():
    """1 000 000 kWh = 1000 MWh x 0.5366 tCO2/MWh (2022) = 536.6 t; 2023: x 0.5306 = 530.6 t."""
    assert co2_electricity_t(1_000_000, 2022).co2_t == pytest.approx(536.6, rel=REL)
    result = co2_electricity_t(1_000_000, 2023)
    assert (result.co2_t, result.factor_id) == (pytest.approx(530.6, rel=REL), "national_2023")
    guangdong = co2_electricity_t(1_000_000, 2023, "guangdong")
    assert guangdong.co2_t == pytest.approx(441.9, rel=REL)
    assert co2_electricity_t(1000, None, factor_tco2_per_mwh=0.6).co2_t == pytest.approx(0.6)


def test_missing_grid_year_is_not_substituted():
    with pytest.raises(NoConfirmedValueError):
        co2_electricity_t(1000, 2019)
    with pytest.raises(NoConfirmedValueError):
        co2_electricity_t(1000, 2023, "shandong")


def test_purchased_heat():
    """1000 GJ x 0.11 tCO2/GJ (default, any year) = 110 t."""
    assert co2_heat_t(1000, 2024).co2_t == pytest.approx(110.0, rel=REL)
    assert co2_heat_t(1000, factor_tco2_per_gj=0.1).co2_t == pytest.approx(100.0, rel=REL)


def test_clinker_process_emission():
    """1 000 000 t clinker, CaO 65 %, MgO 2 %: EF = 0.65 x 44/56 + 0.02 x 44/40
    = 0.510714 + 0.022 = 0.532714 tCO2/t -> 532 714.29 t."""
    assert clinker_factor_tco2_per_t(0.65, 0.02) == pytest.approx(0.65 * 44 / 56 + 0.022)
    co2 = co2_process_clinker_t(1_000_000, 0.65, 0.02)
    assert co2 == pytest.approx(1_000_000 * (0.65 * 44 / 56 + 0.02 * 44 / 40), rel=REL)
    reduced = co2_process_clinker_t(1_000_000, 0.65, 0.02, non_carbonate_cao_fraction=0.01)
    assert reduced == pytest.approx(co2 - 1_000_000 * 0.01 * 44 / 56, rel=REL)
    with pytest.raises(InputError):
        co2_process_clinker_t(1, 0.01, 0.0, non_carbonate_cao_fraction=0.02)


def test_carbonate_process_emission():
    """1000 t limestone at 90 % purity x 0.440 tCO2/t = 396 t (low-confidence factor)."""
    result = co2_process_carbonate_t("limestone", 1000, purity_fraction=0.9)
    assert result.co2_t == pytest.approx(396.0, rel=REL)
    assert result.confidence == "low"
    with pytest.raises(UnknownCarrierError):
        co2_process_carbonate_t("chalk", 1)
