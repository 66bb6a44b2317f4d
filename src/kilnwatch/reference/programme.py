"""Policy tables of the efficiency programme, each row with its source and confidence.

* ``programme/policy.csv``: retrofit periods and deadlines, national and per province. Columns:
  ``rule``, ``value`` (text: a number, a date or a flag), ``unit`` (``a``, ``date``, ``flag``),
  ``applies_to`` (``national`` or ``province:<name>``), ``source``, ``confidence``, ``notes``.
* ``programme/equipment_attributes.csv``: the equipment attributes a production unit may carry
  (furnace volume, kiln type, enclosure …), per process, numbers with their unit or choices.
* ``programme/obsolete_equipment.csv``: obsolete processes and equipment (淘汰类) as sourced
  rules: the document and item, the process, the kind of standard, the conditions on the
  unit's attributes that make it obsolete (``attribute < N``, ``<= N``, ``in a|b``, joined by
  ``;``), an exception (``unless``), the deadline (empty: none stated, or immediate where the
  document says so) and where it applies (``national``, ``province:<name>``,
  ``regions:<code>|<code>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal, cast

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import Confidence, Row, keyed, package_rows, read_table
from kilnwatch.reference.energy import PACKAGE

NATIONAL = "national"


@dataclass(frozen=True)
class PolicyRule:
    """One rule of the programme, national or for one province."""

    rule: str
    value: str
    unit: str
    applies_to: str
    source: str
    confidence: Confidence
    notes: str


@cache
def load_policy_rules() -> tuple[PolicyRule, ...]:
    """Every packaged rule, in file order."""
    return read_table(PACKAGE, "programme/policy.csv", PolicyRule)


def policy_rule(rule: str, province: str | None = None) -> PolicyRule | None:
    """The province's rule when it has one, else the national rule, else None."""
    rows = [r for r in load_policy_rules() if r.rule == rule]
    wanted = [f"province:{province}"] if province else []
    for scope in [*wanted, NATIONAL]:
        for row in rows:
            if row.applies_to == scope:
                return row
    return None


def retrofit_deadline(start_on: date, province: str | None = None) -> tuple[date, PolicyRule]:
    """The latest deadline a plan starting on ``start_on`` may have, and the rule behind it:
    the province's date if it has one, else start + the national maximum period."""
    rule = policy_rule("retrofit_deadline", province)
    if rule is not None and rule.applies_to != NATIONAL:
        return date.fromisoformat(rule.value), rule
    years = policy_rule("retrofit_period_max_years")
    if years is None:
        raise ReferenceDataError("programme/policy.csv has no retrofit_period_max_years")
    n = int(float(years.value))
    try:
        return start_on.replace(year=start_on.year + n), years
    except ValueError:  # 29 February
        return start_on.replace(year=start_on.year + n, day=28), years


ExitKind = Literal["safety", "environment", "energy", "technology", "quality"]
EXIT_KINDS: tuple[ExitKind, ...] = ("safety", "environment", "energy", "technology", "quality")
"""The five kinds of standards low-efficiency capacity exits by (安全、环保、能耗、技术、质量)."""

Operator = Literal["<", "<=", "in"]


@dataclass(frozen=True)
class EquipmentAttribute:
    """An equipment attribute a unit of the listed processes may carry."""

    attribute: str
    processes: tuple[str, ...]
    kind: Literal["number", "choice"]
    unit: str
    choices: tuple[str, ...]
    name_zh: str
    name_en: str
    notes: str


@dataclass(frozen=True)
class Condition:
    """``attribute < value``, ``attribute <= value`` or ``attribute in (choices)``."""

    attribute: str
    operator: Operator
    value: float | None
    choices: tuple[str, ...] = ()

    def text(self) -> str:
        """The condition as written in the file."""
        if self.operator == "in":
            return f"{self.attribute} in {'|'.join(self.choices)}"
        return f"{self.attribute} {self.operator} {self.value:g}"


@dataclass(frozen=True)
class ObsoleteRule:
    """An obsolete process or equipment (淘汰类) as a rule on a unit's attributes."""

    rule_id: str
    document: str
    item: str
    process: str
    kind: ExitKind
    conditions: tuple[Condition, ...]
    unless: tuple[Condition, ...]
    deadline: date | None
    applies_to: str
    text_zh: str
    source: str
    confidence: Confidence
    notes: str

    def regions(self) -> tuple[str, ...]:
        """The region codes of a ``regions:`` scope (empty for other scopes)."""
        if not self.applies_to.startswith("regions:"):
            return ()
        return tuple(self.applies_to.removeprefix("regions:").split("|"))


def _split(text: str, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(sep) if part.strip())


@cache
def load_equipment_attributes() -> Mapping[str, EquipmentAttribute]:
    """Every equipment attribute by name (``programme/equipment_attributes.csv``)."""
    rows = []
    for row in package_rows(PACKAGE, "programme/equipment_attributes.csv"):
        kind = cast(Literal["number", "choice"], row.choice("kind", ("number", "choice")))
        choices = _split(row.text("choices"), "|")
        if (kind == "choice") != bool(choices):
            raise row.fail("choices", "a choice attribute lists its choices, a number none")
        rows.append(EquipmentAttribute(
            row.filled("attribute"), _split(row.filled("processes"), "|"), kind,
            row.text("unit"), choices, row.filled("name_zh"), row.filled("name_en"),
            row.text("notes"),
        ))  # fmt: skip
    return keyed(rows, lambda a: a.attribute)


def parse_conditions(
    text: str, fail: Row | None = None, column: str = "conditions"
) -> tuple[Condition, ...]:
    """Conditions written ``attribute <op> value`` joined by ``;`` (``op``: ``<``, ``<=``,
    ``in``; ``in`` takes choices separated by ``|``), checked against the attributes table.
    An error names the file, row and column when ``fail`` is the row read."""

    def bad(reason: str) -> ReferenceDataError:
        return fail.fail(column, reason) if fail else ReferenceDataError(f"{column}: {reason}")

    attributes = load_equipment_attributes()
    out = []
    for clause in _split(text, ";"):
        parts = clause.split(None, 2)
        if len(parts) != 3 or parts[1] not in ("<", "<=", "in"):
            raise bad(f"not 'attribute <|<=|in value': {clause!r}")
        name, op, value = parts
        spec = attributes.get(name)
        if spec is None:
            raise bad(f"unknown attribute {name!r} (programme/equipment_attributes.csv)")
        if op == "in":
            choices = _split(value, "|")
            unknown = [c for c in choices if c not in spec.choices]
            if spec.kind != "choice" or unknown or not choices:
                raise bad(f"{name} in {value!r}: not among the choices {spec.choices}")
            out.append(Condition(name, "in", None, choices))
            continue
        if spec.kind != "number":
            raise bad(f"{name} is a choice, compared with {op!r}")
        try:
            number = float(value)
        except ValueError:
            raise bad(f"not a number: {value!r}") from None
        out.append(Condition(name, cast(Operator, op), number))
    return tuple(out)


def _rule(row: Row) -> ObsoleteRule:
    attributes = load_equipment_attributes()
    process = row.filled("process")
    conditions = parse_conditions(row.filled("conditions"), row)
    unless = parse_conditions(row.text("unless"), row, "unless")
    for c in (*conditions, *unless):
        if process not in attributes[c.attribute].processes:
            raise row.fail("conditions", f"{c.attribute} is not an attribute of {process}")
    deadline_text = row.text("deadline")
    try:
        deadline = date.fromisoformat(deadline_text) if deadline_text else None
    except ValueError:
        raise row.fail("deadline", f"not a date YYYY-MM-DD: {deadline_text!r}") from None
    applies_to = row.filled("applies_to")
    if not (applies_to == NATIONAL or applies_to.startswith(("province:", "regions:"))):
        raise row.fail("applies_to", "national, province:<name> or regions:<code>|<code>")
    return ObsoleteRule(
        row.filled("rule_id"), row.filled("document"), row.text("item"), process,
        cast(ExitKind, row.choice("kind", EXIT_KINDS)), conditions, unless, deadline,
        applies_to, row.filled("text_zh"), row.source(), row.confidence(), row.text("notes"),
    )  # fmt: skip


@cache
def load_obsolete_rules() -> tuple[ObsoleteRule, ...]:
    """Every packaged obsolete-equipment rule (``programme/obsolete_equipment.csv``)."""
    rules = tuple(_rule(r) for r in package_rows(PACKAGE, "programme/obsolete_equipment.csv"))
    ids = [r.rule_id for r in rules]
    if len(set(ids)) != len(ids):
        raise ReferenceDataError("programme/obsolete_equipment.csv: duplicate rule_id")
    return rules


__all__ = [
    "EXIT_KINDS",
    "Condition",
    "EquipmentAttribute",
    "ExitKind",
    "ObsoleteRule",
    "PolicyRule",
    "load_equipment_attributes",
    "load_obsolete_rules",
    "load_policy_rules",
    "parse_conditions",
    "policy_rule",
    "retrofit_deadline",
]
