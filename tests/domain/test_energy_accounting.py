"""Standard-coal conversion and comprehensive energy consumption (GB/T 2589)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain import comprehensive_energy_tce, energy_kgce, field_intensity, unit_intensity
from kilnwatch.domain.energy import carrier_keys, coefficient_for
from kilnwatch.errors import (
    InputError,
    NoConfirmedValueError,
    UnitError,
    UnknownCarrierError,
)

REL = 1e-12


def test_raw_coal_1000_t():
    """1000 t raw coal = 1 000 000 kg x 0.7143 kgce/kg = 714 300 kgce = 714.3 tce."""
    result = energy_kgce("raw_coal", 1000, "t")
    assert result.kgce == pytest.approx(714_300, rel=REL)
    assert result.tce == pytest.approx(714.3, rel=REL)
    assert result.coefficient == 0.7143
    assert result.coefficient_unit == "kgce/kg"
    assert result.confidence == "good"
    assert "25403317639" in result.source


def test_natural_gas_in_ten_thousand_m3():
    """2.5 x 10^4 m3 = 25 000 m3 x 1.2143 kgce/m3 = 30 357.5 kgce."""
    assert energy_kgce("natural_gas", 2.5, "10^4m3").kgce == pytest.approx(30_357.5, rel=REL)


def test_electricity_equivalent_value_in_mwh():
    """2 MWh = 2000 kWh x 0.1229 kgce/kWh (当量值) = 245.8 kgce."""
    result = energy_kgce("electricity", 2, "MWh")
    assert result.kgce == pytest.approx(245.8, rel=REL)
    assert result.basis == "equivalent"


def test_steam_by_mass_and_by_heat():
    """10 t steam = 10 000 kg x 0.1286 = 1286 kgce; 5 GJ steam = 5000 MJ x 0.03412 = 170.6."""
    assert energy_kgce("steam", 10, "t").kgce == pytest.approx(1286.0, rel=REL)
    assert energy_kgce("steam", 5, "GJ").kgce == pytest.approx(170.6, rel=REL)


def test_measured_lhv_takes_precedence():
    """100 t coal at a measured 23 446 kJ/kg: 100 000 kg x 23 446 / 29 307 = 80 001.365 kgce."""
    result = energy_kgce("raw_coal", 100, "t", measured_lhv_kj_per_unit=23_446)
    assert result.method == "measured_lhv"
    assert result.kgce == pytest.approx(100_000 * 23_446 / 29_307, rel=REL)


def test_measured_lhv_enables_carrier_without_confirmed_coefficient():
    """LPG has no confirmed coefficient: 1 t at 50 179 kJ/kg = 1000 x 50 179 / 29 307 kgce."""
    with pytest.raises(NoConfirmedValueError):
        energy_kgce("lpg", 1, "t")
    result = energy_kgce("lpg", 1, "t", measured_lhv_kj_per_unit=50_179)
    assert result.kgce == pytest.approx(1000 * 50_179 / 29_307, rel=REL)


def test_electricity_equal_value_requires_a_sourced_or_explicit_value():
    """No 等价值 year is sourced, so none is assumed; an explicit 0.3055 kgce/kWh is used."""
    with pytest.raises(NoConfirmedValueError):
        energy_kgce("electricity", 1000, "kWh", electricity_basis="equal", year=2023)
    result = energy_kgce(
        "electricity", 1000, "kWh", electricity_basis="equal", equal_value_kgce_per_kwh=0.3055
    )
    assert result.kgce == pytest.approx(305.5, rel=REL)
    assert result.method == "equal_value"


@pytest.mark.parametrize(
    ("carrier", "unit", "error"),
    [
        ("unobtainium", "t", UnknownCarrierError),
        ("raw_coal", "kWh", UnitError),
        ("raw_coal", "furlong", UnitError),
        ("electricity", "t", UnitError),
    ],
)
def test_unknown_carrier_or_unit_is_an_error(carrier, unit, error):
    with pytest.raises(error):
        energy_kgce(carrier, 1, unit)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_quantity_is_an_error(bad):
    with pytest.raises(InputError):
        energy_kgce("raw_coal", bad, "t")


def test_comprehensive_energy_subtracts_exports():
    """In: 1000 t coal (714 300 kgce) + 1e6 kWh (122 900 kgce); out: 500 t steam (64 300 kgce).

    Net = 714 300 + 122 900 - 64 300 = 772 900 kgce = 772.9 tce.
    """
    result = comprehensive_energy_tce(
        {"raw_coal": (1000, "t"), "electricity": (1_000_000, "kWh")},
        {"steam": (500, "t")},
    )
    assert result.consumed_tce == pytest.approx(837.2, rel=REL)
    assert result.exported_tce == pytest.approx(64.3, rel=REL)
    assert result.net_tce == pytest.approx(772.9, rel=REL)
    assert [p.carrier for p in result.parts_consumed] == ["raw_coal", "electricity"]


def test_unit_intensity_and_field_intensity():
    """772 900 kgce / 10 000 t = 77.29 kgce/t; 1.2e9 gce... 3e8 kgce / 1e9 kWh = 300 gce/kWh."""
    assert unit_intensity(772_900, 10_000) == pytest.approx(77.29, rel=REL)
    assert field_intensity("kgce/t", 10_000, energy_kgce=772_900) == pytest.approx(77.29)
    assert field_intensity("gce/kWh", 1e9, energy_kgce=3e8) == pytest.approx(300.0, rel=REL)
    assert field_intensity("gce/kWh", 1e6, energy_kgce=3e8, output_unit="MWh") == pytest.approx(
        300.0, rel=REL
    )
    assert field_intensity("kWh/t", 400, electricity_kwh=5.24e6) == pytest.approx(13_100.0)
    with pytest.raises(InputError):
        unit_intensity(1.0, 0.0)
    with pytest.raises(InputError):
        field_intensity("kWh/t", 400, energy_kgce=1.0)


def test_every_reference_coefficient_converts_one_unit_to_itself():
    """1 [row unit] of each carrier with a point coefficient gives exactly that many kgce."""
    from kilnwatch.reference.energy import load_coal_coefficients

    rows = [r for r in load_coal_coefficients() if r.kgce_per_unit is not None]
    assert len(rows) > 20
    for row in rows:
        assert energy_kgce(row.carrier, 1, row.unit).kgce == row.kgce_per_unit
    assert "raw_coal" in carrier_keys()
    assert coefficient_for("steam", "GJ").unit == "MJ"


_CONFIRMED = [
    ("raw_coal", "t"),
    ("coke", "kg"),
    ("natural_gas", "m3"),
    ("electricity", "kWh"),
    ("steam", "t"),
    ("heat", "GJ"),
    ("diesel", "t"),
]
_qty = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.tuples(st.sampled_from(_CONFIRMED), _qty), min_size=1, max_size=6),
)
def test_summing_parts_equals_converting_the_whole(parts):
    """Converting each delivery and summing equals converting each carrier's total."""
    summed = sum(energy_kgce(c, q, u).kgce for (c, u), q in parts)
    totals: dict[tuple[str, str], float] = {}
    for key, q in parts:
        totals[key] = totals.get(key, 0.0) + q
    whole = sum(energy_kgce(c, q, u).kgce for (c, u), q in totals.items())
    assert summed == pytest.approx(whole, rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(q=_qty, pair=st.sampled_from([("t", "kg"), ("10^4m3", "m3"), ("MWh", "kWh"), ("GJ", "MJ")]))
def test_conversion_independent_of_unit_choice(q, pair):
    """The same amount stated in two units gives the same kgce."""
    from kilnwatch.domain import convert

    big, small = pair
    carrier = {"t": "raw_coal", "10^4m3": "natural_gas", "MWh": "electricity", "GJ": "heat"}[big]
    a = energy_kgce(carrier, q, big).kgce
    b = energy_kgce(carrier, convert(q, big, small), small).kgce
    assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
