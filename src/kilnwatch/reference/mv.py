"""M&V acceptance criteria (``mv/criteria.csv``): ASHRAE Guideline 14 figures, each sourced.

Columns: ``criterion``, ``value``, ``unit`` (``fraction``), ``confidence_level`` (the
confidence the criterion is stated at, empty when none), ``source``, ``confidence``, ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kilnwatch.reference._csv import Confidence, keyed, read_table
from kilnwatch.reference.energy import PACKAGE


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion of a baseline model or of reported savings."""

    criterion: str
    value: float
    unit: str
    confidence_level: float | None
    source: str
    confidence: Confidence
    notes: str


@cache
def load_mv_criteria() -> Mapping[str, Criterion]:
    """The packaged criteria keyed by ``criterion``."""
    return keyed(read_table(PACKAGE, "mv/criteria.csv", Criterion), lambda c: c.criterion)


__all__ = ["Criterion", "load_mv_criteria"]
