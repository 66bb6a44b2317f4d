"""Measurement and verification: fit statistics against hand-computed values, savings and
their interval on synthetic days with known truth, sufficiency, JSON round trip, docstrings."""

from __future__ import annotations

import importlib.util
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import kilnwatch.domain.mv
from kilnwatch.domain.mv import (
    Adjustment,
    DailyData,
    MVSettings,
    ProductionModel,
    measure_savings,
    sufficiency_warnings,
)
from kilnwatch.domain.mv.stats import (
    cv_rmse,
    effective_observations,
    lag1_autocorrelation,
    nmbe,
    r_squared,
    savings_uncertainty_fraction,
    t_quantile,
)
from kilnwatch.errors import InputError

DOCSTRINGS = Path(__file__).parents[1] / "test_docstrings.py"
_spec = importlib.util.spec_from_file_location("domain_docstring_checks", DOCSTRINGS)
assert _spec is not None and _spec.loader is not None
docstring_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docstring_checks)

START = date(2025, 1, 1)


def _days(n: int, start: date = START) -> tuple[date, ...]:
    return tuple(start + timedelta(days=i) for i in range(n))


def _data(n: int, saving: float, seed: int, start: date = START, rho: float = 0.0) -> DailyData:
    """E = (2 + 0.1 P) (1 - saving) + AR(1) noise, P around 100 t/d."""
    rng = np.random.default_rng(seed)
    production = 100 + 20 * rng.standard_normal(n)
    noise = np.zeros(n)
    for i in range(n):
        noise[i] = (rho * noise[i - 1] if i else 0.0) + 0.15 * rng.standard_normal()
    energy = (2.0 + 0.1 * production) * (1 - saving) + noise
    return DailyData(_days(n, start), energy, production, n)


def test_statistics_match_hand_computed_values() -> None:
    y = np.array([10.0, 12.0, 11.0, 13.0])
    yhat = np.array([10.5, 11.5, 11.5, 12.5])
    # residuals -0.5, 0.5, -0.5, 0.5: SSE 1, mean 11.5, n - p = 2
    assert cv_rmse(y, yhat, 2) == pytest.approx(math.sqrt(1 / 2) / 11.5)
    assert nmbe(y, yhat, 2) == pytest.approx(0.0)
    assert r_squared(y, yhat) == pytest.approx(1 - 1 / 5)
    assert lag1_autocorrelation(np.array([-0.5, 0.5, -0.5, 0.5])) == pytest.approx(-0.75)
    assert effective_observations(100, 0.5) == pytest.approx(100 / 3)
    assert effective_observations(100, -0.3) == 100  # negative rho taken as 0


T_TABLE = [(0.95, 10, 1.8125), (0.95, 30, 1.6973), (0.975, 20, 2.0860), (0.95, 1000, 1.6464)]


@pytest.mark.parametrize(("p", "dof", "expected"), T_TABLE)
def test_t_quantile_matches_tables(p: float, dof: int, expected: float) -> None:
    assert t_quantile(p, dof) == pytest.approx(expected, abs=2e-3)


def test_uncertainty_grows_with_autocorrelation_and_shrinks_with_reporting_days() -> None:
    white = savings_uncertainty_fraction(0.05, 100, 100.0, 60, 0.90)
    correlated = savings_uncertainty_fraction(0.05, 100, effective_observations(100, 0.6), 60, 0.9)
    longer = savings_uncertainty_fraction(0.05, 100, 100.0, 240, 0.90)
    assert correlated > 1.5 * white
    assert longer == pytest.approx(white / 2, rel=1e-9)


def test_fit_recovers_the_model_and_states_its_statistics() -> None:
    model = ProductionModel.fit(_data(90, 0.0, seed=1))
    assert model.slope_tce_per_product == pytest.approx(0.1, abs=0.01)
    assert model.intercept_tce_per_day == pytest.approx(2.0, abs=0.8)
    assert model.r_squared > 0.9 and 0 < model.cv_rmse < 0.02
    assert model.nmbe == pytest.approx(0.0, abs=1e-9)  # OLS with an intercept
    assert ProductionModel.from_json(model.to_json()) == model


def test_known_saving_lies_inside_the_interval_and_no_change_is_not_significant() -> None:
    hits = false = 0
    for seed in range(40):
        model = ProductionModel.fit(_data(90, 0.0, seed, rho=0.5))
        changed = measure_savings(model, _data(60, 0.05, seed + 100, START + timedelta(90)))
        low, high = changed.interval_fraction
        hits += low <= 0.05 <= high
        unchanged = measure_savings(model, _data(60, 0.0, seed + 200, START + timedelta(90)))
        false += unchanged.significant
    assert hits >= 34  # 90 % interval: at least 85 % of 40
    assert false <= 4


def test_adjustment_with_reason_moves_the_baseline() -> None:
    model = ProductionModel.fit(_data(60, 0.0, seed=3))
    reporting = _data(30, 0.0, seed=4, start=START + timedelta(60))
    plain = measure_savings(model, reporting)
    adjusted = measure_savings(
        model, reporting, adjustments=(Adjustment(50.0, "second kiln fan added"),)
    )
    assert adjusted.adjusted_baseline_tce == pytest.approx(plain.adjusted_baseline_tce + 50)
    assert adjusted.savings_tce == pytest.approx(plain.savings_tce + 50)
    with pytest.raises(InputError):
        Adjustment(10.0, "  ")


def test_out_of_range_share_and_sufficiency_warnings() -> None:
    model = ProductionModel.fit(_data(60, 0.0, seed=5))
    reporting = _data(30, 0.0, seed=6, start=START + timedelta(60))
    high = DailyData(reporting.days, reporting.energy_tce * 2, reporting.production * 2, 30)
    result = measure_savings(model, high)
    assert result.out_of_range_fraction > 0.5
    assert "mv.reporting.out_of_range" in {w.code for w in result.warnings}
    short = _data(10, 0.0, seed=7)
    codes = {w.code for w in sufficiency_warnings(short, MVSettings(), "baseline")}
    assert {"mv.baseline.too_short", "mv.baseline.shorter_than_year"} <= codes
    gappy = DailyData(short.days, short.energy_tce, short.production, 20)
    codes = {w.code for w in sufficiency_warnings(gappy, MVSettings(), "reporting")}
    assert "mv.reporting.missing_days" in codes
    with pytest.raises(InputError, match="reporting period"):
        measure_savings(model, _data(5, 0.0, seed=8))


def test_operating_hours_term_is_fitted_when_hours_vary() -> None:
    rng = np.random.default_rng(9)
    n = 80
    production = 100 + 10 * rng.standard_normal(n)
    hours = np.where(rng.random(n) < 0.2, 12.0, 24.0)
    production = production * hours / 24
    energy = 1.0 + 0.1 * production + 0.2 * hours + 0.05 * rng.standard_normal(n)
    data = DailyData(_days(n), energy, production, n, hours)
    model = ProductionModel.fit(data)
    assert model.n_params == 3
    assert model.hours_tce_per_hour == pytest.approx(0.2, abs=0.02)
    with pytest.raises(InputError, match="operating hours"):
        model.predict(production)


def test_mv_definitions_are_documented_with_units_and_references() -> None:
    folder = Path(kilnwatch.domain.mv.__file__).parent
    problems = {
        name: docstring_checks.docstring_problems(node)
        for name, node in docstring_checks.public_definitions(folder)
        if docstring_checks.docstring_problems(node)
    }
    assert problems == {}
