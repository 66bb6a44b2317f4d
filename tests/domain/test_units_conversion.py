"""Unit conversion between the keys of reference/units.csv."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.domain import convert, dimension_of
from kilnwatch.errors import InputError, UnitError
from kilnwatch.reference.energy import load_units


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (1, "t", "kg", 1000),
        (2.5, "10^4m3", "m3", 25_000),
        (1, "MWh", "kWh", 1000),
        (1, "kWh", "MJ", 3.6),
        (1, "GJ", "kWh", 1000 / 3.6),
        (1, "tce", "kgce", 1000),
        (300, "gce", "kgce", 0.3),
    ],
)
def test_known_conversions(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


def test_incompatible_or_unknown_units():
    with pytest.raises(UnitError):
        convert(1, "t", "kWh")
    with pytest.raises(UnitError):
        convert(1, "t", "stone")
    with pytest.raises(UnitError):
        dimension_of("bushel")
    with pytest.raises(InputError):
        convert(float("nan"), "t", "kg")


_units = st.sampled_from(sorted(load_units()))


@settings(max_examples=100, deadline=None)
@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    a=_units,
    b=_units,
)
def test_round_trip(value, a, b):
    """Converting a -> b -> a returns the value when the dimensions match."""
    if dimension_of(a) != dimension_of(b):
        with pytest.raises(UnitError):
            convert(value, a, b)
        return
    assert convert(convert(value, a, b), b, a) == pytest.approx(value, rel=1e-9, abs=1e-9)
