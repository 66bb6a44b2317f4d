"""Policy rules of the efficiency programme (``programme/policy.csv``): retrofit periods and
deadlines, national and per province, each with its source and confidence.

Columns: ``rule``, ``value`` (text: a number, a date or a flag), ``unit`` (``a``, ``date``,
``flag``), ``applies_to`` (``national`` or ``province:<name>``), ``source``, ``confidence``,
``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import Confidence, read_table
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


__all__ = ["PolicyRule", "load_policy_rules", "policy_rule", "retrofit_deadline"]
