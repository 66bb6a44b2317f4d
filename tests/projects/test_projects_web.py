"""The weekly joint report through the API and the pages, the register's pages and the XLSX,
on the simulated province: one city reports by API, another on the pages (refused until all
four departments signed); the province sees both, late (submitted long after 2025's due
time), and the cap breach."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from fastapi.testclient import TestClient
from projects_truth import truth
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.projects import DEPARTMENTS
from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, Project, UserDepartment
from kilnwatch.store.repos.users import add_user

PASSWORD = "long-password-1"
WEEK = "2025-W10"


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _sign_in(client: TestClient, user: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/signin").text)
    r = client.post("/signin", data={"username": user, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


def test_weekly_report_through_api_and_pages(
    client: TestClient, province: Session, sim_folder: Path
) -> None:
    caps = [r for r in truth(sim_folder, "cap_truth") if r["period"] == WEEK]
    region = dict(province.execute(select(Enterprise.uscc, Enterprise.region_code)).all())
    city_a, city_b = sorted({region[r["enterprise_uscc"]][:4] for r in caps})[:2]
    breacher = next(r["enterprise_uscc"] for r in caps if r["breach"] == "true")
    add_user(province, "city_a", PASSWORD, Role.CITY, region_code=city_a + "00")
    add_user(province, "city_b", PASSWORD, Role.CITY, region_code=city_b + "00")
    add_user(province, "prov", PASSWORD, Role.PROVINCE, region_code="370000")
    stats = add_user(province, "a_stats", PASSWORD, Role.CITY, region_code=city_a + "00")
    province.add(UserDepartment(user_id=stats.id, department="statistics"))
    province.commit()

    # city A through the API (a user of the statistics bureau signs only for it)
    a = _bearer(client, "city_a")
    r = client.post("/api/v1/projects/weekly", json={"week": WEEK, "city": city_a}, headers=a)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "draft" and report["rows"]
    r = client.post(f"/api/v1/projects/weekly/{report['id']}/submit", headers=a)
    assert r.status_code == 422 and "not yet signed" in r.text
    signatures = f"/api/v1/projects/weekly/{report['id']}/signatures"
    r = client.post(signatures, json={"department": "industry_it"},
                    headers=_bearer(client, "a_stats"))  # fmt: skip
    assert r.status_code == 403
    for dept in DEPARTMENTS:
        r = client.post(f"/api/v1/projects/weekly/{report['id']}/signatures",
                        json={"department": dept, "opinion": "同意"}, headers=a)  # fmt: skip
        assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/projects/weekly/{report['id']}/submit", headers=a)
    assert r.status_code == 200 and r.json()["status"] == "submitted"

    # the XLSX carries the same figures and the four signers
    r = client.get("/api/v1/reports/weekly", params={"period": WEEK, "city": city_a,
                                                     "format": "xlsx"}, headers=a)  # fmt: skip
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for ws in book for row in ws.iter_rows(values_only=True) for c in row if c]
    assert cells.count("city_a") == len(DEPARTMENTS)
    first = report["rows"][0]
    assert first["uscc"] in cells and round(first["output_t"], 3) in [
        round(c, 3) for c in cells if isinstance(c, float)
    ]

    # city B on the pages: generate, three signatures, submit refused, the fourth, submitted
    _sign_in(client, "city_b")
    page = client.get("/weekly", params={"week": WEEK})
    assert page.status_code == 200 and 'id="weekly-generate"' in page.text
    r = client.post("/weekly/generate", data={"week": WEEK, "city": city_b,
                                              "csrf_token": _csrf(page.text)})  # fmt: skip
    assert r.status_code == 200 and 'id="weekly-sign"' in r.text
    report_id = int(re.search(r'action="/weekly/(\d+)/sign"', r.text).group(1))  # type: ignore[union-attr]
    for dept in DEPARTMENTS[:3]:
        form = {"week": WEEK, "city": city_b, "department": dept, "csrf_token": _csrf(r.text)}
        r = client.post(f"/weekly/{report_id}/sign", data=form)
        assert r.status_code == 200, r.text
    r = client.post(f"/weekly/{report_id}/submit",
                    data={"week": WEEK, "city": city_b, "csrf_token": _csrf(r.text)})  # fmt: skip
    assert r.status_code == 422 and 'id="weekly-error"' in r.text and "statistics" in r.text
    form = {"week": WEEK, "city": city_b, "department": DEPARTMENTS[3], "csrf_token": _csrf(r.text)}
    r = client.post(f"/weekly/{report_id}/sign", data=form)
    r = client.post(f"/weekly/{report_id}/submit",
                    data={"week": WEEK, "city": city_b, "csrf_token": _csrf(r.text)})  # fmt: skip
    assert r.status_code == 200 and 'id="weekly-status"' in r.text
    assert "已报送" in r.text and 'id="weekly-sign"' not in r.text

    # the province: both submitted, after the due time of 2025 (so late), the breach listed
    p = _bearer(client, "prov")
    view = client.get("/api/v1/projects/weekly/province", params={"week": WEEK}, headers=p).json()
    by_city = {c["city_code"][:4]: c for c in view}
    assert by_city[city_b]["status"] == "submitted" and by_city[city_b]["late"]
    assert by_city[city_a]["status"] == "submitted" and by_city[city_a]["late"]
    assert {b["uscc"] for c in view for b in c["breaches"]} == {breacher}
    _sign_in(client, "prov")
    page = client.get("/weekly", params={"week": WEEK})
    assert page.status_code == 200 and 'id="province"' in page.text
    assert page.text.count("b-yes") >= 1  # a late badge


def test_register_pages_refuse_a_stage_and_show_why(
    client: TestClient, province: Session, sim_folder: Path
) -> None:
    add_user(province, "prov", PASSWORD, Role.PROVINCE, region_code="370000")
    province.commit()
    planned = next(r for r in truth(sim_folder, "project_truth") if r["stage"] == "planned")
    pid = province.scalars(select(Project.id).join(Enterprise).where(
        Enterprise.uscc == planned["enterprise_uscc"], Project.code == planned["project_code"]
    )).one()  # fmt: skip
    _sign_in(client, "prov")
    page = client.get("/projects")
    assert page.status_code == 200 and planned["project_code"] in page.text
    page = client.get(f"/projects/{pid}")
    assert page.status_code == 200 and 'id="stage-form"' in page.text
    r = client.post(f"/projects/{pid}/stage",
                    data={"stage": "approved", "csrf_token": _csrf(page.text)})  # fmt: skip
    assert r.status_code == 422 and 'id="stage-refused"' in r.text
    for code in planned["next_blockers"].split(";"):
        assert code in r.text
    r = client.get(f"/api/v1/projects/register/{pid}", headers=_bearer(client, "prov"))
    assert r.json()["stage"] == "planned" and r.json()["blockers"]
