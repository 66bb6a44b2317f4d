"""A problem followed end to end: verification finding -> rectification -> the enterprise's
response with evidence -> verification -> closure, through the API and through the pages,
each user seeing only what it may."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, FindingRecord
from kilnwatch.store.repos.users import add_user
from kilnwatch.supervise.access import set_department
from kilnwatch.supervise.rectification import open_rectification
from kilnwatch.verify.run import verify_period

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
sys.path.insert(0, str(Path(__file__).parent))
from _factory import sign_in, token  # noqa: E402
from _verify_factory import MARCH, Plant, store  # noqa: E402

PASSWORD = "correct-horse-9"


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _populate(engine: Engine) -> int:
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["energy:raw_coal"] *= 0.85
        store(session, plant)
        other = Enterprise(uscc="91370200163562681G", name="青岛", region_code="370211",
                           industry="cement")  # fmt: skip
        session.add(other)
        verify_period(session, MARCH)
        uscc = session.scalar(select(Enterprise.uscc).where(Enterprise.region_code == "370102"))
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
        add_user(session, "jinan_tax", PASSWORD, Role.CITY, region_code="370100")
        add_user(session, "qingdao", PASSWORD, Role.CITY, region_code="370200")
        add_user(session, "qiye", PASSWORD, Role.ENTERPRISE, enterprise_uscc=uscc)
        add_user(session, "qiye_qd", PASSWORD, Role.ENTERPRISE, enterprise_uscc=other.uscc)
        set_department(session, "jinan_tax", "taxation")
        finding_id = session.scalar(select(FindingRecord.id).order_by(FindingRecord.id))
        assert finding_id is not None
        return finding_id


def test_finding_to_closure_through_the_api(client: TestClient, engine: Engine) -> None:
    finding_id = _populate(engine)
    city, qiye = _login(client, "jinan"), _login(client, "qiye")
    due = (date.today() + timedelta(days=20)).isoformat()
    r = client.post("/api/v1/supervision/rectifications/from-finding", headers=city,
                    json={"finding_id": finding_id, "due_on": due})  # fmt: skip
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["kind"], item["status"], item["source_code"]) == (
        "rectification",
        "open",
        "verify.finding",
    )
    assert item["assignee"] == "jinan"  # an assignee from creation
    again = client.post("/api/v1/supervision/rectifications/from-finding", headers=city,
                        json={"finding_id": finding_id})  # fmt: skip
    assert again.json()["id"] == item["id"]  # recorded once, never re-entered
    url = f"/api/v1/supervision/items/{item['id']}"
    assert client.post("/api/v1/supervision/rectifications/from-finding", headers=qiye,
                       json={"finding_id": finding_id}).status_code == 403  # fmt: skip
    # scope: the enterprise sees its own item, another enterprise and another city do not
    assert client.get("/api/v1/supervision/items", headers=qiye).json()["total"] == 1
    for other in ("qiye_qd", "qingdao"):
        assert client.get("/api/v1/supervision/items", headers=_login(client, other)).json()[
            "total"] == 0  # fmt: skip
        assert client.get(url, headers=_login(client, other)).status_code == 404
    # another department sees the shared result but does not act on it
    tax = _login(client, "jinan_tax")
    assert client.get(url, headers=tax).status_code == 200
    r = client.post(url + "/transitions", headers=tax, json={"action": "escalate", "comment": "x1"})
    assert r.status_code == 403
    # the enterprise acknowledges, attaches evidence and responds
    assert client.post(url + "/acknowledge", headers=qiye).json()["acknowledged_by"] == "qiye"
    r = client.post(url + "/evidence", headers=qiye, data={"note": "改造后照片"},
                    files={"file": ("photo.jpg", b"\xff\xd8jpeg-bytes", "image/jpeg")})  # fmt: skip
    assert r.status_code == 200, r.text
    evidence_id = r.json()["id"]
    got = client.get(f"/api/v1/supervision/evidence/{evidence_id}", headers=city)
    assert got.content == b"\xff\xd8jpeg-bytes"
    assert client.get(f"/api/v1/supervision/evidence/{evidence_id}",
                      headers=_login(client, "qingdao")).status_code == 404  # fmt: skip
    r = client.post(url + "/transitions", headers=qiye, json={
        "action": "respond", "comment": "已完成", "response": "更换计量表并补报统计"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "responded", r.text
    r = client.post(url + "/transitions", headers=qiye, json={
        "action": "accept", "comment": "we are fine"})  # fmt: skip
    assert r.status_code == 403  # the enterprise does not verify itself
    r = client.post(url + "/transitions", headers=city, json={"action": "respond", "comment": "x1"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "supervise.transition.not_allowed"
    r = client.post(url + "/transitions", headers=city, json={
        "action": "accept", "comment": "现场核验属实"})  # fmt: skip
    assert r.json()["status"] == "closed" and r.json()["closed_at"]
    events = [(e["action"], e["actor"]) for e in client.get(url, headers=city).json()["events"]]
    assert events == [("create", "jinan"), ("acknowledge", "qiye"), ("attach", "qiye"),
                      ("respond", "qiye"), ("accept", "jinan")]  # fmt: skip
    inbox = client.get("/api/v1/supervision/notices", headers=qiye).json()
    assert {"opened", "accept"} <= {n["event"] for n in inbox}


def test_open_rectification_is_the_public_entry_point(engine: Engine) -> None:
    _populate(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        eid = session.scalar(select(Enterprise.id).where(Enterprise.region_code == "370102"))
        assert eid is not None
        due = date.today() + timedelta(days=15)
        sent = {"enterprise_id": eid, "source_code": "projects.onsite", "title": "煤耗超标",
                "source_ref": "P1/2025-03/coal", "due_date": due}  # fmt: skip
        a = open_rectification(session, **sent)  # type: ignore[arg-type]
        b = open_rectification(session, **sent)  # type: ignore[arg-type]
        assert a.id == b.id and a.region_code == "370102" and a.assignee == "jinan"


def test_finding_to_closure_through_the_pages(browser: TestClient, engine: Engine) -> None:
    client = browser
    finding_id = _populate(engine)
    sign_in(client, "jinan")
    page = client.get(f"/findings/{finding_id}")
    assert f"/supervision/new?finding={finding_id}" in page.text
    form = client.get(f"/supervision/new?finding={finding_id}")
    assert form.status_code == 200
    r = client.post(
        "/supervision/new",
        data={
            "finding": str(finding_id),
            "due_on": (date.today() + timedelta(days=9)).isoformat(),
            "required_action": "补齐计量",
            "csrf_token": token(form.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    queue = client.get("/supervision?view=mine")
    assert url in queue.text and "补齐计量" not in queue.text
    assert client.get("/supervision?view=mine&format=csv").text.count("\n") == 2
    sign_in(client, "qiye")
    item = client.get(url)
    assert item.status_code == 200 and 'id="act-respond"' in item.text
    assert 'id="act-accept"' not in item.text
    r = client.post(
        url + "/action",
        data={
            "action": "respond",
            "comment": "已整改",
            "response": "",
            "csrf_token": token(item.text),
        },
    )
    assert r.status_code == 422 and 'id="action-error"' in r.text  # the response is required
    r = client.post(
        url + "/action",
        data={
            "action": "respond",
            "comment": "已整改",
            "response": "已补齐",
            "csrf_token": token(item.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    sign_in(client, "qingdao")
    assert client.get(url).status_code == 404
    sign_in(client, "jinan")
    item = client.get(url)
    assert 'id="act-accept"' in item.text
    r = client.post(url + "/action", data={"action": "accept", "comment": "核验通过",
                    "csrf_token": token(item.text)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "sv-closed" not in client.get(url).text
    assert 'id="item-status">已办结' in client.get(url).text
    assert client.get("/supervision/notices").status_code == 200
    form = client.get(f"/supervision/new?finding={finding_id}&kind=special")
    assert 'name="kind" value="special"' in form.text
    r = client.post("/supervision/new", data={"finding": str(finding_id), "kind": "special",
                    "title": "计量专项督查", "required_action": "全部计量器具",
                    "csrf_token": token(form.text)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    special = client.get(r.headers["location"].split("?")[0]).text
    assert "计量专项督查" in special and 'id="act-start"' in special
