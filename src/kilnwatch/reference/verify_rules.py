"""Default parameters of the verification checks (``verify_rules.csv``), each declared once.

A row declares one parameter of one check (or of a shared group such as ``verify``):
its value under the ``default`` preset, its type (``float``, ``int`` or ``bool``), unit, the
inclusive range a province override must stay in (``minimum``/``maximum``, empty = open), how
the presets treat it (``preset_scaling``: ``tolerance`` parameters are multiplied by the
preset's scale, ``none`` are not), its source, confidence (good/medium/low) and rationale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Literal

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import CONFIDENCES, Confidence, read_package_csv

COLUMNS = (
    "rule_code", "parameter", "value", "type", "unit", "minimum", "maximum", "preset_scaling",
    "source", "confidence", "rationale",
)  # fmt: skip
ParameterType = Literal["float", "int", "bool"]
PARAMETER_TYPES: tuple[ParameterType, ...] = ("float", "int", "bool")
PresetScaling = Literal["tolerance", "none"]
PRESET_SCALINGS: tuple[PresetScaling, ...] = ("tolerance", "none")


@dataclass(frozen=True)
class RuleParameter:
    """One parameter of a check as the packaged table declares it."""

    rule_code: str
    parameter: str
    value: float
    type: ParameterType
    unit: str
    minimum: float | None
    maximum: float | None
    preset_scaling: PresetScaling
    source: str
    confidence: Confidence
    rationale: str

    def problem(self, value: float) -> str | None:
        """Why ``value`` cannot be this parameter's value (type or range), or None."""
        if self.type == "bool" and value not in (0.0, 1.0):
            return "expected a boolean (true/false or 1/0)"
        if self.type == "int" and not (math.isfinite(value) and value.is_integer()):
            return "expected a whole number (int)"
        if not math.isfinite(value):
            return "expected a finite number"
        if self.minimum is not None and value < self.minimum:
            return f"below the minimum {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"above the maximum {self.maximum:g}"
        return None


def parse_number(text: str, where: str) -> float:
    """A numeric cell (``true``/``false`` read as 1/0)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return 1.0 if lowered == "true" else 0.0
    try:
        return float(text)
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: {text!r} is not a number") from exc


def _bound(text: str, where: str) -> float | None:
    return None if text == "" else parse_number(text, where)


def _choice(text: str, allowed: tuple[str, ...], where: str) -> str:
    if text not in allowed:
        raise ReferenceDataError(f"{where}: expected one of {', '.join(allowed)}, got {text!r}")
    return text


def _parameter(row: dict[str, str], where: str) -> RuleParameter:
    missing = [c for c in COLUMNS if c not in ("minimum", "maximum") and not row.get(c)]
    if missing:
        raise ReferenceDataError(f"{where}: missing {', '.join(missing)}")
    parameter = RuleParameter(
        rule_code=row["rule_code"],
        parameter=row["parameter"],
        value=parse_number(row["value"], f"{where}, value"),
        type=_choice(row["type"], PARAMETER_TYPES, f"{where}, type"),  # type: ignore[arg-type]
        unit=row["unit"],
        minimum=_bound(row.get("minimum", ""), f"{where}, minimum"),
        maximum=_bound(row.get("maximum", ""), f"{where}, maximum"),
        preset_scaling=_choice(  # type: ignore[arg-type]
            row["preset_scaling"], PRESET_SCALINGS, f"{where}, preset_scaling"
        ),
        source=row["source"],
        confidence=_choice(row["confidence"], CONFIDENCES, f"{where}, confidence"),  # type: ignore[arg-type]
        rationale=row["rationale"],
    )
    problem = parameter.problem(parameter.value)
    if problem:
        raise ReferenceDataError(f"{where}: value {parameter.value:g}: {problem}")
    return parameter


def parse_rule_table(rows: list[dict[str, str]], where: str) -> tuple[RuleParameter, ...]:
    """Validate the rows of the packaged table: every column, no parameter declared twice."""
    out: list[RuleParameter] = []
    seen: set[tuple[str, str]] = set()
    for n, row in enumerate(rows, start=2):
        parameter = _parameter(row, f"{where}, row {n}")
        key = (parameter.rule_code, parameter.parameter)
        if key in seen:
            raise ReferenceDataError(f"{where}, row {n}: {'.'.join(key)} is declared twice")
        seen.add(key)
        out.append(parameter)
    return tuple(out)


@cache
def load_verify_rules() -> tuple[RuleParameter, ...]:
    """The packaged parameters of every check, in table order."""
    return parse_rule_table(
        read_package_csv("kilnwatch.reference", "verify_rules.csv"), "verify_rules.csv"
    )
