"""Input checks shared by the domain modules (no standard behind them: plain validation).

Each check returns the value it accepts and raises :class:`~kilnwatch.errors.InputError` naming
the field otherwise, so a calculation never goes on with NaN, a negative quantity or a share
outside 0..1.
"""

from __future__ import annotations

import math

from kilnwatch.errors import InputError, UnitError


def check_finite(value: float, name: str) -> float:
    """``value`` if it is a finite number, else :class:`InputError` naming ``name``."""
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value!r}", field=name)
    return value


def check_nonnegative(value: float, name: str) -> float:
    """``value`` if it is finite and >= 0, else :class:`InputError` naming ``name``."""
    if check_finite(value, name) < 0:
        raise InputError(f"{name} must not be negative, got {value}", field=name)
    return value


def check_fraction(value: float, name: str) -> float:
    """``value`` if it is a share within 0..1, else :class:`InputError` naming ``name``."""
    if not 0 <= check_finite(value, name) <= 1:
        raise InputError(f"{name} must be within 0..1", field=name)
    return value


def split_ratio_unit(unit: str) -> tuple[str, str]:
    """Numerator and denominator of a ratio unit: ``kgce/t`` -> (``kgce``, ``t``)."""
    numerator, sep, denominator = unit.partition("/")
    if not sep:
        raise UnitError(f"field unit {unit!r} is not a ratio")
    return numerator, denominator
