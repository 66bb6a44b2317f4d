"""Equipment attributes and exit grounds through the app, in one pass over one province (the
programme view is the costly part, so it is computed twice only): units carry equipment
attributes (API and unit page, checked for the process), a stepping sinter machine in a
key-region city is listed as obsolete and one in Qingdao is not, and a regulator records an
exit ground that puts a unit on the elimination list while an enterprise may not."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pages_support import PASSWORD, csrf_token, sign_in


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _sinter(client: TestClient, auth: dict[str, str], enterprise_id: int, code: str) -> int:
    body = {"enterprise_id": enterprise_id, "code": code, "name": "烧结机", "capacity": 2e6,
            "process": "sinter_machine", "capacity_unit": "t/a",
            "equipment": {"sinter_machine_type": "stepping"}}  # fmt: skip
    r = client.post("/api/v1/units", json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["equipment"] == {"sinter_machine_type": "stepping"}
    return int(r.json()["id"])


def test_equipment_obsolete_matches_and_exit_grounds_through_the_app(
    client: TestClient, province: dict[str, int]
) -> None:
    sd, ent = _bearer(client, "sd"), _bearer(client, "ent")
    jinan = _sinter(client, sd, province["ent"], "SJ1")
    qingdao = _sinter(client, sd, province["other"], "SJ9")
    bad = client.patch(f"/api/v1/units/{jinan}", json={"equipment": {"bf_volume_m3": 380}},
                       headers=sd)  # fmt: skip
    assert bad.status_code == 422 and "body.equipment.bf_volume_m3" in bad.text
    found = client.get("/api/v1/programme/obsolete", headers=sd).json()
    assert [(u["unit_code"], [m["rule_id"] for m in u["matches"]]) for u in found] == [
        ("SJ1", ["aq2023.sinter_stepping"])
    ]  # Qingdao is not a key-region city of 国发〔2023〕24号
    assert found[0]["matches"][0]["confidence"] == "medium"

    sign_in(client, "sd")
    listed_page = client.get(f"/units/{jinan}").text.split('id="unit-exit-grounds"', 1)[1]
    assert "国发〔2023〕24号" in listed_page and "sinter_machine_type = stepping" in listed_page
    page = client.get(f"/units/{qingdao}")
    assert "sinter_machine_type=stepping" in page.text and 'id="equipment-form"' in page.text
    token = csrf_token(page.text)
    refused = client.post(
        f"/units/{qingdao}/equipment",
        data={"csrf_token": token, "equipment": "sinter_machine_type=oval"},
    )
    assert refused.status_code == 422 and "equipment.sinter_machine_type" in refused.text
    saved = client.post(f"/units/{qingdao}/equipment",
                        data={"csrf_token": token, "equipment": "sinter_machine_type=belt"},
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    assert client.get(f"/api/v1/units/{qingdao}").json()["equipment"] == {
        "sinter_machine_type": "belt"
    }

    cement = client.get("/api/v1/units?enterprise_id=" + str(province["ent"]), headers=ent)
    unit_id = next(u["id"] for u in cement.json()["items"] if u["code"] != "SJ1")
    body = {"unit_id": unit_id, "kind": "environment", "finding": "breach",
            "standard": "GB 4915-2013", "evidence": "监测报告 2025-017 颗粒物超标",
            "determined_by": "济南市生态环境局", "determined_on": "2025-03-20"}  # fmt: skip
    assert client.post("/api/v1/programme/exit-grounds", json=body, headers=ent).status_code == 403
    energy = client.post("/api/v1/programme/exit-grounds", json={**body, "kind": "energy"},
                         headers=sd)  # fmt: skip
    assert energy.status_code == 422
    r = client.post("/programme/exit-grounds", data={
        **{k: str(v) for k, v in body.items()}, "csrf_token": token, "period": "2025-03",
        "deadline_on": "2025-09-30"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    [row] = client.get("/api/v1/programme/exit-grounds").json()
    assert (row["kind"], row["recorded_by"], row["deadline_on"]) == ("environment", "sd",
                                                                      "2025-09-30")  # fmt: skip

    view = client.get("/api/v1/programme/view?period=2025-03").json()
    listed = {(e["unit_code"], e["code"]): e for e in view["eliminations"]}
    assert ("SJ1", "programme.eliminate.obsolete_equipment") in listed
    assert not [code for unit, code in listed if unit == "SJ9"]
    [item] = [e for e in listed.values() if e["code"] == "programme.eliminate.exit_environment"]
    assert "济南市生态环境局" in item["reason"] and item["deadline_on"] == "2025-09-30"
    assert "environment" in {g["kind"] for g in view["exit_grounds"] if g["unit_id"] == unit_id}
    shown = client.get("/programme?period=2025-03").text
    assert 'id="exit-ground-form"' in shown
    assert "aq2023.sinter_stepping" in shown.split('id="programme-obsolete"', 1)[1]
    assert "GB 4915-2013" in shown.split('id="programme-exit-grounds"', 1)[1]
