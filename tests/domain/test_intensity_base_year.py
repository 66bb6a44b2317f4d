"""Energy and carbon intensity vs the 2020 base year."""

from __future__ import annotations

import pytest

from kilnwatch.domain import check_reduction_target, intensity_vs_base
from kilnwatch.errors import InputError


def test_energy_intensity_vs_2020():
    """2020: 1000 tce / 10 000 t = 0.1 tce/t; 2025: 900 tce / 11 000 t = 0.0818 tce/t.
    Reduction = (0.1 - 0.081818) / 0.1 = 18.18 % >= 13.5 % target -> met."""
    change = intensity_vs_base(900, 11_000, 1000, 10_000, year=2025, base_year=2020)
    assert change.base_intensity == pytest.approx(0.1)
    assert change.intensity == pytest.approx(900 / 11_000)
    assert change.reduction_fraction == pytest.approx(1 - (900 / 11_000) / 0.1)
    check = check_reduction_target(change)
    assert check.met and check.target_fraction == pytest.approx(0.135)


def test_carbon_intensity_rising_misses_target():
    """2020: 2000 tCO2 / 1000 t = 2.0; 2025: 2100 / 1000 = 2.1 -> +5 % (no reduction)."""
    change = intensity_vs_base(2100, 1000, 2000, 1000, year=2025, base_year=2020)
    assert change.change_fraction == pytest.approx(0.05)
    assert not check_reduction_target(change).met


def test_base_year_mismatch_and_bad_input():
    change = intensity_vs_base(1, 1, 1, 1, year=2025, base_year=2015)
    with pytest.raises(InputError):
        check_reduction_target(change)
    with pytest.raises(InputError):
        intensity_vs_base(1, 1, 0, 1, year=2025, base_year=2020)
    with pytest.raises(InputError):
        intensity_vs_base(1, 0, 1, 1, year=2025, base_year=2020)
