"""Pure domain calculations: standard coal (GB/T 2589), efficiency levels, carbon, intensity.

Nothing here does I/O; reference tables come from the cached loaders of ``kilnwatch.reference``
or are passed in.

Docstrings follow numpydoc: every public function and class has ``Parameters`` (each line ends
with the unit in brackets), ``Returns``, ``Notes`` with the formula where there is one, and
``References`` naming the standard or document and, where it was confirmed, the clause or table
(``tests/domain/test_docstrings.py`` checks this). Unit notation: SI and statutory symbols with
superscripts and subscripts (``[m³]``, ``[tCO₂/MWh]``, ``[kgce/t]``); ``[-]`` for a dimensionless
number or a key; ``[unit of ``x``]`` where another argument names the unit.
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
