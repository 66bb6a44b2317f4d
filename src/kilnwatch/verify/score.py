"""The enterprise data-credibility score of a period, explained by its findings.

``score = max(0, 100 - sum of points of its open and confirmed findings)``; the points per
severity are rule parameters (``verify.score``). Dismissed and closed findings cost nothing.
Each deduction names the finding, so the score is explainable line by line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
    deductions = []
    for f in findings:
        if f.status not in COUNTED_STATUSES:
            continue
        points = points_of[f.severity]
        if points > 0:
            deductions.append(
                {
                    "finding_id": f.id,
                    "rule_code": f.rule_code,
                    "severity": f.severity,
                    "points": points,
                }
            )
    total = sum(d["points"] for d in deductions)
    return Scored(max(0.0, FULL_SCORE - total), len(deductions), deductions)
