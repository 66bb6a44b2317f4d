"""Obsolete processes and equipment (淘汰类) of the units in a jurisdiction: each unit's
equipment attributes against the packaged rules (``reference/programme/obsolete_equipment.csv``),
with the rules a unit could not be judged on for lack of attributes.

References
----------
.. [1] :mod:`kilnwatch.domain.obsolete` (how a rule matches) and the rules file's ``source``
   and ``confidence`` columns (what each rule transcribes, and how sure it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.obsolete import ObsoleteMatch, Unjudged, match_obsolete
from kilnwatch.identity import Principal
from kilnwatch.reference.programme import ObsoleteRule, load_obsolete_rules
from kilnwatch.store.models import Enterprise, ProductionUnit
from kilnwatch.store.repos.scope import owned_by_visible_enterprise

INACTIVE = ("eliminated",)
"""Unit statuses no longer judged (already eliminated)."""


@dataclass
class UnitCatalogue:
    """One unit's matches and unjudged rules."""

    unit_id: int
    unit_code: str
    enterprise_uscc: str
    enterprise_name: str
    process: str
    capacity: float
    capacity_unit: str
    matches: list[ObsoleteMatch] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)


def unit_matches(
    unit: ProductionUnit,
    enterprise: Enterprise,
    province: str | None,
    rules: Iterable[ObsoleteRule] | None = None,
) -> tuple[list[ObsoleteMatch], list[Unjudged]]:
    """The rules ``unit`` (already read, of ``enterprise``) matches and those it cannot be
    judged on; none for an eliminated unit. ``rules`` default to the packaged ones."""
    if unit.status in INACTIVE:
        return [], []
    rule_list = tuple(load_obsolete_rules() if rules is None else rules)
    return match_obsolete(unit.process, enterprise.region_code, unit.equipment, rule_list, province)


def catalogue_matches(
    session: Session,
    principal: Principal,
    province: str | None,
    unit_ids: Iterable[int] | None = None,
    rules: Iterable[ObsoleteRule] | None = None,
) -> list[UnitCatalogue]:
    """Every visible unit (of ``unit_ids`` when given) with at least one rule matched or
    unjudged, by unit id; ``rules`` default to the packaged ones."""
    rule_list = tuple(load_obsolete_rules() if rules is None else rules)
    stmt = (
        select(ProductionUnit, Enterprise)
        .join(Enterprise, Enterprise.id == ProductionUnit.enterprise_id)
        .where(
            owned_by_visible_enterprise(ProductionUnit.enterprise_id, principal),
            ProductionUnit.status.not_in(INACTIVE),
        )
        .order_by(ProductionUnit.id)
    )
    if unit_ids is not None:
        stmt = stmt.where(ProductionUnit.id.in_(list(unit_ids)))
    out = []
    for unit, e in session.execute(stmt):
        matches, unjudged = unit_matches(unit, e, province, rule_list)
        if matches or unjudged:
            out.append(
                UnitCatalogue(
                    unit.id,
                    unit.code,
                    e.uscc,
                    e.name,
                    unit.process,
                    unit.capacity,
                    unit.capacity_unit,
                    matches,
                    unjudged,
                )  # fmt: skip
            )
    return out


def catalogue_json(catalogue: Iterable[UnitCatalogue]) -> list[dict[str, object]]:
    """The matches and unjudged rules as JSON-ready dicts (CLI ``--json`` and API)."""
    return [
        {
            "unit_id": u.unit_id,
            "enterprise_uscc": u.enterprise_uscc,
            "unit_code": u.unit_code,
            "process": u.process,
            "matches": [
                {
                    "rule_id": m.rule.rule_id,
                    "document": m.rule.document,
                    "kind": m.rule.kind,
                    "text_zh": m.rule.text_zh,
                    "evidence": list(m.evidence),
                    "deadline": m.rule.deadline,
                    "source": m.rule.source,
                    "confidence": m.rule.confidence,
                }
                for m in u.matches
            ],
            "unjudged": [{"rule_id": x.rule_id, "missing": list(x.missing)} for x in u.unjudged],
        }  # fmt: skip
        for u in catalogue
    ]


__all__ = ["INACTIVE", "UnitCatalogue", "catalogue_json", "catalogue_matches", "unit_matches"]
