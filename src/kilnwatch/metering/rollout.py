"""Roll-out of key instruments per city against Shandong's milestones (2022 for the eight key
industries, 2023 for the others; ``reference/metering/rollout_milestones.csv``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kilnwatch.metering.census import EnterpriseCensus
from kilnwatch.reference.metering import milestone_for


def city_of(region_code: str) -> str:
    """The GB/T 2260 city code of a division code (``370112`` -> ``370100``)."""
    return region_code[:4] + "00"


@dataclass(frozen=True)
class RolloutRow:
    """One city and industry: how many of its enterprises have their instruments in place
    (``configured``: census declared, every rate and accuracy class met) against the
    industry's deadline."""

    city_code: str
    industry: str
    deadline: date
    enterprises: int
    with_census: int
    configured: int

    @property
    def progress_fraction(self) -> float:
        return self.configured / self.enterprises if self.enterprises else 0.0

    def behind(self, as_of: date) -> bool:
        """Past the deadline with enterprises still not configured."""
        return as_of > self.deadline and self.configured < self.enterprises


def rollout(censuses: Sequence[EnterpriseCensus]) -> list[RolloutRow]:
    """Roll-out rows by city and industry, ordered by city, deadline, industry."""
    groups: dict[tuple[str, date, str], list[EnterpriseCensus]] = defaultdict(list)
    for c in censuses:
        key = (city_of(c.region_code), milestone_for(c.industry).deadline, c.industry)
        groups[key].append(c)
    return [
        RolloutRow(city, industry, deadline, len(cs), sum(c.has_census for c in cs),
                   sum(c.configured for c in cs))
        for (city, deadline, industry), cs in sorted(groups.items())
    ]  # fmt: skip
