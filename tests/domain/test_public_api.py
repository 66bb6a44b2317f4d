"""The public surface of ``kilnwatch.domain`` is what ``__all__`` pins, nothing by accident."""

from __future__ import annotations

import types

import kilnwatch.domain as domain

EXPECTED = """
Classification CombustionEmission ComprehensiveEnergy ConversionResult FactorEmission
IntensityChange LevelDistance ShareAtBenchmark TableVerdict TargetCheck carrier_keys
check_reduction_target classify clinker_factor_tco2_per_t co2_combustion_t
co2_electricity_t co2_heat_t co2_process_carbonate_t co2_process_clinker_t
coefficient_for comprehensive_energy_tce convert dimension_of energy_kgce field_def
field_intensity gap_to_level grid_factor intensity_vs_base share_at_benchmark
unit_intensity
""".split()


def test_all_is_pinned_and_sorted() -> None:
    assert domain.__all__ == EXPECTED
    assert sorted(domain.__all__) == domain.__all__


def test_every_exported_name_resolves_to_a_domain_object() -> None:
    for name in domain.__all__:
        member = getattr(domain, name)
        assert member.__module__.startswith("kilnwatch.domain."), name


def test_nothing_else_public_but_the_submodules() -> None:
    public = {name for name in vars(domain) if not name.startswith("_")}
    extra = {
        n
        for n in public - set(domain.__all__)
        if not isinstance(getattr(domain, n), types.ModuleType)
    }
    assert extra == set()
