"""On the simulated province: the register's stage rules against the simulator's truth, stage
advances stored with their reasons, the weekly joint report generated, signed by four
departments and submitted, a late city and a cap breach surfaced."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from projects_truth import truth
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.projects import DEPARTMENTS
from kilnwatch.errors import ImportRejected, InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.project_control import import_project_control
from kilnwatch.projects import register, weekly
from kilnwatch.store.models import Enterprise, ProductionCap, Project, ProjectStageEvent
from zone import SHANGHAI

ADMIN = Principal("admin", Role.ADMIN)
PROVINCE = Principal("prov", Role.PROVINCE, region_code="370000")
WEEK = "2025-W10"


def _project(session: Session, uscc: str, code: str) -> Project:
    return session.scalars(
        select(Project).join(Enterprise).where(Enterprise.uscc == uscc, Project.code == code)
    ).one()


def test_register_blockers_match_the_simulators_truth(province: Session, sim_folder: Path) -> None:
    rows = truth(sim_folder, "project_truth")
    assert {r["stage"] for r in rows} >= {"planned", "approved", "under_construction",
                                          "trial_operation", "operating", "stopped"}  # fmt: skip
    for row in rows:
        p = _project(province, row["enterprise_uscc"], row["project_code"])
        status = register.project_status(province, ADMIN, p.id)
        assert status.next_stage == (row["next_stage"] or None)
        expected = set(filter(None, row["next_blockers"].split(";")))
        assert {b.code for b in status.blockers} == expected, row


def test_stage_advance_is_granted_or_refused_and_recorded(
    province: Session, sim_folder: Path
) -> None:
    rows = {r["stage"]: r for r in truth(sim_folder, "project_truth")}
    approved = _project(
        province, rows["approved"]["enterprise_uscc"], rows["approved"]["project_code"]
    )
    planned = _project(
        province, rows["planned"]["enterprise_uscc"], rows["planned"]["project_code"]
    )
    status, blockers = register.advance_stage(province, ADMIN, approved.id, "under_construction")
    assert blockers == [] and status.project.stage == "under_construction"
    _, blockers = register.advance_stage(province, ADMIN, planned.id, "approved")
    assert "projects.approval.missing" in {b.code for b in blockers}
    assert planned.stage == "planned"
    events = province.scalars(select(ProjectStageEvent).order_by(ProjectStageEvent.id)).all()
    assert [e.granted for e in events] == [True, False]
    assert events[1].blockers[0]["code"].startswith("projects.")
    with pytest.raises(PermissionDeniedError):
        auditor = Principal("a", Role.AUDITOR, region_code="370000")
        register.advance_stage(province, auditor, planned.id, "approved")


def _city_of(session: Session, uscc: str) -> str:
    return session.scalars(select(Enterprise.region_code).where(Enterprise.uscc == uscc)).one()[:4]


def test_weekly_report_signed_submitted_late_city_and_breach(
    province: Session, sim_folder: Path
) -> None:
    caps = [r for r in truth(sim_folder, "cap_truth") if r["period"] == WEEK]
    cities = sorted({_city_of(province, r["enterprise_uscc"]) for r in caps})
    assert len(cities) >= 2, "the test needs two cities with controlled plants"
    breacher = next(r["enterprise_uscc"] for r in caps if r["breach"] == "true")
    reporting = cities[0]
    city_user = Principal("city", Role.CITY, region_code=reporting + "00")
    report = weekly.generate(province, city_user, reporting, WEEK, zone=SHANGHAI)
    assert report.rows and all(r["meters"] > 0 for r in report.rows)
    assert all(0.0 < (r["online_fraction"] or 0) <= 1.0 for r in report.rows)
    with pytest.raises(InputError, match="not yet signed"):
        weekly.submit(province, city_user, report.id)
    for dept in DEPARTMENTS:
        weekly.sign(province, city_user, report.id, dept, "同意")
    with pytest.raises(InputError, match="signed this report already"):
        weekly.sign(province, city_user, report.id, DEPARTMENTS[0])
    other = Principal("other", Role.CITY, region_code=cities[1] + "00")
    with pytest.raises(NotFoundError):  # outside its jurisdiction
        weekly.sign(province, other, report.id, DEPARTMENTS[0])
    on_time = datetime(2025, 3, 11, 2, tzinfo=UTC)  # Tuesday 10:00 local, before the due time
    weekly.submit(province, city_user, report.id, now=on_time)
    view = weekly.province_week(province, PROVINCE, WEEK, zone=SHANGHAI, due_h=36.0,
                                tolerance_fraction=0.02, now=on_time)  # fmt: skip
    by_city = {c.city_code[:4]: c for c in view}
    assert by_city[reporting].status == "submitted" and not by_city[reporting].late
    assert sorted(by_city[reporting].signed) == sorted(DEPARTMENTS)
    later = datetime(2025, 3, 12, tzinfo=UTC)
    view = weekly.province_week(province, PROVINCE, WEEK, zone=SHANGHAI, due_h=36.0,
                                tolerance_fraction=0.02, now=later)  # fmt: skip
    late = [c.city_code[:4] for c in view if c.late]
    assert late == [c for c in cities if c != reporting]
    breaches = {b["uscc"] for c in view for b in c.breaches}
    assert breaches == {breacher}
    assert view[0].late  # late cities first
    _corrected_figure_voids_signatures(province, cities[1])


def _corrected_figure_voids_signatures(province: Session, city: str) -> None:
    user = Principal("c", Role.CITY, region_code=city + "00")
    report = weekly.generate(province, user, city, WEEK, zone=SHANGHAI)
    weekly.sign(province, user, report.id, "statistics")
    row = report.rows[0]
    weekly.correct(province, user, report.id, row["uscc"], "output_t", row["output_t"] * 0.9)
    assert report.signatures == []
    assert weekly.differences(report.rows[0], 0.02) == ["output_t"]
    with pytest.raises(InputError):
        weekly.correct(province, user, report.id, row["uscc"], "meters", 3)


def test_a_bad_control_file_is_refused_whole_with_file_row_field(
    province: Session, tmp_path: Path
) -> None:
    uscc = province.scalars(select(Enterprise.uscc)).first()
    bad = tmp_path / "production_caps.csv"
    bad.write_text(
        "enterprise_uscc,period,product,output_t,energy_tce,coal_t,document_no\n"
        f"{uscc},2025-W10,coke,100,,,\n"
        f"{uscc},2025-W99,coke,-5,,,\n"
        "91370000XXXXXXXXXX,2025-W10,coke,,,,\n",
        encoding="utf-8",
    )
    before = province.scalar(select(func.count()).select_from(ProductionCap))
    with pytest.raises(ImportRejected) as caught:
        import_project_control(province, bad, zone=SHANGHAI)
    where = {(e.location.row, e.location.field) for e in caught.value.errors}
    assert (2, "period") in where and (2, "output_t") in where
    assert any(row == 3 and f == "enterprise_uscc" for row, f in where)
    assert all(e.location.file == "production_caps.csv" for e in caught.value.errors)
    province.rollback()
    assert province.scalar(select(func.count()).select_from(ProductionCap)) == before
