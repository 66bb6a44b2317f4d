"""Obsolete processes and equipment (淘汰类), pure rules: a production unit's equipment
attributes (furnace volume, kiln type, furnace enclosure, …) checked against the packaged
rules of ``reference/programme/obsolete_equipment.csv``.

A unit matches a rule when the rule applies where the unit is (national, its province, or its
city or county among the rule's regions), the unit's process is the rule's, every condition
holds and no ``unless`` condition holds. A condition on an attribute the unit does not carry is
neither true nor false: the unit cannot be judged on that rule, and :func:`match_obsolete` says
so (:class:`Unjudged`) instead of guessing.

References
----------
.. [1] 产业结构调整指导目录（2024年本）, 淘汰类: 条目后括号内年份为淘汰期限…未标淘汰期限或淘汰
   计划的条目为国家产业政策已明令淘汰或立即淘汰 (as quoted by xksjj.com; the rules file says
   per row which document it transcribes and how sure it is).
.. [2] 国发〔2023〕24号《空气质量持续改善行动计划》 and the 2023 refining guidance, the two
   documents whose items ``obsolete_equipment.csv`` holds (see its ``source`` column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from kilnwatch.errors import InputError
from kilnwatch.reference.programme import (
    NATIONAL,
    Condition,
    ObsoleteRule,
    load_equipment_attributes,
)

EquipmentValue = float | str


@dataclass(frozen=True)
class ObsoleteMatch:
    """A unit that a rule lists as obsolete, and why.

    Parameters
    ----------
    rule : ObsoleteRule
        The rule matched (document, item, kind, deadline, source) [-]
    evidence : tuple
        Each condition with the unit's value, e.g. ``cdu_capacity_t_per_a 1500000 <= 2000000``
        [attribute units]

    References
    ----------
    .. [1] ``reference/programme/obsolete_equipment.csv`` (each row's source and confidence).
    """

    rule: ObsoleteRule
    evidence: tuple[str, ...]

    def reason(self) -> str:
        """The reason shown on the elimination list: document, item text and the values."""
        return f"{self.rule.document}: {self.rule.text_zh} ({'; '.join(self.evidence)})"


@dataclass(frozen=True)
class Unjudged:
    """A rule a unit could not be judged on: the attributes it lacks.

    Parameters
    ----------
    rule_id : str
        The rule [-]
    missing : tuple
        The attributes the unit does not carry [-]

    References
    ----------
    .. [1] ``reference/programme/equipment_attributes.csv``.
    """

    rule_id: str
    missing: tuple[str, ...]


def check_equipment(process: str, values: Mapping[str, object]) -> dict[str, EquipmentValue]:
    """A unit's equipment attributes, checked: each known for the process, numbers finite and
    positive, choices among the allowed ones.

    Parameters
    ----------
    process : str
        The unit's process key (``reference/registry/processes.csv``) [-]
    values : Mapping
        Attribute name to value (a number, or text that reads as one, for number attributes)
        [attribute units]

    Returns
    -------
    dict
        The attributes with numbers as ``float`` and choices as ``str``. Raises
        :class:`~kilnwatch.errors.InputError` naming ``equipment.<attribute>`` otherwise.

    References
    ----------
    .. [1] ``reference/programme/equipment_attributes.csv`` (names, units, choices).
    """
    known = load_equipment_attributes()
    out: dict[str, EquipmentValue] = {}
    for name, raw in values.items():
        field = f"equipment.{name}"
        spec = known.get(name)
        if spec is None or process not in spec.processes:
            allowed = ", ".join(
                sorted(a.attribute for a in known.values() if process in a.processes)
            )
            raise InputError(
                f"not an equipment attribute of {process} (allowed: {allowed or 'none'})",
                field=field,
            )
        if spec.kind == "choice":
            text = str(raw).strip()
            if text not in spec.choices:
                raise InputError(f"must be one of {'/'.join(spec.choices)}", field=field)
            out[name] = text
            continue
        number = math.nan
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            try:
                number = float(raw)
            except ValueError:
                pass
        if not (math.isfinite(number) and number > 0):
            raise InputError(f"must be a positive number [{spec.unit}], got {raw!r}", field=field)
        out[name] = number
    return out


def parse_equipment(text: str) -> dict[str, str]:
    """Attributes written ``name=value;name=value`` (the registry file's ``equipment`` column).

    Parameters
    ----------
    text : str
        The cell; empty for none [-]

    Returns
    -------
    dict
        Attribute name to its text value; :func:`check_equipment` checks them. Raises
        :class:`~kilnwatch.errors.InputError` for a part without ``=`` or a repeated name.

    References
    ----------
    .. [1] docs/formats.md, ``units.csv``.
    """
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"not 'name=value': {part!r}", field="equipment")
        if name.strip() in out:
            raise InputError(f"{name.strip()} given twice", field="equipment")
        out[name.strip()] = value.strip()
    return out


def format_equipment(values: Mapping[str, object] | None) -> str:
    """The ``equipment`` cell of a unit's attributes, sorted by name.

    Parameters
    ----------
    values : Mapping or None
        Attribute name to value [attribute units]

    Returns
    -------
    str
        ``name=value;…`` (numbers without a trailing ``.0``), empty for none.

    References
    ----------
    .. [1] docs/formats.md, ``units.csv``.
    """
    parts = []
    for name, value in sorted((values or {}).items()):
        shown = str(value)
        if isinstance(value, float):
            shown = str(int(value)) if value.is_integer() else repr(value)
        parts.append(f"{name}={shown}")
    return ";".join(parts)


def applies_here(rule: ObsoleteRule, region_code: str, province: str | None) -> bool:
    """Whether ``rule`` applies to a unit in ``region_code`` of ``province``.

    Parameters
    ----------
    rule : ObsoleteRule
        The rule [-]
    region_code : str
        The enterprise's GB/T 2260 code (city or county) [-]
    province : str or None
        The platform's province name (``KILNWATCH_PROVINCE``) [-]

    Returns
    -------
    bool
        True for a national rule, a rule of ``province``, or a rule whose regions include the
        unit's city (a county of a listed city is in it).

    References
    ----------
    .. [1] GB/T 2260 (a county's code shares its city's first four digits).
    """
    if rule.applies_to == NATIONAL:
        return True
    if rule.applies_to.startswith("province:"):
        return province is not None and rule.applies_to == f"province:{province}"
    for code in rule.regions():
        city_wide = code.endswith("00") and not code.endswith("0000")
        if region_code == code or (city_wide and region_code[:4] == code[:4]):
            return True
    return False


def _num(x: float) -> str:
    return str(int(x)) if x.is_integer() else f"{x:g}"


def _holds(c: Condition, value: EquipmentValue) -> tuple[bool, str]:
    if c.operator == "in" or c.value is None:
        return str(value) in c.choices, f"{c.attribute} = {value}"
    number = float(value)
    held = number < c.value if c.operator == "<" else number <= c.value
    op = c.operator if held else f"not {c.operator}"
    return held, f"{c.attribute} {_num(number)} {op} {_num(c.value)}"


def match_obsolete(
    process: str,
    region_code: str,
    equipment: Mapping[str, EquipmentValue] | None,
    rules: Iterable[ObsoleteRule],
    province: str | None,
) -> tuple[list[ObsoleteMatch], list[Unjudged]]:
    """The rules a unit matches, and those it cannot be judged on for lack of attributes.

    Parameters
    ----------
    process : str
        The unit's process key [-]
    region_code : str
        The enterprise's GB/T 2260 code [-]
    equipment : Mapping or None
        The unit's equipment attributes (:func:`check_equipment`) [attribute units]
    rules : Iterable
        The rules (:func:`kilnwatch.reference.programme.load_obsolete_rules`) [-]
    province : str or None
        The platform's province name [-]

    Returns
    -------
    tuple
        (matches, unjudged): a rule whose ``unless`` cannot be judged is unjudged too, never
        matched on a guess.

    References
    ----------
    .. [1] 产业结构调整指导目录（2024年本）, 淘汰类 (how deadlines are read: see the module).
    """
    values: Mapping[str, EquipmentValue] = equipment or {}
    matches: list[ObsoleteMatch] = []
    unjudged: list[Unjudged] = []
    for rule in rules:
        if rule.process != process or not applies_here(rule, region_code, province):
            continue
        evidence: list[str] = []
        held_all = True
        missing = [c.attribute for c in rule.conditions if c.attribute not in values]
        for c in rule.conditions:
            if c.attribute in values:
                held, text = _holds(c, values[c.attribute])
                held_all = held_all and held
                evidence.append(text)
        if not held_all:
            continue  # one condition fails: not obsolete, whatever is missing
        if missing:
            unjudged.append(Unjudged(rule.rule_id, tuple(missing)))
            continue
        unless_missing = [c.attribute for c in rule.unless if c.attribute not in values]
        excepted = any(
            _holds(c, values[c.attribute])[0] for c in rule.unless if c.attribute in values
        )
        if excepted:
            continue
        if unless_missing:
            unjudged.append(Unjudged(rule.rule_id, tuple(unless_missing)))
            continue
        matches.append(ObsoleteMatch(rule, tuple(evidence)))
    return matches, unjudged


def past_deadline(rule: ObsoleteRule, today: date) -> bool:
    """Whether a matched rule's deadline has passed (a rule without one: not past).

    Parameters
    ----------
    rule : ObsoleteRule
        The rule [-]
    today : date
        The day judged [-]

    Returns
    -------
    bool
        True when the rule has a deadline before ``today``.

    References
    ----------
    .. [1] 产业结构调整指导目录（2024年本）: 淘汰期限为2025年12月31日是指应于2025年12月31日前淘汰.
    """
    return rule.deadline is not None and rule.deadline < today


__all__ = [
    "EquipmentValue",
    "ObsoleteMatch",
    "Unjudged",
    "applies_here",
    "check_equipment",
    "format_equipment",
    "match_obsolete",
    "parse_equipment",
    "past_deadline",
]
