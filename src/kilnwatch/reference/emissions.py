"""Load the emission and water reference tables (``load_*`` verb, cached).

Tables in ``kilnwatch/reference/emissions/`` (sources: ``/work/shared/reference/emissions``,
``FACTS.md`` there; every row carries its source and confidence):

- ``limits.csv``: concentration limits [mg/m3] by industry standard (GB 13223-2011,
  ultra-low emission policies for coal power and steel, GB 4915-2013) with the reference O2
  [%] where the standard fixes one; ``limit_id`` = ``<family>.<pollutant>``.
- ``process_limits.csv``: which limit row judges which process and pollutant.
- ``validity.csv``: HJ 75-2017 data-validity and substitution parameters.
- ``water_quotas.csv``: water-withdrawal quotas (GB/T 18916 series, MWR 2019) [m3 per unit].
- ``process_water_quotas.csv``: which quota judges which process (by capacity class).
- ``water_sources.csv``: the water-withdrawal source categories (取水水源) a water meter may name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import Confidence, keyed, read_parameters, read_table

PACKAGE = "kilnwatch.reference"
#: Pollutants judged against concentration limits (keys of ``limits.csv``), in report order.
POLLUTANTS = ("so2", "nox", "dust")
#: Carriers of a gas monitoring point (CEMS): flue-gas flow (HJ 212 ``a00000``), O2
#: (``a19001``), and each pollutant's device total (``<pollutant>_mass``, ``-Cou``).
GAS_FLOW, O2, MASS_SUFFIX = "flue_gas_flow", "o2", "_mass"
#: Carriers of a wastewater outfall: flow (``w00000``) and the pollutants (``w01018``, ``w21003``).
WATER_FLOW, WATER_POLLUTANTS = "wastewater_flow", ("cod", "ammonia_nitrogen")
#: Every carrier whose readings the emissions figures group by hour: the meters the store keeps
#: the hourly ``emission_hours`` rollup of.
MONITORED_CARRIERS = frozenset(
    {*POLLUTANTS, GAS_FLOW, O2, *(p + MASS_SUFFIX for p in POLLUTANTS), WATER_FLOW,
     *WATER_POLLUTANTS}
)  # fmt: skip


@dataclass(frozen=True)
class EmissionLimit:
    """A concentration limit [mg/m3] at the reference O2 [%] (None: judged as measured)."""

    limit_id: str
    industry: str
    process: str
    pollutant: str
    pollutant_as_printed: str
    limit_mg_m3: float
    o2_ref_pct: float | None
    averaging: str
    standard: str
    clause: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class ProcessLimit:
    process: str
    pollutant: str
    limit_id: str
    source: str
    confidence: Confidence
    rationale: str


@dataclass(frozen=True)
class WaterQuota:
    """A water-withdrawal quota: general (existing plants) and advanced (new) [m3/unit]."""

    quota_id: str
    industry: str
    product_or_unit: str
    category: str
    quota_general: float
    quota_advanced: float | None
    unit: str
    standard: str
    clause: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class WaterSource:
    """A water-withdrawal source category (conventional: surface, ground, municipal; or
    non-conventional water)."""

    source_id: str
    group: Literal["conventional", "non_conventional"]
    name_zh: str
    name_en: str
    definition: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class ProcessWaterQuota:
    """The quota of a process for units with ``capacity_min <= capacity < capacity_max``;
    ``product_per_quota_unit``: product units per quota unit (1000 kWh per MWh)."""

    process: str
    quota_id: str
    capacity_min: float | None
    capacity_max: float | None
    product_per_quota_unit: float
    source: str
    confidence: Confidence
    rationale: str

    def covers(self, capacity: float) -> bool:
        low = self.capacity_min if self.capacity_min is not None else float("-inf")
        high = self.capacity_max if self.capacity_max is not None else float("inf")
        return low <= capacity < high


@cache
def load_emission_limits() -> Mapping[str, EmissionLimit]:
    """Limit rows by ``limit_id``."""
    return keyed(read_table(PACKAGE, "emissions/limits.csv", EmissionLimit), lambda r: r.limit_id)


@cache
def load_process_limits() -> Mapping[tuple[str, str], EmissionLimit]:
    """The limit judging ``(process, pollutant)``; every row must name a known limit."""
    limits = load_emission_limits()
    out: dict[tuple[str, str], EmissionLimit] = {}
    for row in read_table(PACKAGE, "emissions/process_limits.csv", ProcessLimit):
        limit = limits.get(row.limit_id)
        if limit is None or limit.pollutant != row.pollutant:
            raise ReferenceDataError(
                f"reference/emissions/process_limits.csv: {row.process}/{row.pollutant} names "
                f"limit {row.limit_id!r}, which limits.csv does not have for that pollutant"
            )
        out[(row.process, row.pollutant)] = limit
    return out


@cache
def load_validity_parameters() -> Mapping[str, float]:
    """HJ 75-2017 validity and substitution parameters by name."""
    return read_parameters(PACKAGE, "emissions/validity.csv")


@cache
def load_water_quotas() -> Mapping[str, WaterQuota]:
    return keyed(
        read_table(PACKAGE, "emissions/water_quotas.csv", WaterQuota), lambda r: r.quota_id
    )


@cache
def load_water_sources() -> Mapping[str, WaterSource]:
    """The water-withdrawal source categories by ``source_id``, in file order."""
    return keyed(
        read_table(PACKAGE, "emissions/water_sources.csv", WaterSource), lambda r: r.source_id
    )


@cache
def load_process_water_quotas() -> tuple[ProcessWaterQuota, ...]:
    rows = read_table(PACKAGE, "emissions/process_water_quotas.csv", ProcessWaterQuota)
    quotas = load_water_quotas()
    for row in rows:
        if row.quota_id not in quotas:
            raise ReferenceDataError(
                f"reference/emissions/process_water_quotas.csv: unknown quota {row.quota_id!r}"
            )
    return rows


def water_quota_for(process: str, capacity: float) -> tuple[WaterQuota, float] | None:
    """The quota judging a unit of ``process`` and ``capacity`` and the product units per quota
    unit, or None when no sourced quota covers it."""
    for row in load_process_water_quotas():
        if row.process == process and row.covers(capacity):
            return load_water_quotas()[row.quota_id], row.product_per_quota_unit
    return None
