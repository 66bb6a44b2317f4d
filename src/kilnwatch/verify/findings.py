"""Findings as data: a stable dotted rule code, where, evidence, severity and magnitude.

A finding's ``fingerprint`` is derived from (rule code, enterprise, unit, meter, period) only,
so a re-run of verification over the same data updates the stored finding instead of adding a
second one. Which check emits a rule code, its kind (integrity or monitoring quality) and the
fault kinds it reveals are declared in the registry, :mod:`kilnwatch.verify.checks`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("info", "low", "medium", "high")
STATUSES = ("open", "confirmed", "dismissed", "closed")


@dataclass(frozen=True)
class Finding:
    """One verification result, before it is stored."""

    rule_code: str
    enterprise_id: int
    period: str
    start_at: datetime
    end_at: datetime
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    unit_id: int | None = None
    meter_id: int | None = None
    magnitude_fraction: float | None = None
    magnitude_tce: float | None = None

    @property
    def fingerprint(self) -> str:
        key = f"{self.rule_code}|{self.enterprise_id}|{self.unit_id}|{self.meter_id}|{self.period}"
        return hashlib.sha256(key.encode()).hexdigest()[:40]
