"""Modelling choices of the synthetic province, loaded from ``reference/sim/`` (``load_*``).

Each table row carries ``source`` (``modelling choice: …``) and ``confidence`` (``low``): these
figures make the province plausible; none is a published statistic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kilnwatch.reference import Confidence, read_table

PACKAGE = "kilnwatch.reference"


@dataclass(frozen=True)
class IndustryShare:
    """Share of the province's enterprises in one industry, and its name suffix."""

    industry: str
    enterprise_share_fraction: float
    name_suffix_zh: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class EfficiencyClass:
    """How often an efficiency class occurs, and where its intensity lies between the advanced
    level (z = 0) and the limit level (z = 1)."""

    efficiency_class: str
    probability_fraction: float
    z_min: float
    z_max: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class _LossRange:
    carrier: str
    loss_min_fraction: float
    loss_max_fraction: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class _FaultDuration:
    fault_kind: str
    duration_min_h: float
    duration_max_h: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class _Price:
    item: str
    price_cny_per_unit: float
    unit: str
    source: str
    confidence: Confidence


@cache
def load_industry_mix() -> tuple[IndustryShare, ...]:
    """Industries of ``sim/industry_mix.csv`` in file order (the draw follows this order)."""
    return read_table(PACKAGE, "sim/industry_mix.csv", IndustryShare)


@cache
def load_efficiency_classes() -> tuple[EfficiencyClass, ...]:
    """Efficiency classes of ``sim/efficiency_classes.csv`` in file order."""
    return read_table(PACKAGE, "sim/efficiency_classes.csv", EfficiencyClass)


@cache
def load_loss_ranges() -> Mapping[str, tuple[float, float]]:
    """Per carrier, the range [-] of the entry-to-sub-meter loss (``sim/loss_ranges.csv``)."""
    rows = read_table(PACKAGE, "sim/loss_ranges.csv", _LossRange)
    return {r.carrier: (r.loss_min_fraction, r.loss_max_fraction) for r in rows}


@cache
def load_fault_durations() -> Mapping[str, tuple[float, float]]:
    """Per reading-level fault kind, the duration range [h] (``sim/fault_durations.csv``)."""
    rows = read_table(PACKAGE, "sim/fault_durations.csv", _FaultDuration)
    return {r.fault_kind: (r.duration_min_h, r.duration_max_h) for r in rows}


@cache
def load_base_prices() -> Mapping[str, tuple[float, str]]:
    """Centre of the synthetic market by item: (price [CNY/unit], unit), in file order."""
    rows = read_table(PACKAGE, "sim/prices.csv", _Price)
    return {r.item: (r.price_cny_per_unit, r.unit) for r in rows}
