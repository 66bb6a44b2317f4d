"""Measured savings of a production unit's retrofit, from its daily metered data.

The unit's own sub-meters isolate it (IPMVP Option B, all parameters measured); its energy per
day is the GB/T 2589 comprehensive energy of its top meters (:mod:`kilnwatch.accounting.daily`).
The baseline runs up to the day before the intervention period, the reporting period from the
day after it (CalTRACK Methods 2.0, 1.4.4), and the unit's class is judged again on the
reporting period's measured intensity.

References
----------
.. [1] IPMVP Core Concepts (EVO 10000-1:2022), Option B; 4.6 and 8.2 (adjustments).
.. [2] ASHRAE Guideline 14-2014, Annex B; CalTRACK Methods 2.0, 1.4.4 and 2.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.accounting.daily import UnitDay, period_account, unit_days
from kilnwatch.accounting.inputs import energy_kgce_of
from kilnwatch.accounting.units import UnitAccount
from kilnwatch.domain.mv import (
    Adjustment,
    DailyData,
    MVSettings,
    MVWarning,
    ProductionModel,
    SavingsResult,
    is_blocking,
    measure_savings,
    sufficiency_warnings,
)
from kilnwatch.domain.mv.stats import instrument_uncertainty_fraction
from kilnwatch.domain.periods import Period
from kilnwatch.errors import InputError
from kilnwatch.identity import Principal
from kilnwatch.reference.registry import load_processes
from kilnwatch.store.models import Meter, ProductionUnit, SavingsVerification
from kilnwatch.store.repos.scope import owned_by_visible_enterprise


@dataclass(frozen=True)
class UnitSavings:
    """A retrofit's measured savings with the model behind them and the class after it."""

    unit_id: int
    unit_code: str
    baseline: Period
    reporting: Period
    model: ProductionModel
    result: SavingsResult
    reporting_account: UnitAccount

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (model, result, class after the retrofit)."""
        acc = self.reporting_account
        return {
            "unit_id": self.unit_id,
            "unit_code": self.unit_code,
            "baseline": [
                self.baseline.first.isoformat(),
                (self.baseline.stop - timedelta(days=1)).isoformat(),
            ],
            "reporting": [
                self.reporting.first.isoformat(),
                (self.reporting.stop - timedelta(days=1)).isoformat(),
            ],
            "model": self.model.to_json(),
            "result": self.result.to_json(),
            "reporting_intensity": acc.intensity,
            "reporting_intensity_unit": acc.intensity_unit,
            "reporting_class": acc.class_,
            "reporting_class_table": acc.class_table,
        }


def _bounds(period: Period) -> list[str]:
    return [period.first.isoformat(), (period.stop - timedelta(days=1)).isoformat()]


def retrofit_periods(
    effective_on: date, first: date, last: date, zone: Any, intervention_days: int = 0
) -> tuple[Period, Period]:
    """Baseline ``[first, effective_on − intervention)`` and reporting ``[effective_on, last]``.

    The intervention period (CalTRACK 1.4.4) is the ``intervention_days`` before the effective
    date, left out of both periods.
    """
    baseline_last = effective_on - timedelta(days=intervention_days + 1)
    if baseline_last < first or effective_on > last:
        raise InputError(
            f"effective date {effective_on} leaves no baseline or reporting days in "
            f"{first}..{last}",
            field="effective_on",
        )
    return (Period.of_days(first, baseline_last, zone), Period.of_days(effective_on, last, zone))


def daily_data(days: list[UnitDay], period: Period) -> DailyData:
    """The complete days of ``days`` as M&V input (energy [tce/d], production [unit/d])."""
    rows = [
        (d.day, d.account.energy_tce or 0.0, d.account.production or 0.0, d.running_hours)
        for d in days
        if d.complete
    ]
    return DailyData.from_rows(rows, period.days)


def unit_savings(
    session: Session,
    unit: ProductionUnit,
    baseline: Period,
    reporting: Period,
    *,
    adjustments: tuple[Adjustment, ...] = (),
    settings: MVSettings | None = None,
) -> UnitSavings:
    """Fit the baseline model on ``baseline`` and measure savings over ``reporting``.

    Raises
    ------
    InputError
        Too few complete days in either period (the code and figures name which).
    """
    s = settings or MVSettings()
    base = daily_data(unit_days(session, unit, baseline), baseline)
    warnings = sufficiency_warnings(base, s, "baseline")
    if is_blocking(warnings):
        raise InputError(
            f"unit {unit.code}: baseline has {len(base)} complete days, fewer than "
            f"{s.min_baseline_days}",
            field="baseline",
        )
    fitted = ProductionModel.fit(base, s)
    model = replace(fitted, warnings=fitted.warnings + tuple(warnings))
    report = daily_data(unit_days(session, unit, reporting), reporting)
    account = period_account(session, unit, reporting)
    u, notes = _instrument_u(session, unit, account, model, report)
    result = measure_savings(
        model, report, adjustments=adjustments, instrument_u_fraction=u, settings=s
    )
    if notes:
        result = replace(
            result,
            warnings=result.warnings
            + (MVWarning("mv.instrument.class_unknown", "; ".join(notes), {"meters": notes}),),
        )
    return UnitSavings(unit.id, unit.code, baseline, reporting, model, result, account)


def accuracy_class_percent(text: str | None) -> float | None:
    """The largest permissible error [%] of an accuracy class such as ``0.5S`` or ``2.5``."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)", text or "")
    return float(match.group(1)) if match else None


def _instrument_u(
    session: Session,
    unit: ProductionUnit,
    account: UnitAccount,
    model: ProductionModel,
    report: DailyData,
) -> tuple[float, list[str]]:
    """The meters' share of the reporting energy (and of the predicted baseline, for the
    product meter) with their accuracy classes, as one relative standard uncertainty."""
    classes = {
        m.code: accuracy_class_percent(m.accuracy_class)
        for m in session.scalars(select(Meter).where(Meter.unit_id == unit.id))
    }
    product = f"product:{load_processes()[unit.process].product}"
    notes: list[str] = []
    kgce = {}
    for item in account.inputs:
        if item.carrier != product:
            kgce[item.meter_code] = energy_kgce_of([item], notes) or 0.0
    total = sum(kgce.values())
    shares: list[tuple[float, float]] = []
    for code, value in kgce.items():
        cls = classes.get(code)
        if cls is None:
            notes.append(f"{code}: no accuracy class")
        elif total > 0:
            shares.append((value / total, cls))
    predicted = float(np.sum(model.predict(report.production, report.running_hours)))
    if predicted > 0:
        production_share = model.slope_tce_per_product * float(np.sum(report.production))
        for item in account.inputs:
            cls = classes.get(item.meter_code)
            if item.carrier == product and cls is not None:
                shares.append((production_share / predicted, cls))
    return instrument_uncertainty_fraction(shares), notes


def record_savings(
    session: Session,
    principal: Principal,
    unit: ProductionUnit,
    measured: UnitSavings,
    effective_on: date,
    *,
    adjustments: tuple[Adjustment, ...] = (),
    plan_id: int | None = None,
) -> SavingsVerification:
    """Store a measurement with its model, statistics and adjustments (who, when)."""
    r = measured.result
    row = SavingsVerification(
        unit_id=unit.id,
        enterprise_id=unit.enterprise_id,
        plan_id=plan_id,
        effective_on=effective_on,
        baseline_first=measured.baseline.first,
        baseline_last=measured.baseline.stop - timedelta(days=1),
        reporting_first=measured.reporting.first,
        reporting_last=measured.reporting.stop - timedelta(days=1),
        savings_tce=r.savings_tce,
        savings_fraction=r.savings_fraction,
        uncertainty_fraction=r.uncertainty_fraction,
        confidence=r.confidence,
        significant=r.significant,
        cv_rmse=measured.model.cv_rmse,
        reporting_class=measured.reporting_account.class_,
        reporting_table=measured.reporting_account.class_table,
        adjustments=[a.__dict__ for a in adjustments],
        detail=measured.to_json(),
        created_by=principal.subject,
    )
    session.add(row)
    session.flush()
    return row


def recorded_savings(session: Session, principal: Principal) -> list[SavingsVerification]:
    """Every stored measurement the principal may see, newest first."""
    return list(
        session.scalars(
            select(SavingsVerification)
            .where(owned_by_visible_enterprise(SavingsVerification.enterprise_id, principal))
            .order_by(SavingsVerification.id.desc())
        )
    )


__all__ = [
    "UnitSavings",
    "record_savings",
    "recorded_savings",
    "accuracy_class_percent",
    "daily_data",
    "retrofit_periods",
    "unit_savings",
]
