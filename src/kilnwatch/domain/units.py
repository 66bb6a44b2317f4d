"""Unit conversion between the unit keys of ``reference/units.csv``.

Each unit has a dimension (mass, volume, energy, coal_equivalent, ...) and a factor to that
dimension's base unit. A conversion across dimensions, or from/to an unknown unit key, raises
:class:`~kilnwatch.errors.UnitError`; nothing is ever silently converted to zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kilnwatch.errors import InputError, UnitError
from kilnwatch.reference.energy import UnitDef, load_units


def unit_def(unit: str, units: Mapping[str, UnitDef] | None = None) -> UnitDef:
    """The definition of ``unit``.

    Raises
    ------
    UnitError
        When ``unit`` is not a known unit key.
    """
    table = load_units() if units is None else units
    try:
        return table[unit]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnitError(f"unknown unit {unit!r}; known units: {known}") from None


def dimension_of(unit: str, units: Mapping[str, UnitDef] | None = None) -> str:
    """The dimension of ``unit`` (e.g. ``mass`` for ``t``)."""
    return unit_def(unit, units).dimension


def check_finite(value: float, name: str) -> float:
    """``value`` if it is a finite number, else :class:`InputError`."""
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}", field=name)
    return value


def convert(
    value: float, from_unit: str, to_unit: str, units: Mapping[str, UnitDef] | None = None
) -> float:
    """Convert ``value`` [from_unit] to [to_unit].

    Parameters
    ----------
    value : float
        The quantity [from_unit].
    from_unit, to_unit : str
        Unit keys of ``reference/units.csv`` with the same dimension.

    Returns
    -------
    float
        The quantity [to_unit].

    Raises
    ------
    UnitError
        Unknown unit key, or units of different dimensions (e.g. ``t`` to ``kWh``).
    """
    check_finite(value, "value")
    source = unit_def(from_unit, units)
    target = unit_def(to_unit, units)
    if source.dimension != target.dimension:
        raise UnitError(
            f"cannot convert {from_unit!r} ({source.dimension}) to {to_unit!r} ({target.dimension})"
        )
    if from_unit == to_unit:
        return value
    return value * source.factor_to_base / target.factor_to_base
