""" "两高" project control, pure rules: stages, what each stage requires, and the two ledgers
(capacity replacement 产能置换, coal consumption reduction and substitution 煤炭消费减量替代).

A project moves along ``planned → approved → under_construction → trial_operation →
operating``, and may be ``stopped`` at any time (and resume where its requirements allow).
:func:`stage_blockers` lists why a project may not enter a stage; each blocker is data with a
stable dotted code and the evidence behind it, never a bare message.

What a stage requires (each later stage requires everything of the earlier ones):

- ``approved`` and ``under_construction``: energy review (节能审查), environmental assessment
  (环评) and filing or approval (备案/核准) granted; a replacement plan whose committed retired
  capacity covers ``capacity × ratio``; a substitution plan whose committed coal covers
  ``coal × ratio``; no new capacity where policy forbids it [1]_ [2]_ [3]_.
- ``trial_operation``: the committed capacity is actually retired (产能置换: the retired
  capacity is dismantled before the new one produces) [1]_.
- ``operating``: the substitution is achieved in full before the project produces [4]_.

References
----------
.. [1] 工信部原〔2021〕46号《钢铁行业产能置换实施办法》 (ratios in
   ``reference/projects/replacement_ratios.csv``).
.. [2] 工信部原〔2021〕80号《水泥玻璃行业产能置换实施办法》.
.. [3] 国发〔2023〕24号《空气质量持续改善行动计划》: 重点区域新改扩建用煤项目实行煤炭等量或减量
   替代 (``reference/projects/coal_substitution_ratios.csv``).
.. [4] 山西省《大气污染防治重点地区用煤项目煤炭消费替代管理办法》 (2024): 投入生产使用前落实
   全部替代量 (the rule as practised; Shandong's own text was not found).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

STAGES = ("planned", "approved", "under_construction", "trial_operation", "operating", "stopped")
"""Project stages (项目阶段), in order; ``stopped`` (停建/停产) stands apart."""
CHAIN = STAGES[:-1]
LEGACY_STAGES = {"new": "planned", "existing": "operating"}
"""Stage names of the first registry format, read as their successors."""
APPROVAL_KINDS = ("energy_review", "environmental_assessment", "filing")
"""节能审查, 环境影响评价, 备案/核准."""
APPROVAL_STATUSES = ("pending", "approved", "rejected")
DEPARTMENTS = ("industry_it", "development_reform", "ecology_environment", "statistics")
"""The four departments that sign the weekly joint report, in the city and in the province:
工业和信息化, 发展和改革, 生态环境, 统计 (Shandong's plan as quoted in issue 16); codes of
``reference/supervise/departments.csv``."""
BUILD_STAGES = frozenset({"approved", "under_construction", "trial_operation", "operating"})
PRODUCING_STAGES = frozenset({"trial_operation", "operating"})
TOLERANCE_T = 1e-9
"""Rounding slack when comparing ledger sums [t or capacity unit]; not a policy figure."""


@dataclass(frozen=True)
class Blocker:
    """Why a project may not enter a stage: a stable code and its evidence.

    Parameters
    ----------
    code : str
        Stable dotted code, e.g. ``projects.replacement.short`` [-]
    message : str
        Short English explanation (pages translate the code) [-]
    evidence : Mapping
        The figures behind it: base, ratio, required, committed, done... [as named]

    References
    ----------
    .. [1] 工信部原〔2021〕46号《钢铁行业产能置换实施办法》 (what a replacement plan must show
       before approval and before production).
    """

    code: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a ledger: retired capacity or substituted coal, and whether it is done.

    Parameters
    ----------
    quantity : float
        Capacity retired [``unit``] or coal substituted [t/a]
    unit : str
        The unit of ``quantity``; must be the ledger's [-]
    done : bool
        Capacity actually retired (dismantled) or substitution achieved [-]

    References
    ----------
    .. [1] 工信部原〔2021〕46号, arts. on 产能置换方案 (retired capacity listed per line, verified
       as dismantled before the new capacity produces).
    """

    quantity: float
    unit: str
    done: bool


@dataclass(frozen=True)
class Ledger:
    """A replacement or substitution ledger of one project.

    ``required = base × ratio``; ``committed`` is every entry, ``done`` the entries already
    retired/achieved; the plan balances when ``committed ≥ required`` and is fulfilled when
    ``done ≥ required``. ``ratio`` None: the policy ratio is unknown (nothing can be checked).

    Parameters
    ----------
    base : float
        New capacity [``unit``] or new coal consumption [t/a]
    unit : str
        The unit every entry counts in [-]
    ratio : float or None
        Policy ratio, retired or substituted per new; None when not sourced [-]
    committed : float
        Sum of every entry [``unit``]
    done : float
        Sum of the entries already retired or achieved [``unit``]
    prohibited : bool
        Policy forbids new capacity of this kind here [-]

    References
    ----------
    .. [1] 工信部原〔2021〕46号 and 工信部原〔2021〕80号 (replacement ratios); 国发〔2023〕24号
       (等量或减量替代), ratios in ``reference/projects/``.
    """

    base: float
    unit: str
    ratio: float | None
    committed: float
    done: float
    prohibited: bool = False

    @property
    def required(self) -> float | None:
        return None if self.ratio is None else self.base * self.ratio

    @property
    def balance(self) -> float | None:
        """``committed − required`` (negative: short)."""
        required = self.required
        return None if required is None else self.committed - required

    @property
    def balanced(self) -> bool:
        required = self.required
        return (
            not self.prohibited
            and required is not None
            and self.committed + TOLERANCE_T >= required
        )

    @property
    def fulfilled(self) -> bool:
        required = self.required
        return self.balanced and required is not None and self.done + TOLERANCE_T >= required

    def figures(self) -> dict[str, float | str | None]:
        """The ledger's figures by name (base, unit, ratio, required, committed, done): the
        evidence of a stage blocker and the row of the project page."""
        return {
            "base": self.base,
            "unit": self.unit,
            "ratio": self.ratio,
            "required": self.required,
            "committed": self.committed,
            "done": self.done,
        }


def ledger(
    base: float, unit: str, ratio: float | None, entries: Iterable[LedgerEntry], *,
    prohibited: bool = False,
) -> Ledger:  # fmt: skip
    """Sum ``entries`` into a :class:`Ledger`; an entry in another unit is refused.

    Parameters
    ----------
    base : float
        New capacity or new coal consumption [``unit``]
    unit : str
        The unit of ``base`` and of every entry [-]
    ratio : float or None
        Policy ratio, retired per new; None when not sourced [-]
    entries : iterable of LedgerEntry
        The lines of the plan [``unit``]
    prohibited : bool
        Policy forbids new capacity of this kind here [-]

    Returns
    -------
    Ledger
        The sums and the requirement [``unit``]

    References
    ----------
    .. [1] 工信部原〔2021〕46号《钢铁行业产能置换实施办法》; 国发〔2023〕24号 (coal substitution).
    """
    committed = done = 0.0
    for e in entries:
        if e.unit != unit:
            raise ValueError(f"ledger entry in {e.unit!r}, the project counts in {unit!r}")
        committed += e.quantity
        done += e.quantity if e.done else 0.0
    return Ledger(base, unit, ratio, committed, done, prohibited)


@dataclass(frozen=True)
class ProjectFacts:
    """What the stage rules look at; ``replacement``/``coal`` None when not required.

    Parameters
    ----------
    stage : str
        The project's current stage (:data:`STAGES`) [-]
    approvals : Mapping
        Approval kind → status; missing kinds are not granted [-]
    replacement : Ledger or None
        Capacity replacement ledger, None when the kind needs none [capacity unit]
    coal : Ledger or None
        Coal substitution ledger, None when the project burns no coal [t/a]

    References
    ----------
    .. [1] 《固定资产投资项目节能审查办法》 (国家发展改革委令 2023年第2号): no construction before
       the energy review is granted; 环评 and 备案/核准 likewise.
    """

    stage: str
    approvals: Mapping[str, str]
    replacement: Ledger | None
    coal: Ledger | None


def stored_stage(stage: str) -> str:
    """A first-format name (``new``, ``existing``) as today's; any other text unchanged.

    Parameters
    ----------
    stage : str
        A stage as stored by any registry format [-]

    Returns
    -------
    str
        Today's name where the first format used another [-]

    References
    ----------
    .. [1] docs/formats.md, projects.csv ``stage`` (first format: new, under_construction,
       existing).
    """
    return LEGACY_STAGES.get(stage, stage)


def normal_stage(stage: str) -> str:
    """``stage`` with the first format's names (``new``, ``existing``) read as today's.

    Parameters
    ----------
    stage : str
        A stage name from a file, the API or the store [-]

    Returns
    -------
    str
        One of :data:`STAGES`; an unknown name raises ``ValueError`` [-]

    References
    ----------
    .. [1] docs/projects.md (stages) and docs/formats.md (projects.csv).
    """
    stage = stored_stage(stage)
    if stage not in STAGES:
        raise ValueError(f"unknown project stage {stage!r}; stages: {', '.join(STAGES)}")
    return stage


def transition_allowed(current: str, target: str) -> bool:
    """One step forward along the chain, ``stopped`` from anywhere, and from ``stopped`` back
    to a building or producing stage (the requirements still apply).

    Parameters
    ----------
    current : str
        The project's stage now [-]
    target : str
        The stage asked for [-]

    Returns
    -------
    bool
        True when the step is allowed by the chain alone [-]

    References
    ----------
    .. [1] 山东省 "两高" 项目管理 as quoted in issue 16 (stages 拟建, 在建, 试生产, 投产, 停建).
    """
    if target == "stopped":
        return current != "stopped"
    if current == "stopped":
        return target in BUILD_STAGES - {"approved"}
    return target in CHAIN and CHAIN.index(target) == CHAIN.index(current) + 1


def _ledger_blockers(name: str, led: Ledger, need_done: bool) -> list[Blocker]:
    evidence = led.figures()
    if led.prohibited:
        return [
            Blocker(f"projects.{name}.prohibited", "policy forbids new capacity here", evidence)
        ]
    if led.ratio is None:
        return [Blocker(f"projects.{name}.ratio_unknown", "the policy ratio is unknown", evidence)]
    if not led.balanced:
        return [
            Blocker(f"projects.{name}.short", "the plan does not cover the requirement", evidence)
        ]
    if need_done and not led.fulfilled:
        return [Blocker(f"projects.{name}.not_done", "not yet retired/achieved in full", evidence)]
    return []


def stage_blockers(facts: ProjectFacts, target: str) -> list[Blocker]:
    """Why the project may not enter ``target`` (empty: it may).

    Parameters
    ----------
    facts : ProjectFacts
        Stage, approvals and ledgers of the project [-]
    target : str
        The stage asked for [-]

    Returns
    -------
    list of Blocker
        Every reason, each with a stable code and its evidence; empty when allowed [-]

    References
    ----------
    .. [1] 工信部原〔2021〕46号 (retired before production); 国发〔2023〕24号 (substitution before
       production); 节能审查办法 2023 (no construction without the energy review).
    """
    current = normal_stage(facts.stage)
    target = normal_stage(target)
    if not transition_allowed(current, target):
        return [
            Blocker(
                "projects.stage.transition_not_allowed",
                f"{current} → {target} is not a step of the chain",
                {"from": current, "to": target},
            )
        ]
    if target == "stopped":
        return []
    blockers = [
        Blocker(
            "projects.approval.missing" if facts.approvals.get(kind) != "rejected"
            else "projects.approval.rejected",
            f"{kind} not granted",
            {"kind": kind, "status": facts.approvals.get(kind)},
        )
        for kind in APPROVAL_KINDS
        if facts.approvals.get(kind) != "approved"
    ]  # fmt: skip
    producing = target in PRODUCING_STAGES
    if facts.replacement is not None:
        blockers += _ledger_blockers("replacement", facts.replacement, need_done=producing)
    if facts.coal is not None:
        blockers += _ledger_blockers("coal", facts.coal, need_done=target == "operating")
    return blockers


__all__ = [
    "APPROVAL_KINDS",
    "APPROVAL_STATUSES",
    "BUILD_STAGES",
    "CHAIN",
    "DEPARTMENTS",
    "LEGACY_STAGES",
    "PRODUCING_STAGES",
    "STAGES",
    "Blocker",
    "Ledger",
    "LedgerEntry",
    "ProjectFacts",
    "ledger",
    "normal_stage",
    "stage_blockers",
    "stored_stage",
    "transition_allowed",
]
