"""GB 17167 metering requirements as data (``load_*`` verb, cached).

Tables (in ``kilnwatch/reference/metering/``):

- ``configuration_rates.csv``: the minimum configuration rate (配备率) [%] of energy metering
  instruments per row of GB 17167-2006 Table 3 (clause 4.3.5) and per level (entry, sub-unit,
  equipment); an empty cell is no requirement.
- ``carrier_groups.csv``: which Table 3 row (carrier group) each carrier key belongs to, and
  the kind of instrument that measures it.
- ``accuracy_classes.csv``: the accuracy class required of an entry instrument per carrier
  group and variant (electricity user class, static/dynamic weighing, pipe diameter), GB
  17167-2006 Table 4 (clause 4.3.8); one variant per group is the default. The temperature and
  pressure instruments of Table 4 (auxiliary to a flow-metering device, any carrier) have the
  group ``*``.
- ``main_thresholds.csv``: GB 17167-2006 Tables 1 and 2 (clauses 4.3.3, 4.3.4): the energy
  consumption (or power) from which a sub-unit is a main sub-unit and a piece of equipment main
  equipment, per column of carriers (the tables group carriers differently from Table 3).
- ``rollout_milestones.csv``: the date by which each industry's key instruments are due
  (Shandong's plan; ``*`` = every other industry).

Every row carries ``source`` and ``confidence``; both GB 17167 tables were read in a scan of
the published 2006 text (``docs/metering.md``). The revised edition GB 17167-2025 (in force
from 2026-02-01) was not seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal

from kilnwatch.errors import ReferenceDataError, UnitError
from kilnwatch.reference._csv import Confidence, keyed, read_table

PACKAGE = "kilnwatch.reference"
Level = Literal["entry", "sub_unit", "equipment"]
LEVELS: tuple[Level, ...] = ("entry", "sub_unit", "equipment")
OTHER_GROUP = "other"
ANY_GROUP = "*"
ANY_INDUSTRY = "*"


@dataclass(frozen=True)
class ConfigurationRate:
    """Minimum configuration rates [%] of one GB 17167 Table 3 row (None: no requirement)."""

    carrier_group: str
    name_zh: str
    name_en: str
    entry_min_pct: float | None
    sub_unit_min_pct: float | None
    equipment_min_pct: float | None
    clause: str
    source: str
    confidence: Confidence
    notes: str = ""

    def min_pct(self, level: str) -> float | None:
        """The minimum rate [%] at ``level`` (entry, sub_unit, equipment)."""
        if level not in LEVELS:
            raise ReferenceDataError(f"unknown metering level {level!r}")
        value: float | None = getattr(self, f"{level}_min_pct")
        return value


@dataclass(frozen=True)
class CarrierGroup:
    """The Table 3 row a carrier key is counted in and the instrument that measures it."""

    carrier: str
    carrier_group: str
    instrument: str
    source: str
    confidence: Confidence
    notes: str = ""


@dataclass(frozen=True)
class AccuracyRequirement:
    """The accuracy class required of an instrument at ``level`` for one carrier group and
    variant (``required_class``: ``0.5S``, ``2.0``, … the maximum permissible error [%])."""

    carrier_group: str
    variant: str
    is_default: bool
    level: Level
    instrument: str
    required_class: str
    clause: str
    source: str
    confidence: Confidence
    notes: str = ""


@dataclass(frozen=True)
class MainThreshold:
    """One column of GB 17167-2006 Tables 1 and 2: the consumption (or power) at or above
    which a sub-unit is a main sub-unit (``sub_unit_min`` [``sub_unit_unit``]) and a piece of
    equipment is main equipment (``equipment_min`` [``equipment_unit``])."""

    column: str
    carrier_groups: str
    name_zh: str
    sub_unit_min: float
    sub_unit_unit: str
    equipment_min: float
    equipment_unit: str
    clause: str
    source: str
    confidence: Confidence
    notes: str = ""

    @property
    def groups(self) -> tuple[str, ...]:
        """The Table 3 rows (carrier groups) this column covers."""
        return tuple(self.carrier_groups.split())

    def minimum(self, level: str) -> tuple[float, str]:
        """The threshold and its unit at ``level`` (``sub_unit`` or ``equipment``)."""
        if level == "sub_unit":
            return self.sub_unit_min, self.sub_unit_unit
        if level == "equipment":
            return self.equipment_min, self.equipment_unit
        raise ReferenceDataError(f"no main-consumption threshold at level {level!r}")


@dataclass(frozen=True)
class RolloutMilestone:
    """The date by which an industry's key instruments are to be installed."""

    industry: str
    deadline: date
    source: str
    confidence: Confidence
    notes: str = ""


@cache
def load_configuration_rates() -> Mapping[str, ConfigurationRate]:
    """GB 17167 Table 3 rows by carrier group."""
    rows = read_table(PACKAGE, "metering/configuration_rates.csv", ConfigurationRate)
    return keyed(rows, lambda r: r.carrier_group)


@cache
def load_carrier_groups() -> Mapping[str, CarrierGroup]:
    """Carrier key -> its Table 3 row; a carrier not listed counts as ``other``."""
    rows = read_table(PACKAGE, "metering/carrier_groups.csv", CarrierGroup)
    return keyed(rows, lambda r: r.carrier)


@cache
def load_accuracy_requirements() -> tuple[AccuracyRequirement, ...]:
    """Every accuracy requirement row, in file order."""
    return read_table(PACKAGE, "metering/accuracy_classes.csv", AccuracyRequirement)


@cache
def load_main_thresholds() -> Mapping[str, MainThreshold]:
    """GB 17167-2006 Tables 1 and 2 by column; each carrier group is in one column at most."""
    rows = read_table(PACKAGE, "metering/main_thresholds.csv", MainThreshold)
    seen: dict[str, str] = {}
    for row in rows:
        for group in row.groups:
            if group in seen:
                raise ReferenceDataError(
                    f"metering/main_thresholds.csv: carrier group {group!r} in columns "
                    f"{seen[group]!r} and {row.column!r}"
                )
            seen[group] = row.column
    return keyed(rows, lambda r: r.column)


@dataclass(frozen=True)
class _MilestoneRow:
    industry: str
    deadline: str
    source: str
    confidence: Confidence
    notes: str = ""


@cache
def load_rollout_milestones() -> Mapping[str, RolloutMilestone]:
    """Industry -> milestone (``*`` is every other industry)."""
    rows = read_table(PACKAGE, "metering/rollout_milestones.csv", _MilestoneRow)
    milestones = [
        RolloutMilestone(r.industry, date.fromisoformat(r.deadline), r.source, r.confidence,
                         r.notes)
        for r in rows
    ]  # fmt: skip
    return keyed(milestones, lambda m: m.industry)


def carrier_group(carrier: str) -> str:
    """The Table 3 row (carrier group) of a carrier key; ``other`` when it has none."""
    group = load_carrier_groups().get(carrier)
    return group.carrier_group if group else OTHER_GROUP


def accuracy_requirement(
    carrier: str, level: str, variant: str | None = None
) -> AccuracyRequirement | None:
    """The accuracy requirement of an instrument measuring ``carrier`` at ``level``.

    ``variant`` picks a row of the group (``user_class_iii``, ``static``, …); without it the
    group's default row applies. None when the table requires no class there.

    Raises
    ------
    ReferenceDataError
        ``variant`` is not a variant of the carrier's group.
    """
    group = carrier_group(carrier)
    rows = [r for r in load_accuracy_requirements() if r.carrier_group == group]
    if variant:
        chosen = [r for r in rows if r.variant == variant]
        if rows and not chosen:
            known = ", ".join(r.variant for r in rows)
            raise ReferenceDataError(f"{group}: unknown accuracy variant {variant!r} ({known})")
    else:
        chosen = [r for r in rows if r.is_default]
    return next((r for r in chosen if r.level == level), None)


def auxiliary_requirement(instrument: str, variant: str | None = None) -> AccuracyRequirement:
    """The class required of a temperature or pressure instrument of a flow-metering device
    (GB 17167-2006 Table 4: ``liquid_gaseous_energy`` by default, ``gas_steam_mass`` where it
    enters a gas or steam mass calculation).

    Raises
    ------
    ReferenceDataError
        No row of the table for that instrument and variant.
    """
    rows = [r for r in load_accuracy_requirements()
            if r.carrier_group == ANY_GROUP and r.instrument == instrument]  # fmt: skip
    row = next((r for r in rows if (r.variant == variant if variant else r.is_default)), None)
    if row is None:
        known = ", ".join(f"{r.instrument}/{r.variant}" for r in rows) or "none"
        raise ReferenceDataError(
            f"no accuracy requirement for {instrument!r} variant {variant!r} ({known})"
        )
    return row


def is_main(carrier: str, level: str, amount: float, unit: str) -> bool:
    """Whether a sub-unit (``level="sub_unit"``) or a piece of equipment (``"equipment"``)
    consuming ``amount`` of ``carrier`` is *main* in GB 17167-2006's sense: at or above the
    threshold of Table 1 or Table 2 (then Table 3's rates apply to it). Carriers outside the
    tables' columns count under 其他 (GJ).

    Raises
    ------
    UnitError
        ``unit`` is not the table's unit for that column and level (no silent conversion).
    ReferenceDataError
        ``level`` is not ``sub_unit`` or ``equipment``.
    """
    group = carrier_group(carrier)
    columns = load_main_thresholds().values()
    row = next((c for c in columns if group in c.groups), None)
    row = row or next(c for c in columns if OTHER_GROUP in c.groups)
    minimum, table_unit = row.minimum(level)
    if unit != table_unit:
        raise UnitError(
            f"{carrier}: GB 17167-2006 {row.name_zh} at level {level} is in {table_unit!r}, "
            f"not {unit!r}"
        )
    return amount >= minimum


def milestone_for(industry: str) -> RolloutMilestone:
    """The roll-out milestone of an industry (the ``*`` row when it has none of its own)."""
    milestones = load_rollout_milestones()
    return milestones.get(industry) or milestones[ANY_INDUSTRY]
