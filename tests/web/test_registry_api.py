from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.identity import Role
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.repos.users import add_user

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
PASSWORD = "correct-horse-9"


@pytest.fixture
def populated(engine: Engine) -> Engine:
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, REGISTRY)
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
        add_user(session, "qingdao_hd", PASSWORD, Role.COUNTY, region_code="370211")
        add_user(session, "ent", PASSWORD, Role.ENTERPRISE, enterprise_uscc="91370300164104521M")
    return engine


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _names(client: TestClient, headers: dict[str, str]) -> list[str]:
    r = client.get("/api/v1/enterprises", headers=headers)
    assert r.status_code == 200
    return [e["uscc"] for e in r.json()["items"]]


def test_city_user_sees_only_its_city(client: TestClient, populated: Engine) -> None:
    assert _names(client, _login(client, "jinan")) == ["91370100MA3C4XY21E"]
    assert _names(client, _login(client, "qingdao_hd")) == ["91370200163562681G"]
    assert _names(client, _login(client, "ent")) == ["91370300164104521M"]
    assert len(_names(client, _login(client, "admin"))) == 3


def test_out_of_scope_objects_are_not_found(client: TestClient, populated: Engine) -> None:
    admin = _login(client, "admin")
    meters = client.get("/api/v1/meters", headers=admin).json()["items"]
    jinan_meter = next(m for m in meters if m["code"] == "M-JN-E0")
    r = client.get(f"/api/v1/meters/{jinan_meter['id']}", headers=_login(client, "qingdao_hd"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "registry.not_found"
    units = client.get("/api/v1/units", headers=_login(client, "jinan")).json()
    assert [u["code"] for u in units["items"]] == ["CL1"]


def test_listing_filters_and_pagination(client: TestClient, populated: Engine) -> None:
    admin = _login(client, "admin")
    r = client.get("/api/v1/enterprises?industry=coking", headers=admin).json()
    assert r["total"] == 1 and r["items"][0]["industry"] == "coking"
    r = client.get("/api/v1/enterprises?limit=2&offset=2", headers=admin).json()
    assert (r["total"], len(r["items"]), r["offset"]) == (3, 1, 2)
    r = client.get("/api/v1/regions?parent_code=370100&limit=500", headers=admin).json()
    assert all(reg["parent_code"] == "370100" for reg in r["items"]) and r["total"] >= 9


def test_create_validates_like_the_importer(client: TestClient, populated: Engine) -> None:
    jinan = _login(client, "jinan")
    bad = {"uscc": "91370100MA3C4XY21F", "name": "x", "region_code": "370112", "industry": "cement"}
    r = client.post("/api/v1/enterprises", json=bad, headers=jinan)
    assert r.status_code == 422
    body = r.json()["error"]
    assert body["code"] == "request.invalid"
    assert body["details"][0]["field"] == "body.uscc"
    assert "check character" in body["details"][0]["reason"]

    outside = {**bad, "uscc": "913701007062084595", "region_code": "370211"}
    r = client.post("/api/v1/enterprises", json=outside, headers=jinan)
    assert r.status_code == 403

    good = {**bad, "uscc": "913701007062084595"}
    r = client.post("/api/v1/enterprises", json=good, headers=jinan)
    assert r.status_code == 201, r.text
    created = r.json()
    r = client.patch(f"/api/v1/enterprises/{created['id']}", json={"status": "shut"}, headers=jinan)
    assert r.json()["status"] == "shut"
    # a change of industry is checked against the same reference table as a creation
    url = f"/api/v1/enterprises/{created['id']}"
    r = client.patch(url, json={"industry": "no_such_industry"}, headers=jinan)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "body.industry"
    assert client.get(url, headers=jinan).json()["industry"] == "cement"
    r = client.patch(url, json={"industry": "coking"}, headers=jinan)
    assert r.status_code == 200 and r.json()["industry"] == "coking"


def test_auth_errors_have_the_error_body(client: TestClient, populated: Engine) -> None:
    r = client.get("/api/v1/enterprises")
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.failed"
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert r.status_code == 401
    ent = _login(client, "ent")
    r = client.post(
        "/api/v1/units",
        json={"enterprise_id": 1, "code": "X", "name": "x", "process": "blast_furnace",
              "capacity": 1, "capacity_unit": "t/a"},
        headers=ent,
    )  # fmt: skip
    assert r.status_code == 403


def test_docs_and_overview_page(client: TestClient, populated: Engine) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/enterprises" in spec["paths"]
    page = client.get("/")
    # signed out: aggregates of groups of >= 3 enterprises only; each city here has one
    assert page.status_code == 200 and "公开数据" in page.text
    assert "济南市" not in page.text.split('id="children"')[1].split("</table>")[0]
    client.get("/lang", params={"to": "en"})
    assert "public" in client.get("/").text
