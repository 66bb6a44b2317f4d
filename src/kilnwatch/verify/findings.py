"""Findings as data: a stable dotted rule code, where, evidence, severity and magnitude.

A finding's ``fingerprint`` is derived from (rule code, enterprise, unit, meter, period) only,
so a re-run of verification over the same data updates the stored finding instead of adding a
second one. ``KIND_OF_RULE`` documents which ground-truth fault kinds a rule code detects (used
to score the detector against labelled data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from kilnwatch.verify.settings import VerifySettings

SEVERITIES = ("info", "low", "medium", "high")
STATUSES = ("open", "confirmed", "dismissed", "closed")

#: rule code -> fault kinds it can reveal (label kinds of ``docs/formats.md``).
KIND_OF_RULE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "verify.metered_vs_reported.energy_underreported": ("stats_underreport_energy",),
        "verify.metered_vs_reported.energy_overreported": (),
        "verify.metered_vs_reported.production_overreported": ("production_overreport",),
        "verify.metered_vs_reported.production_underreported": (),
        "verify.electricity.grid_vs_metered": ("meter_scaled", "meter_capped"),
        "verify.electricity.invoice_vs_grid": (),
        "verify.fuel.invoice_vs_metered": ("meter_scaled", "meter_capped"),
        "verify.coal_balance.unmetered": ("unmetered_coal",),
        "verify.revenue.sales_vs_shipped": ("revenue_mismatch",),
        "verify.revenue.amount_vs_market": ("revenue_mismatch",),
        "verify.submeter.parent_exceeds_children": ("submeter_mismatch",),
        "verify.submeter.parent_below_children": ("meter_scaled", "meter_capped"),
        "verify.submeter.child_reads_low": ("meter_scaled", "meter_capped"),
        "verify.meter.capped": ("meter_capped",),
        "verify.meter.intensity_drop": ("meter_scaled", "meter_capped"),
        "verify.intensity.vs_industry": (),
        "verify.timeseries.data_gap": ("data_gap",),
        "verify.timeseries.stuck": ("stuck_sensor", "meter_capped"),
        "verify.timeseries.impossible": (),
        "verify.timeseries.corrections": ("backdated_packets",),
        "verify.timeseries.late_data": ("backdated_packets",),
        "verify.timeseries.duplicates": ("duplicate_packets",),
        "verify.hj212.flag_pattern": ("flag_abuse",),
    }
)


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


def severity_for(fraction: float | None, settings: VerifySettings) -> str:
    """Severity from a relative magnitude: high / medium / low bands of ``verify.severity``."""
    if fraction is None:
        return "low"
    size = abs(fraction)
    if size >= settings.value("verify.severity", "high_fraction"):
        return "high"
    if size >= settings.value("verify.severity", "medium_fraction"):
        return "medium"
    return "low"


def rounded(value: float, digits: int = 4) -> float:
    """Evidence numbers, rounded so that JSON stays readable and re-runs compare equal."""
    return float(round(value, digits))
