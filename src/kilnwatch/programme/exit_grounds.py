"""Low-efficiency exit on the five kinds of standards (安全、环保、能耗、技术、质量): per unit,
the grounds by kind, each with the standard cited and its evidence.

* energy: judged from the levels, never recorded by hand: a unit worse than grade 3 of its GB
  limit standard (the account's ``legal_breach``, the table named);
* technology and environment: the obsolete-equipment rules the unit matches
  (``reference/programme/obsolete_equipment.csv``, each rule's kind), plus recorded
  determinations;
* safety, environment, technology, quality: recorded determinations (who determined it, when,
  the standard, the evidence, a deadline if one was set). No sourced automatic test exists in
  the platform for these, so they are never inferred from data.

A determination is never rewritten: the latest per unit and kind is in force (a later one
finding ``meets`` lifts an earlier ``breach``).

References
----------
.. [1] 国发〔2023〕24号《空气质量持续改善行动计划》: 进一步提高落后产能能耗、环保、质量、安全、技术
   等要求 (wallstreetcn.com, search tool, pages corpus): the five kinds.
.. [2] 工信部联产业〔2017〕30号《关于利用综合标准依法依规推动落后产能退出的指导意见》, as cited by
   益阳市淘汰办 2024 (search tool, pages corpus); its own text was not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from kilnwatch.accounting.units import UnitAccount
from kilnwatch.domain.obsolete import ObsoleteMatch
from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.programme import EXIT_KINDS
from kilnwatch.store.models import ExitGround, ProductionUnit
from kilnwatch.store.repos.scope import visible_row, visible_unit_rows

RECORDED_KINDS = tuple(k for k in EXIT_KINDS if k != "energy")
"""Kinds recorded as determinations; energy comes from the levels."""
FINDINGS = ("breach", "meets")


@dataclass(frozen=True)
class Ground:
    """One exit ground of a unit: its kind, what was found and on what basis."""

    unit_id: int
    kind: str
    finding: str
    """breach | meets"""
    standard: str
    evidence: str
    basis: str
    """computed (levels), rule (obsolete-equipment rule) or recorded (a determination)."""
    determined_by: str | None = None
    determined_on: date | None = None
    deadline_on: date | None = None
    record_id: int | None = None
    unit_label: str = ""
    """``USCC/UNIT_CODE`` of the unit (empty when no account is at hand)."""


def record_exit_ground(
    session: Session,
    principal: Principal,
    unit_id: int,
    kind: str,
    finding: str,
    standard: str,
    evidence: str,
    determined_by: str,
    determined_on: date,
    deadline_on: date | None = None,
) -> ExitGround:
    """Record a determination of one kind for a unit (a regulator's act, never an
    enterprise's); every text is required, the kind is one of :data:`RECORDED_KINDS`."""
    if principal.role is Role.ENTERPRISE:
        raise PermissionDeniedError("an enterprise cannot determine its own exit grounds")
    unit = visible_row(session, ProductionUnit, unit_id, principal, "production unit")
    if kind == "energy":
        raise InputError(
            "the energy ground is judged from the levels (GB grade 3), not recorded", field="kind"
        )
    if kind not in RECORDED_KINDS:
        raise InputError(f"kind must be one of {'/'.join(RECORDED_KINDS)}", field="kind")
    if finding not in FINDINGS:
        raise InputError(f"finding must be one of {'/'.join(FINDINGS)}", field="finding")
    for name, text in (("standard", standard), ("evidence", evidence), ("by", determined_by)):
        if not text.strip():
            raise InputError(f"a determination needs its {name}", field=name)
    if deadline_on is not None and deadline_on < determined_on:
        raise InputError("the deadline is before the determination", field="deadline_on")
    row = ExitGround(
        unit_id=unit.id,
        enterprise_id=unit.enterprise_id,
        kind=kind,
        standard=standard.strip()[:200],
        finding=finding,
        evidence=evidence.strip(),
        determined_by=determined_by.strip()[:64],
        determined_on=determined_on,
        deadline_on=deadline_on,
        recorded_by=principal.subject,
    )
    session.add(row)
    session.flush()
    return row


def exit_ground_records(
    session: Session, principal: Principal, unit_id: int | None = None
) -> list[ExitGround]:
    """Every recorded determination the principal may see (of one unit when given), newest
    first."""
    return visible_unit_rows(session, ExitGround, principal, unit_id, ExitGround.determined_on)


def in_force(records: Iterable[ExitGround]) -> list[ExitGround]:
    """The determination in force per unit and kind: the latest (records newest first)."""
    seen: set[tuple[int, str]] = set()
    out = []
    for r in records:
        if (r.unit_id, r.kind) not in seen:
            seen.add((r.unit_id, r.kind))
            out.append(r)
    return out


def unit_grounds(
    unit_id: int,
    account: UnitAccount | None,
    matches: Iterable[ObsoleteMatch],
    records: Iterable[ExitGround],
) -> list[Ground]:
    """A unit's exit grounds by kind: energy from its account, rules it matches, and the
    recorded determinations in force (``records`` of this unit, newest first)."""
    grounds: list[Ground] = []
    if account is not None and account.legal_breach is not None and account.intensity:
        grounds.append(
            Ground(
                unit_id,
                "energy",
                "breach" if account.legal_breach else "meets",
                account.class_table or "GB limit standard",
                f"{account.intensity:.4g} {account.intensity_unit} in {account.period}"
                f" ({'worse than' if account.legal_breach else 'within'} GB grade 3)",
                "computed",
            )  # fmt: skip
        )
    for m in matches:
        grounds.append(
            Ground(
                unit_id,
                m.rule.kind,
                "breach",
                m.rule.document,
                f"{m.rule.text_zh}: {'; '.join(m.evidence)}",
                "rule",
                deadline_on=m.rule.deadline,
            )  # fmt: skip
        )
    for r in in_force(records):
        grounds.append(
            Ground(
                r.unit_id,
                r.kind,
                r.finding,
                r.standard,
                r.evidence,
                "recorded",
                r.determined_by,
                r.determined_on,
                r.deadline_on,
                r.id,
            )  # fmt: skip
        )
    order: dict[str, int] = {k: i for i, k in enumerate(EXIT_KINDS)}
    label = f"{account.enterprise_uscc}/{account.unit_code}" if account else ""
    labelled = [replace(g, unit_label=label) for g in grounds]
    return sorted(labelled, key=lambda g: order.get(g.kind, len(order)))


__all__ = [
    "FINDINGS",
    "RECORDED_KINDS",
    "Ground",
    "exit_ground_records",
    "in_force",
    "record_exit_ground",
    "unit_grounds",
]
