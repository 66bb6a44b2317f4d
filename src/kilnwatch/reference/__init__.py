"""Sourced reference tables and their ``load_*`` functions.

Other packages that keep their own tables here (the simulator's ``sim/``) read them with the
same typed loader as the reference modules: :func:`read_table` and :func:`keyed`.
"""

from kilnwatch.reference._csv import (
    Confidence,
    Parameter,
    keyed,
    read_package_csv,
    read_parameters,
    read_table,
)

__all__ = [
    "Confidence",
    "Parameter",
    "keyed",
    "read_package_csv",
    "read_parameters",
    "read_table",
]
