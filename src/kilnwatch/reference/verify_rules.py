"""Default parameters of the verification rules (``verify_rules.csv``), each with a rationale."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import read_package_csv

COLUMNS = ("rule_code", "parameter", "value", "unit", "source", "rationale")


@dataclass(frozen=True)
class RuleParameter:
    rule_code: str
    parameter: str
    value: float
    unit: str
    source: str
    rationale: str


def parse_rule_rows(rows: list[dict[str, str]], where: str) -> tuple[RuleParameter, ...]:
    """Validate rule-parameter rows (packaged defaults or a province's override file)."""
    out = []
    for n, row in enumerate(rows, start=1):
        missing = [c for c in ("rule_code", "parameter", "value") if not row.get(c)]
        if missing:
            raise ReferenceDataError(f"{where}, row {n}: missing {', '.join(missing)}")
        try:
            value = float(row["value"])
        except ValueError as exc:
            raise ReferenceDataError(
                f"{where}, row {n}: value {row['value']!r} is not a number"
            ) from exc
        out.append(
            RuleParameter(
                row["rule_code"],
                row["parameter"],
                value,
                row.get("unit", ""),
                row.get("source", ""),
                row.get("rationale", ""),
            )
        )
    return tuple(out)


@cache
def load_verify_rules() -> tuple[RuleParameter, ...]:
    """The packaged default parameters; every row must carry a source and a rationale."""
    rows = parse_rule_rows(
        read_package_csv("kilnwatch.reference", "verify_rules.csv"), "verify_rules.csv"
    )
    for r in rows:
        if not r.source or not r.rationale:
            raise ReferenceDataError(
                f"verify_rules.csv: {r.rule_code}.{r.parameter} lacks a source"
            )
    return rows
