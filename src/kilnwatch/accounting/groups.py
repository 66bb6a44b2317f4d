"""Unit accounts aggregated by enterprise, city, industry or province.

References
----------
.. [1] 发改产业〔2021〕1609号 / 〔2023〕723号: the share of capacity at the benchmark level and
   its 2025 target (:func:`kilnwatch.domain.share_at_benchmark`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.accounting.units import UnitAccount
from kilnwatch.domain import share_at_benchmark
from kilnwatch.reference.registry import load_industries
from kilnwatch.store.models import Region


@dataclass
class GroupAccount:
    """Units aggregated by enterprise, city, industry or province."""

    key: str
    """USCC, GB/T 2260 division code or industry key."""
    name: str
    units: int = 0
    units_classified: int = 0
    units_below_baseline: int = 0
    energy_tce: float = 0.0
    co2_t: float = 0.0
    capacity_share_at_benchmark_fraction: float | None = None
    """Capacity of classified units at the benchmark level / capacity of classified units."""
    target_fraction: float | None = None
    meets_target: bool | None = None


def group_key(by: str, uscc: str, region_code: str, industry: str) -> str:
    """The key of an enterprise's group: its USCC, city or province division code (GB/T 2260
    prefix), or industry."""
    if by == "enterprise":
        return uscc
    if by == "city":
        return region_code[:4] + "00"
    if by == "industry":
        return industry
    return region_code[:2] + "0000"


def group_names(
    session: Session,
    by: str,
    keys: Iterable[str],
    enterprise_names: Mapping[str, str],
    locale: str = "zh-CN",
) -> dict[str, str]:
    """Display names of group keys (``enterprise_names`` by USCC for ``by="enterprise"``)."""
    en = locale == "en"
    if by == "enterprise":
        return {k: enterprise_names[k] for k in keys if k in enterprise_names}
    if by == "industry":
        industries = load_industries()
        return {
            k: (industries[k].name_en if en else industries[k].name_zh)
            for k in keys
            if k in industries
        }
    regions = session.scalars(select(Region).where(Region.code.in_(list(keys))))
    return {r.code: (r.name_en or r.name_zh) if en else r.name_zh for r in regions}


def group_accounts(
    session: Session, accounts: Iterable[UnitAccount], by: str, locale: str = "zh-CN"
) -> list[GroupAccount]:
    """Aggregate unit accounts by ``enterprise``, ``city``, ``industry`` or ``province``,
    with the capacity-weighted share of units at benchmark against the 2025 target."""
    groups: dict[str, list[UnitAccount]] = defaultdict(list)
    for acc in accounts:
        groups[group_key(by, acc.enterprise_uscc, acc.region_code, acc.industry)].append(acc)
    enterprises = {a.enterprise_uscc: a.enterprise_name for members in groups.values()
                   for a in members}  # fmt: skip
    names = group_names(session, by, groups, enterprises, locale)
    result = []
    for key, members in sorted(groups.items()):
        g = GroupAccount(key, names.get(key, key), units=len(members))
        g.energy_tce = sum(a.energy_tce or 0.0 for a in members)
        g.co2_t = sum(a.co2_t or 0.0 for a in members)
        classified = [a for a in members if a.class_ is not None]
        g.units_classified = len(classified)
        g.units_below_baseline = sum(a.class_ == "below_baseline" for a in classified)
        if classified:
            share = share_at_benchmark([(a.capacity, a.class_) for a in classified])
            g.capacity_share_at_benchmark_fraction = share.share_fraction
            g.target_fraction, g.meets_target = share.target_fraction, share.meets_target
        result.append(g)
    return result
