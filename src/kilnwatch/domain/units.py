"""Unit conversion between the unit keys of ``reference/units.csv``.

Each unit has a dimension (mass, volume, energy, coal_equivalent, ...) and a factor to that
dimension's base unit. A conversion across dimensions, or from/to an unknown unit key, raises
:class:`~kilnwatch.errors.UnitError`; nothing is ever silently converted to zero.

References
----------
.. [1] GB 3100-1993, 国际单位制及其应用 (the SI and its use: the statutory units of China).
.. [2] BIPM, The International System of Units (SI Brochure), 8th edition, 2006: SI prefixes,
   and Table 6, non-SI units accepted for use with the SI (tonne, litre, hour).
"""

from __future__ import annotations

from collections.abc import Mapping

from kilnwatch.domain._validate import check_finite
from kilnwatch.errors import UnitError
from kilnwatch.reference.energy import UnitDef, load_units


def unit_def(unit: str, units: Mapping[str, UnitDef] | None = None) -> UnitDef:
    """The definition of a unit key: its dimension and factor to the dimension's base unit.

    Parameters
    ----------
    unit : str
        A unit key of ``reference/units.csv`` (``t``, ``m3``, ``kWh``, ``kgce`` ...). [-]
    units : mapping of str to UnitDef, optional
        The unit table; defaults to the packaged ``units.csv``. [-]

    Returns
    -------
    UnitDef
        ``dimension``, ``factor_to_base`` [base unit per unit], ``base_unit``, source and
        confidence.

    Raises
    ------
    UnitError
        When ``unit`` is not a known unit key.

    References
    ----------
    .. [1] GB 3100-1993, 国际单位制及其应用.
    .. [2] BIPM SI Brochure, 8th edition (2006), SI prefixes and Table 6 (tonne, litre, hour).
    """
    table = load_units() if units is None else units
    try:
        return table[unit]
    except KeyError:
        known = ", ".join(sorted(table))
        raise UnitError(f"unknown unit {unit!r}; known units: {known}") from None


def dimension_of(unit: str, units: Mapping[str, UnitDef] | None = None) -> str:
    """The dimension of a unit key (e.g. ``mass`` for ``t``).

    Parameters
    ----------
    unit : str
        A unit key of ``reference/units.csv``. [-]
    units : mapping of str to UnitDef, optional
        The unit table; defaults to the packaged ``units.csv``. [-]

    Returns
    -------
    str
        ``mass``, ``volume``, ``energy``, ``coal_equivalent``, ``oil_equivalent`` ...

    References
    ----------
    .. [1] GB 3100-1993, 国际单位制及其应用 (quantities and their SI units).
    """
    return unit_def(unit, units).dimension


def convert(
    value: float, from_unit: str, to_unit: str, units: Mapping[str, UnitDef] | None = None
) -> float:
    """Convert a quantity between two unit keys of the same dimension.

    Parameters
    ----------
    value : float
        The quantity. [unit of ``from_unit``]
    from_unit : str
        Unit key of ``value``. [-]
    to_unit : str
        Unit key wanted, of the same dimension as ``from_unit``. [-]
    units : mapping of str to UnitDef, optional
        The unit table; defaults to the packaged ``units.csv``. [-]

    Returns
    -------
    float
        The quantity in ``to_unit``.

    Raises
    ------
    UnitError
        Unknown unit key, or units of different dimensions (e.g. ``t`` to ``kWh``).
    InputError
        ``value`` is not a finite number.

    Notes
    -----
    ``value [to_unit] = value [from_unit] × factor_to_base(from_unit) / factor_to_base(to_unit)``;
    the same unit is returned unchanged (no rounding through the base unit).

    References
    ----------
    .. [1] GB 3100-1993, 国际单位制及其应用.
    .. [2] BIPM SI Brochure, 8th edition (2006), SI prefixes and Table 6 (1 t = 10³ kg,
       1 L = 10⁻³ m³, 1 h = 3600 s, hence 1 kWh = 3.6 MJ).
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
