"""The enterprise data-credibility score of a period, explained by its findings.

``score = max(0, 100 - sum of points of its open and confirmed findings)``; the points per
severity are rule parameters (``verify.score``). Integrity findings weigh fully; monitoring-
quality findings (gaps, stuck or replaced meters, repeated deliveries: the metering works
badly, the data are not false) weigh ``monitoring_quality_weight`` (0 by default: their
checks raise them above info only when they hide consumption or form a pattern, and even then
they are a matter for metering management, not evidence of false reporting). Dismissed and
closed findings cost nothing.
Each deduction names the finding, so the score is explainable line by line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kilnwatch.errors import ConfigError
from kilnwatch.verify.checks import CHECKS
from kilnwatch.verify.findings import SEVERITIES
from kilnwatch.verify.parameters import VerifySettings

SCORE = "verify.score"
FULL_SCORE = 100.0
COUNTED_STATUSES = frozenset({"open", "confirmed"})


@dataclass(frozen=True)
class Scored:
    score: float
    counted: int
    deductions: list[dict[str, Any]]


def credibility(findings: Iterable[Any], settings: VerifySettings) -> Scored:
    """Score from findings (objects with id, rule_code, severity, status)."""
    points_of = {severity: settings.value(SCORE, severity) for severity in SEVERITIES}
    monitoring_weight = settings.value(SCORE, "monitoring_quality_weight")
    deductions = []
    for f in findings:
        if f.status not in COUNTED_STATUSES:
            continue
        kind = _kind(f.rule_code)
        points = points_of[f.severity] * (monitoring_weight if kind == "monitoring_quality" else 1)
        if points > 0:
            deductions.append(
                {
                    "finding_id": f.id,
                    "rule_code": f.rule_code,
                    "kind": kind,
                    "severity": f.severity,
                    "points": points,
                }
            )
    total = sum(d["points"] for d in deductions)
    return Scored(max(0.0, FULL_SCORE - total), len(deductions), deductions)


def _kind(rule_code: str) -> str:
    """Integrity or monitoring quality; a code no check emits any more counts as integrity."""
    try:
        return CHECKS.kind_of(rule_code)
    except ConfigError:
        return "integrity"
