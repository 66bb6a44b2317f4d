"""Escalation goes up one level at the deadline and one more every ``escalation_step_days``
(planning.csv, 7 d policy default): county → city → province (issue 15)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import SupervisionEvent, SupervisionNotice
from kilnwatch.store.repos.users import add_user
from kilnwatch.supervise.accountability import chain, escalate_overdue, wanted_level
from kilnwatch.supervise.rectification import open_rectification
from supervise._factory import PASSWORD, build

DUE = date(2025, 4, 30)


def test_levels_follow_the_lateness() -> None:
    assert chain("370102") == ["370100", "370000"] and chain("370100") == ["370000"]
    assert chain("370000") == []
    # 1-7 days late: level 1; 8-14: level 2; never above the divisions there are
    assert [wanted_level(d, 2, 7) for d in (1, 7, 8, 14, 15, 60)] == [1, 1, 2, 2, 2, 2]
    assert wanted_level(30, 1, 7) == 1 and wanted_level(3, 0, 7) == 0


def test_a_county_item_goes_to_the_city_then_the_province(session: Session) -> None:
    world = build(session)
    add_user(session, "lixia", PASSWORD, Role.COUNTY, region_code="370102")
    item = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                              source_ref="late-county", title="逾期", due_date=DUE,
                              assignee="lixia", actor="lixia")  # fmt: skip

    def told(event: str) -> set[str]:
        rows = session.scalars(select(SupervisionNotice).where(
            SupervisionNotice.item_id == item.id, SupervisionNotice.event == event))  # fmt: skip
        return {n.username for n in rows}

    assert escalate_overdue(session, DUE + timedelta(days=1)) == (1, 0)
    assert item.escalation_level == 1
    assert told("escalated") == {"jinan", "jinan_stats"} and told("overdue") == {"lixia"}
    assert escalate_overdue(session, DUE + timedelta(days=7)) == (0, 0)  # still level 1
    assert escalate_overdue(session, DUE + timedelta(days=8)) == (1, 0)
    assert item.escalation_level == 2 and "shandong" in told("escalated")
    assert escalate_overdue(session, DUE + timedelta(days=40)) == (0, 0)  # no level above
    levels = [e.detail["escalation_level"] for e in session.scalars(
        select(SupervisionEvent).where(SupervisionEvent.item_id == item.id,
                                       SupervisionEvent.action == "overdue"))]  # fmt: skip
    assert levels == [1, 2]


def test_an_item_found_late_jumps_to_its_level_recording_each(session: Session) -> None:
    world = build(session)
    add_user(session, "lixia", PASSWORD, Role.COUNTY, region_code="370102")
    item = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                              source_ref="very-late", title="逾期", due_date=DUE,
                              assignee="lixia", actor="lixia")  # fmt: skip
    assert escalate_overdue(session, DUE + timedelta(days=20)) == (1, 0)
    assert item.escalation_level == 2
    events = session.scalars(select(SupervisionEvent).where(
        SupervisionEvent.item_id == item.id, SupervisionEvent.action == "overdue"))  # fmt: skip
    assert [e.detail["escalation_level"] for e in events] == [1, 2]


def test_a_monthly_on_site_visit_counts_as_inspected_in_the_window(session: Session) -> None:
    """The round leaves out an enterprise its project's monthly on-site supervision visited
    in the window (no duplicate inspections), with the reason; a visit outside it does not."""
    from kilnwatch.store.models import Enterprise, Project, SiteVisit
    from kilnwatch.supervise.rounds import candidates

    world = build(session)
    project = Project(enterprise_id=world.jinan_id, code="P-1", name="熟料线技改",
                      stage="construction", approval_state="approved")  # fmt: skip
    session.add(project)
    session.flush()
    session.add(SiteVisit(project_id=project.id, month="2025-03", visited_on=date(2025, 3, 12),
                          inspectors="张三", checklist={}, findings="", photos=[],
                          recorded_by="jinan"))  # fmt: skip
    session.flush()
    admin = Principal("admin", Role.ADMIN)
    jinan = session.get(Enterprise, world.jinan_id)
    assert jinan is not None
    found, left = candidates(session, admin, date(2025, 1, 1), date(2025, 6, 30), "2025H1")
    assert world.jinan_id not in {c.enterprise_id for c in found}
    assert {"enterprise_uscc": jinan.uscc,
            "reason": "inspected by a monthly on-site supervision of its project in the window"
            } in left  # fmt: skip
    found, _ = candidates(session, admin, date(2025, 7, 1), date(2025, 12, 31), "2025H2")
    assert world.jinan_id in {c.enterprise_id for c in found}
