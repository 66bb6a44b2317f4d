"""Pure domain calculations: standard coal (GB/T 2589), efficiency levels, carbon, intensity.

Nothing here does I/O; reference tables come from the cached loaders of ``kilnwatch.reference``
or are passed in.
"""

from kilnwatch.domain.carbon import (
    CombustionEmission,
    FactorEmission,
    clinker_factor_tco2_per_t,
    co2_combustion_t,
    co2_electricity_t,
    co2_heat_t,
    co2_process_carbonate_t,
    co2_process_clinker_t,
    grid_factor,
)
from kilnwatch.domain.energy import (
    ComprehensiveEnergy,
    ConversionResult,
    carrier_keys,
    coefficient_for,
    comprehensive_energy_tce,
    energy_kgce,
    field_intensity,
    unit_intensity,
)
from kilnwatch.domain.intensity import (
    IntensityChange,
    TargetCheck,
    check_reduction_target,
    intensity_vs_base,
)
from kilnwatch.domain.levels import (
    Classification,
    LevelDistance,
    ShareAtBenchmark,
    TableVerdict,
    classify,
    field_def,
    gap_to_level,
    share_at_benchmark,
)
from kilnwatch.domain.units import convert, dimension_of

__all__ = [
    "Classification",
    "CombustionEmission",
    "ComprehensiveEnergy",
    "ConversionResult",
    "FactorEmission",
    "IntensityChange",
    "LevelDistance",
    "ShareAtBenchmark",
    "TableVerdict",
    "TargetCheck",
    "carrier_keys",
    "check_reduction_target",
    "classify",
    "clinker_factor_tco2_per_t",
    "co2_combustion_t",
    "co2_electricity_t",
    "co2_heat_t",
    "co2_process_carbonate_t",
    "co2_process_clinker_t",
    "coefficient_for",
    "comprehensive_energy_tce",
    "convert",
    "dimension_of",
    "energy_kgce",
    "field_def",
    "field_intensity",
    "gap_to_level",
    "grid_factor",
    "intensity_vs_base",
    "share_at_benchmark",
    "unit_intensity",
]
