"""Building findings and their evidence; shared by every rule and detector.

A finding's severity follows its relative magnitude (:func:`severity_for`, the bands of
``verify.severity``); energy magnitudes are converted to standard coal (GB/T 2589 via
:func:`kilnwatch.domain.energy.energy_kgce`); comparisons of meters use the tolerance of their
accuracy classes (:class:`Tolerance`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from kilnwatch.analytics.meters import MeterInfo
from kilnwatch.domain.energy import energy_kgce
from kilnwatch.domain.units import convert
from kilnwatch.errors import KilnwatchError
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import VerifySettings

SEVERITY = "verify.severity"


def rounded(value: float, digits: int = 4) -> float:
    """Evidence numbers, rounded so that JSON stays readable and re-runs compare equal."""
    return float(round(value, digits))


def local_at(ctx: EnterpriseContext, epoch_s: int | float) -> str:
    """An epoch second for evidence: ISO 8601 in the deployment's local time, with its offset
    (``2025-03-04T08:00:00+08:00``), like the balance evidence and the pages."""
    return datetime.fromtimestamp(int(epoch_s), ctx.window.month.zone).isoformat()


def human(value: float | None) -> str:
    """A number for people in messages: thousands grouped, no exponent form (``15,112,600``,
    ``3.25``, ``0.0123``)."""
    if value is None:
        return "—"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def utc_at(epoch_s: int) -> datetime:
    """An epoch second as an aware UTC datetime."""
    return datetime.fromtimestamp(int(epoch_s), UTC)


def severity_for(fraction: float | None, settings: VerifySettings) -> str:
    """Severity from a relative magnitude: high / medium / low bands of ``verify.severity``."""
    high = settings.value(SEVERITY, "high_fraction")
    medium = settings.value(SEVERITY, "medium_fraction")
    if fraction is None:
        return "low"
    size = abs(fraction)
    if size >= high:
        return "high"
    if size >= medium:
        return "medium"
    return "low"


def finding(
    ctx: EnterpriseContext,
    rule_code: str,
    message: str,
    evidence: dict[str, Any],
    *,
    fraction: float | None = None,
    tce: float | None = None,
    meter: MeterInfo | None = None,
    unit_id: int | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    severity: str | None = None,
) -> Finding:
    """A finding of ``ctx``'s enterprise and period; severity from the magnitude by default."""
    return Finding(
        rule_code=rule_code,
        enterprise_id=ctx.info.id,
        period=ctx.window.period,
        start_at=start_at or ctx.window.start_at,
        end_at=end_at or ctx.window.end_at,
        severity=severity or severity_for(fraction, ctx.settings),
        message=message,
        evidence=evidence,
        unit_id=unit_id if unit_id is not None else (meter.unit_id if meter else None),
        meter_id=meter.id if meter else None,
        magnitude_fraction=None if fraction is None else rounded(abs(fraction)),
        magnitude_tce=None if tce is None else rounded(tce, 3),
    )


def explained_as_info(
    findings: list[Finding], explained: Callable[[Finding], bool], cause: str
) -> list[Finding]:
    """``findings``, those ``explained`` by another finding kept as info with their message
    saying by what ("(explained by a stuck meter)")."""
    return [
        replace(f, severity="info", message=f"{f.message} (explained by {cause})")
        if explained(f)
        else f
        for f in findings
    ]


def tce_of(carrier: str, quantity: float, unit: str) -> float | None:
    """Standard coal [tce] of a quantity (GB/T 2589 via the accounting helper), or None when
    the carrier has no confirmed coefficient."""
    if quantity <= 0 or carrier.startswith("product:"):
        return None
    try:
        return energy_kgce(carrier, quantity, unit).kgce / 1000.0
    except KilnwatchError:
        return None


def converted(quantity: float, from_unit: str, to_unit: str) -> float | None:
    """``quantity`` in ``to_unit``, or None when the units do not convert."""
    try:
        return convert(quantity, from_unit, to_unit)
    except KilnwatchError:
        return None


def converted_sum(quantities: Iterable[tuple[float, str]], to_unit: str) -> float | None:
    """The sum of (quantity, unit) pairs in ``to_unit``, or None when one does not convert."""
    total = 0.0
    for quantity, unit in quantities:
        part = converted(quantity, unit, to_unit)
        if part is None:
            return None
        total += part
    return total


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerance [fraction] of a comparison of meters: the larger of the check's
    minimum gap and the multiplier times the combined maximum permissible error of the compared
    meters (root sum of squares of their accuracy classes [%]; the accuracy class index is the
    maximum permissible error in % of the reading)."""

    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "min_gap_fraction",
        "accuracy_multiplier",
        "default_accuracy_pct",
    )
    min_gap_fraction: float
    accuracy_multiplier: float
    default_accuracy_pct: float

    @classmethod
    def of(cls, settings: VerifySettings, rule_code: str) -> Tolerance:
        return cls(*(settings.value(rule_code, name) for name in cls.PARAMETERS))

    def of_meters(self, accuracies: Iterable[float | None]) -> float:
        combined = self.combined_error(accuracies)
        return max(self.min_gap_fraction, self.accuracy_multiplier * combined)

    def combined_error(self, accuracies: Iterable[float | None]) -> float:
        """The compared meters' combined maximum permissible error [fraction]: root sum of
        squares of their accuracy classes (a meter without one at ``default_accuracy_pct``)."""
        pcts = [a if a is not None else self.default_accuracy_pct for a in accuracies]
        return math.sqrt(sum(p**2 for p in pcts)) / 100.0


def source_ref(row: Any) -> dict[str, Any]:
    """Where a source row came from (file and row), for evidence."""
    return {"source_file": row.source_file, "source_row": row.source_row, "id": row.id}
