"""Measured savings of a unit from stored readings: the ingestion path, daily rollups,
GB/T 2589 energy, the baseline model and the interval, on a retrofit with a known saving."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from clinker import DAYS, EFFECTIVE, FIRST, load_clinker_line
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.programme.savings import retrofit_periods, unit_savings
from zone import SHANGHAI


def _periods() -> tuple:  # type: ignore[type-arg]
    return retrofit_periods(EFFECTIVE, FIRST, FIRST + timedelta(days=DAYS - 1), SHANGHAI)


def test_known_saving_is_measured_within_its_interval(session: Session, tmp_path: Path) -> None:
    unit = load_clinker_line(session, tmp_path, saving=0.06, seed=1)
    baseline, reporting = _periods()
    s = unit_savings(session, unit, baseline, reporting)
    low, high = s.result.interval_fraction
    assert low <= 0.06 <= high
    assert s.result.significant
    assert s.result.savings_fraction == pytest.approx(0.06, abs=0.01)
    assert s.model.n_params == 3  # production and operating hours (the stops vary them)
    assert s.model.r_squared > 0.9
    assert s.reporting_account.intensity is not None  # class judged again on the reporting days
    assert s.reporting_account.class_table is not None
    payload = s.to_json()
    assert payload["result"]["reporting_days"] == 35
    assert payload["model"]["model_type"] == "production_linear_daily"


def test_no_change_shows_no_significant_saving(session: Session, tmp_path: Path) -> None:
    unit = load_clinker_line(session, tmp_path, saving=0.0, seed=2)
    baseline, reporting = _periods()
    s = unit_savings(session, unit, baseline, reporting)
    assert not s.result.significant
    assert abs(s.result.savings_fraction) < 0.01


def test_periods_without_days_are_refused() -> None:
    with pytest.raises(InputError, match="no baseline"):
        retrofit_periods(FIRST, FIRST, FIRST + timedelta(days=10), SHANGHAI)
