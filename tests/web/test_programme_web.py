"""The programme page and API through the app: the regulator determines levels, the
enterprise declares with evidence, the province decides; plans move through the workflow with
the roles' rights; the view's JSON and the page agree."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pages_support import PASSWORD, csrf_token, sign_in
from sqlalchemy import Engine

from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import ProductionUnit


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _ids(html: str, section: str) -> list[int]:
    part = html.split(f'id="programme-{section}"', 1)[1].split("</section>", 1)[0]
    return [int(x) for x in re.findall(r'<td class="k-num" data-label="[^"]*">(\d+)</td>', part)]


def test_determine_declare_decide_through_the_page(
    client: TestClient, province: dict[str, int]
) -> None:
    sign_in(client, "sd")
    page = client.get("/programme?period=2025-03")
    assert page.status_code == 200 and "能效提升" in page.text
    token = csrf_token(page.text)
    r = client.post("/programme/determine", data={"csrf_token": token, "period": "2025-03"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    api = client.get("/api/v1/programme/determinations?period=2025-03").json()
    mine = [d for d in api if d["enterprise_uscc"] == "91370100MA3C4XYZ1Q"]
    assert mine and all(d["computed_table"] or d["computed_notes"] for d in mine)
    target = mine[0]["id"]
    client.post("/signout", data={"csrf_token": csrf_token(client.get("/programme").text)})
    sign_in(client, "ent")
    page = client.get("/programme?period=2025-03")
    assert "determine-form" not in page.text  # enterprises do not determine
    r = client.post("/programme/determinations", data={
        "csrf_token": csrf_token(page.text), "period": "2025-03", "determination_id": target,
        "level_class": "benchmark", "evidence": "第三方能效测试报告"},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    got = client.get("/api/v1/programme/determinations?period=2025-03").json()
    assert {d["id"] for d in got} == {d["id"] for d in mine}  # the enterprise sees its own only
    row = next(d for d in got if d["id"] == target)
    assert row["declared_class"] == "benchmark" and row["declared_by"] == "ent"
    refused = client.post(f"/api/v1/programme/determinations/{target}/decide",
                          json={"class": "benchmark", "evidence": "self"},
                          headers=_bearer(client, "ent"))  # fmt: skip
    assert refused.status_code == 403


def test_plan_workflow_and_view_through_the_api(
    client: TestClient, province: dict[str, int]
) -> None:
    ent = _bearer(client, "ent")
    units = client.get("/api/v1/accounting/units?period=2025-03", headers=ent).json()
    unit_id = units[0]["unit_id"]
    body = {"unit_id": unit_id, "title": "余热发电改造", "responsible": "李四",
            "measures": [{"name": "余热锅炉", "investment_cny": 3e7,
                          "expected_saving_tce_per_year": 9000}],
            "start_on": "2024-01-01",
            "milestones": [{"title": "并网", "due_on": "2024-09-30"}]}  # fmt: skip
    created = client.post("/api/v1/programme/plans", json=body, headers=ent)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["deadline_on"] == "2024-12-31" and plan["status"] == "draft"
    act = f"/api/v1/programme/plans/{plan['id']}/actions"
    assert client.post(act, json={"action": "approve"}, headers=ent).status_code == 403
    assert client.post(act, json={"action": "submit"}, headers=ent).json()["status"] == "submitted"
    city = _bearer(client, "jinan")
    reviewed = client.post(act, json={"action": "city_review"}, headers=city)
    assert reviewed.json()["status"] == "city_reviewed"
    sign_in(client, "sd")
    page = client.get("/programme?period=2025-03")
    r = client.post("/programme/plans/action", data={
        "csrf_token": csrf_token(page.text), "period": "2025-03", "plan_id": plan["id"],
        "action": "approve"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    view = client.get("/api/v1/programme/view?period=2025-03&today=2025-01-15").json()
    assert {s["stage"] for s in view["stages"]} >= {"below_baseline", "in_retrofit"}
    in_retrofit = next(s for s in view["stages"] if s["stage"] == "in_retrofit")
    assert in_retrofit["units"] == 1
    codes = {a["code"] for a in view["alerts"]}
    assert codes == {"programme.plan.milestone_overdue", "programme.plan.deadline_passed"}
    assert view["units_total"] == view["units_classified"] + len(view["unclassified"])
    assert view["intensity_change_fraction"] is not None or view["intensity_notes"]
    page = client.get("/programme?period=2025-03")
    assert plan["id"] in _ids(page.text, "plans")
    client.get("/lang", params={"to": "en"})
    en = client.get("/programme?period=2025-03")
    assert en.status_code == 200 and "Efficiency programme" in en.text


def test_a_refinery_energy_factor_through_the_page_and_the_api(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        unit = ProductionUnit(enterprise_id=province["other"], code="CDU1", name="常减压",
                              process="refinery", capacity=1e7, capacity_unit="t/a")  # fmt: skip
        session.add(unit)
        session.flush()
        unit_id = unit.id
    sign_in(client, "sd")
    page = client.get("/programme?period=2025-03")
    assert 'id="energy-factor-form"' in page.text and "CDU1" in page.text
    assert "level.unclassified.no_production" in page.text  # no meters yet: the code says so
    r = client.post("/programme/energy-factors", data={
        "csrf_token": csrf_token(page.text), "period": "2025-03", "unit_id": unit_id,
        "energy_factor": "7.2", "valid_from": "2025-01-01", "evidence": "能量因数计算表"},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    rows = client.get("/api/v1/programme/energy-factors").json()
    assert [(x["unit_code"], x["energy_factor"], x["recorded_by"]) for x in rows] == [
        ("CDU1", 7.2, "sd")
    ]
    view = client.get("/api/v1/programme/view?period=2025-03").json()
    assert 0 <= view["share_classified"] <= 1
    assert sum(view["unclassified_by_code"].values()) == len(view["unclassified"])
    assert all(u["code"].startswith("level.unclassified.") for u in view["unclassified"])
    refused = client.post("/api/v1/programme/energy-factors", json={
        "unit_id": unit_id, "energy_factor": 7.0, "valid_from": "2025-01-01", "evidence": ""},
        headers=_bearer(client, "sd"))  # fmt: skip
    assert refused.status_code == 422
    assert (
        client.get("/api/v1/programme/energy-factors", headers=_bearer(client, "ent")).json() == []
    )
