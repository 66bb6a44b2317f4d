"""Findings API: scoped listing with filters, one finding with evidence, status, scores."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise
from kilnwatch.store.repos.users import add_user
from kilnwatch.verify.run import verify_period

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
from _verify_factory import MARCH, PERIOD, Plant, store  # noqa: E402

PASSWORD = "correct-horse-9"


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _populate(engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["energy:raw_coal"] *= 0.85
        plant.stats["production:clinker"] *= 1.06
        store(session, plant)
        session.add(
            Enterprise(
                uscc="91370200163562681G", name="青岛", region_code="370211", industry="cement"
            )
        )
        verify_period(session, MARCH)
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "qingdao", PASSWORD, Role.CITY, region_code="370200")


def test_findings_are_listed_filtered_and_scoped(client: TestClient, engine: Engine) -> None:
    _populate(engine)
    admin = _login(client, "admin")
    response = client.get("/api/v1/findings", headers=admin, params={"period": PERIOD})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    for period, total in (("2025-Q1", 2), ("2025", 2), ("2025-02", 0), ("2025-03-10..2025-04", 2)):
        found = client.get("/api/v1/findings", headers=admin, params={"period": period}).json()
        assert found["total"] == total, period  # verification is monthly: the months in it
    bad = client.get("/api/v1/findings", headers=admin, params={"period": "2025-3"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "period"
    high = client.get("/api/v1/findings", headers=admin, params={"severity": "high"}).json()
    assert [f["rule_code"] for f in high["items"]] == [
        "verify.metered_vs_reported.energy_underreported"
    ]
    by_rule = client.get(
        "/api/v1/findings",
        headers=admin,
        params={"rule_code": "verify.metered_vs_reported.production"},
    ).json()
    assert by_rule["total"] == 1
    other = client.get("/api/v1/findings", headers=_login(client, "qingdao")).json()
    assert other["total"] == 0
    one = client.get(f"/api/v1/findings/{high['items'][0]['id']}", headers=admin).json()
    assert one["evidence"]["item"] == "energy:raw_coal"
    assert (
        client.get(f"/api/v1/findings/{one['id']}", headers=_login(client, "qingdao")).status_code
        == 404
    )


def test_status_change_and_credibility(client: TestClient, engine: Engine) -> None:
    _populate(engine)
    admin = _login(client, "admin")
    items = client.get("/api/v1/findings", headers=admin).json()["items"]
    r = client.patch(
        f"/api/v1/findings/{items[0]['id']}", headers=admin, json={"status": "dismissed"}
    )
    assert r.status_code == 422  # a status change needs a comment
    r = client.patch(
        f"/api/v1/findings/{items[0]['id']}",
        headers=admin,
        json={"status": "dismissed", "comment": "explained by the site visit"},
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    events = client.get(f"/api/v1/findings/{items[0]['id']}/events", headers=admin).json()
    assert [(e["actor"], e["to_status"], e["comment"]) for e in events] == [
        ("admin", "dismissed", "explained by the site visit")
    ]
    scores = client.get("/api/v1/credibility", headers=admin, params={"period": PERIOD}).json()
    assert scores["total"] == 2  # the enterprise without findings scores 100
    year = client.get("/api/v1/credibility", headers=admin, params={"period": "2025"}).json()
    assert year["total"] == 2
    assert scores["items"][0]["score"] == 65.0  # 100 - 25 (high) - 10 (medium)
