"""Helpers shared by rules and detectors: building findings, tolerances, standard coal."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kilnwatch.analytics.meters import MeterInfo
from kilnwatch.domain.energy import energy_kgce
from kilnwatch.domain.units import convert
from kilnwatch.errors import KilnwatchError
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding, rounded, severity_for


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


def tolerance(ctx: EnterpriseContext, rule_code: str, accuracies: Iterable[float | None]) -> float:
    """Relative tolerance [fraction]: the larger of the rule's minimum gap and the multiplier
    times the combined maximum permissible error of the compared meters (root sum of squares
    of their accuracy classes [%])."""
    default = ctx.settings.value(rule_code, "default_accuracy_pct")
    combined_pct = math.sqrt(sum((a if a is not None else default) ** 2 for a in accuracies))
    by_class = ctx.settings.value(rule_code, "accuracy_multiplier") * combined_pct / 100.0
    return max(ctx.settings.value(rule_code, "min_gap_fraction"), by_class)


def source_ref(row: Any) -> dict[str, Any]:
    """Where a source row came from (file and row), for evidence."""
    return {"source_file": row.source_file, "source_row": row.source_row, "id": row.id}
