"""Stage-advance rules and ledger balances, case by case (kilnwatch.domain.projects)."""

from __future__ import annotations

import pytest

from kilnwatch.domain.projects import (
    APPROVAL_KINDS,
    Ledger,
    LedgerEntry,
    ProjectFacts,
    ledger,
    normal_stage,
    stage_blockers,
    transition_allowed,
)

GRANTED = dict.fromkeys(APPROVAL_KINDS, "approved")


def _codes(facts: ProjectFacts, target: str) -> set[str]:
    return {b.code for b in stage_blockers(facts, target)}


def _repl(committed: float, retired: float, ratio: float | None = 1.5) -> Ledger:
    entries = [LedgerEntry(retired, "t/a", True), LedgerEntry(committed - retired, "t/a", False)]
    return ledger(1000.0, "t/a", ratio, entries)


def test_ledger_required_balance_and_fulfilment() -> None:
    led = _repl(committed=1500.0, retired=600.0)
    assert led.required == pytest.approx(1500.0)
    assert led.balance == pytest.approx(0.0)
    assert led.balanced and not led.fulfilled
    short = _repl(committed=1400.0, retired=0.0)
    assert short.balance == pytest.approx(-100.0) and not short.balanced
    done = _repl(committed=1600.0, retired=1600.0)
    assert done.fulfilled


def test_ledger_refuses_an_entry_in_another_unit() -> None:
    with pytest.raises(ValueError, match="t/d"):
        ledger(100.0, "t/a", 1.25, [LedgerEntry(10.0, "t/d", False)])


def test_unknown_ratio_and_prohibition_never_balance() -> None:
    assert not _repl(2000.0, 2000.0, ratio=None).balanced
    prohibited = ledger(1.0, "t/a", None, [], prohibited=True)
    assert not prohibited.balanced
    facts = ProjectFacts("planned", GRANTED, prohibited, None)
    assert _codes(facts, "approved") == {"projects.replacement.prohibited"}


def test_transitions() -> None:
    assert transition_allowed("planned", "approved")
    assert not transition_allowed("planned", "under_construction")
    assert not transition_allowed("operating", "trial_operation")
    assert transition_allowed("under_construction", "stopped")
    assert transition_allowed("stopped", "operating")
    assert not transition_allowed("stopped", "approved")
    assert normal_stage("existing") == "operating" and normal_stage("new") == "planned"
    with pytest.raises(ValueError):
        normal_stage("built")


@pytest.mark.parametrize(
    ("approvals", "expected"),
    [
        ({}, {"projects.approval.missing"}),
        ({**GRANTED, "environmental_assessment": "rejected"}, {"projects.approval.rejected"}),
        ({**GRANTED, "filing": "pending"}, {"projects.approval.missing"}),
        (GRANTED, set()),
    ],
)
def test_approval_needs_all_three_approvals(approvals: dict[str, str], expected: set[str]) -> None:
    facts = ProjectFacts("planned", approvals, _repl(1500.0, 0.0), None)
    assert _codes(facts, "approved") == expected


def test_each_stage_requires_what_the_chain_says() -> None:
    coal_committed = ledger(5e5, "t/a", 1.0, [LedgerEntry(5e5, "t/a", False)])
    coal_done = ledger(5e5, "t/a", 1.0, [LedgerEntry(5e5, "t/a", True)])
    # approved: the plans balance, nothing retired yet
    assert _codes(ProjectFacts("approved", GRANTED, _repl(1500, 0), coal_committed),
                  "under_construction") == set()  # fmt: skip
    # trial operation: the replaced capacity must be retired
    assert _codes(ProjectFacts("under_construction", GRANTED, _repl(1500, 1000), coal_committed),
                  "trial_operation") == {"projects.replacement.not_done"}  # fmt: skip
    assert _codes(ProjectFacts("under_construction", GRANTED, _repl(1500, 1500), coal_committed),
                  "trial_operation") == set()  # fmt: skip
    # operating: the coal substitution must be achieved
    assert _codes(ProjectFacts("trial_operation", GRANTED, _repl(1500, 1500), coal_committed),
                  "operating") == {"projects.coal.not_done"}  # fmt: skip
    assert _codes(ProjectFacts("trial_operation", GRANTED, _repl(1500, 1500), coal_done),
                  "operating") == set()  # fmt: skip
    # a short coal plan blocks approval
    short_coal = ledger(5e5, "t/a", 1.0, [LedgerEntry(4e5, "t/a", False)])
    assert _codes(ProjectFacts("planned", GRANTED, None, short_coal), "approved") == {
        "projects.coal.short"
    }
    # skipping a stage is refused before anything else
    assert _codes(ProjectFacts("planned", {}, None, None), "operating") == {
        "projects.stage.transition_not_allowed"
    }
    # stopping is always possible
    assert _codes(ProjectFacts("under_construction", {}, _repl(10, 0), None), "stopped") == set()
