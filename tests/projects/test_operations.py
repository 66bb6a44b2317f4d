"""Daily dispatch, monthly on-site visits into rectification, caps and resident logs through
the API and the pages, on the simulated province."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from projects_truth import truth
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, Meter, Project, SupervisionItem, project_units
from kilnwatch.store.repos.users import add_user

PASSWORD = "long-password-1"
DAY = "2025-03-05"
UNMETERED = ("lpg", "diesel", "gasoline", "kerosene")


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _project_id(session: Session, uscc: str, code: str) -> int:
    return session.scalars(select(Project.id).join(Enterprise).where(
        Enterprise.uscc == uscc, Project.code == code)).one()  # fmt: skip


def test_dispatch_visits_caps_and_logs(
    client: TestClient, province: Session, sim_folder: Path
) -> None:
    add_user(province, "prov", PASSWORD, Role.PROVINCE, region_code="370000")
    province.commit()
    h = _bearer(client, "prov")

    # dispatch: metered figures, a producing project without units has no data, entries fill
    r = client.get("/api/v1/projects/dispatch", params={"day": DAY}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    metered = [p for p in body["projects"] if p["meters"] > 0]
    assert metered and all(p["energy_tce"] > 0 for p in metered if not p["missing"])
    assert all(p["late"] for p in metered if not p["missing"])  # imported long after the day
    operating_new = next(r for r in truth(sim_folder, "project_truth") if r["stage"] == "operating")
    pid_new = _project_id(province, operating_new["enterprise_uscc"], operating_new["project_code"])
    assert next(p for p in body["projects"] if p["project_id"] == pid_new)["no_data"]
    assert sum(c["projects"] for c in body["cities"]) == len(body["projects"])
    target = metered[0]["project_id"]
    carriers = set(province.scalars(select(Meter.carrier).join(
        project_units, project_units.c.unit_id == Meter.unit_id
    ).where(project_units.c.project_id == target)))  # fmt: skip
    carrier = next(c for c in UNMETERED if c not in carriers)
    entry = {"project_id": target, "day": DAY, "carrier": carrier, "quantity": 12.5, "unit": "t"}
    r = client.post("/api/v1/projects/dispatch/entries", headers=h, json=entry)
    assert r.status_code == 201, r.text
    metered_carrier = next(iter(carriers - {"water"}))
    r = client.post("/api/v1/projects/dispatch/entries", headers=h,
                    json=dict(entry, carrier=metered_carrier))  # fmt: skip
    assert r.status_code == 422 and "metered" in r.text
    r = client.get("/api/v1/projects/dispatch", params={"day": DAY}, headers=h)
    row = next(p for p in r.json()["projects"] if p["project_id"] == target)
    assert {"key": carrier, "quantity": 12.5, "unit": "t", "source": "entry"} in row["energy"]

    # a visit with a follow-up opens a rectification; a second one in the month is refused
    visit = {"visited_on": DAY, "inspectors": "张三、李四",
             "checklist": {"meters_installed_online": "not_ok", "records_consistent": "ok"},
             "findings": "部分计量器具离线",
             "follow_ups": [{"item": "meters_installed_online", "requirement": "恢复在线",
                             "due_on": "2025-04-05"}]}  # fmt: skip
    r = client.post(f"/api/v1/projects/register/{target}/visits", json=visit, headers=h)
    assert r.status_code == 201, r.text
    ref = r.json()["follow_ups"][0]["rectification_ref"]
    item = province.get(SupervisionItem, int(ref))
    assert item is not None and item.source_code == "projects.onsite"
    r = client.post(f"/api/v1/projects/register/{target}/visits", json=visit, headers=h)
    assert r.status_code == 422

    # caps: the labelled plant is over its cap of the week
    breacher = next(r["enterprise_uscc"] for r in truth(sim_folder, "cap_truth")
                    if r["breach"] == "true")  # fmt: skip
    r = client.get("/api/v1/projects/caps", params={"period": "2025-W10"}, headers=h)
    over = {c["enterprise_uscc"] for c in r.json() if c["breaches"]}
    assert over == {breacher}

    # a resident supervisor's weekly log, shown on the control page
    sup = client.get("/api/v1/projects/supervisors", headers=h).json()[0]
    r = client.post(f"/api/v1/projects/supervisors/{sup['id']}/logs", headers=h,
                    json={"week": "2025-W10", "days_on_site": 5, "notes": "正常"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/projects/supervisors/{sup['id']}/logs", headers=h,
                    json={"week": "2025-W10", "days_on_site": 9})  # fmt: skip
    assert r.status_code == 422

    # the pages
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert token
    client.post("/signin", data={"username": "prov", "password": PASSWORD,
                                 "csrf_token": token.group(1)})  # fmt: skip
    page = client.get("/dispatch", params={"day": DAY})
    assert page.status_code == 200 and 'id="cities"' in page.text and carrier in page.text
    page = client.get("/control", params={"week": "2025-W10"})
    assert page.status_code == 200 and 'id="caps"' in page.text and "正常" in page.text
    page = client.get(f"/projects/{target}")
    assert page.status_code == 200 and "张三、李四" in page.text and 'id="photo-form"' in page.text
