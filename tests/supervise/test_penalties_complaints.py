"""Penalties with quota balances, complaints to special supervision, escalation of overdue
items, and a round's checklist: through the services and the API, scoped by jurisdiction and
department."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, PermissionDeniedError
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import SupervisionItem, SupervisionNotice
from kilnwatch.supervise import items as svc
from kilnwatch.supervise.accountability import escalate_overdue
from kilnwatch.supervise.complaints import import_complaints
from kilnwatch.supervise.rectification import open_rectification

sys.path.insert(0, str(Path(__file__).parent))
from _factory import PASSWORD, build, principal  # noqa: E402

SOON = date.today() + timedelta(days=10)


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_rectification_escalated_to_a_penalty_with_quota_balances(
    client: TestClient, engine: Engine
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
        rect = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                                  source_ref="t1", title="煤耗超标", due_date=SOON,
                                  actor="jinan")  # fmt: skip
        rect_id = rect.id
    city, province, qiye = (
        _login(client, "jinan"),
        _login(client, "shandong"),
        _login(client, "qiye"),
    )
    for body in ({"region_code": "370100", "period": "2025", "quota": "coal", "amount": 1000},
                 {"region_code": "370100", "enterprise_uscc": "91370100000000001A",
                  "period": "2025", "quota": "coal", "amount": 300}):  # fmt: skip
        assert client.put("/api/v1/supervision/quotas", headers=city, json=body).status_code == 403
        r = client.put("/api/v1/supervision/quotas", headers=province, json=body)
        assert r.status_code == 200 and r.json()["balance"] == body["amount"], r.text
    url = f"/api/v1/supervision/items/{rect_id}/transitions"
    r = client.post(url, headers=city, json={"action": "escalate", "comment": "逾期未整改"})
    assert r.json()["status"] == "escalated"
    penalty = {"enterprise_id": world.jinan_id, "quota": "coal", "amount": 50, "period": "2025",
               "legal_basis": "《山东省节约能源条例》", "grounds": "整改逾期",
               "source_item_id": rect_id}  # fmt: skip
    assert (
        client.post("/api/v1/supervision/penalties", headers=qiye, json=penalty).status_code == 403
    )
    r = client.post("/api/v1/supervision/penalties", headers=city, json=penalty)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["legal_basis"] == "《山东省节约能源条例》" and r.json()["parent_id"] == rect_id
    again = client.post("/api/v1/supervision/penalties", headers=city, json=penalty)
    assert again.json()["id"] == pid  # once per source and quota
    balances = client.get("/api/v1/supervision/quotas?period=2025", headers=city).json()
    assert {b["balance"] for b in balances} == {1000, 300}  # proposed: nothing deducted yet
    r = client.post(f"/api/v1/supervision/items/{pid}/transitions", headers=city,
                    json={"action": "decide", "comment": "经集体审议"})  # fmt: skip
    assert r.json()["status"] == "decided"
    balances = client.get("/api/v1/supervision/quotas?period=2025", headers=city).json()
    got = {(b["enterprise_uscc"], b["balance"], b["deducted"]) for b in balances}
    assert got == {(None, 950, 50), ("91370100000000001A", 250, 50)}
    mine = client.get("/api/v1/supervision/quotas?period=2025", headers=qiye).json()
    assert [b["enterprise_uscc"] for b in mine] == ["91370100000000001A"]
    assert client.get("/api/v1/supervision/quotas?period=2025",
                      headers=_login(client, "qingdao")).json() == []  # fmt: skip
    assert client.get(f"/api/v1/supervision/items/{pid}", headers=qiye).json()["kind"] == "penalty"
    r = client.post(f"/api/v1/supervision/items/{pid}/transitions", headers=city,
                    json={"action": "revoke", "comment": "行政复议撤销"})  # fmt: skip
    balances = client.get("/api/v1/supervision/quotas?period=2025", headers=city).json()
    assert {b["balance"] for b in balances} == {1000, 300}


def test_complaint_to_special_supervision_and_reply(client: TestClient, engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
    city = _login(client, "jinan")
    r = client.post(
        "/api/v1/supervision/complaints",
        headers=city,
        json={
            "subject": "夜间偷排",
            "body": "厂区夜间冒黑烟",
            "channel": "phone",
            "enterprise_uscc": "91370100000000001A",
            "complainant": "张三",
            "contact": "138",
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert (
        client.get(f"/api/v1/supervision/items/{cid}", headers=_login(client, "qiye")).status_code
        == 404
    )
    seen_by_stats = client.get(f"/api/v1/supervision/items/{cid}",
                               headers=_login(client, "jinan_stats")).json()  # fmt: skip
    assert seen_by_stats["complainant"] is None  # shared, but not who complained
    assert (
        client.get(f"/api/v1/supervision/items/{cid}", headers=city).json()["complainant"] == "张三"
    )
    act = f"/api/v1/supervision/items/{cid}/transitions"
    for action in ("triage", "investigate"):
        assert (
            client.post(act, headers=city, json={"action": action, "comment": "分办"}).status_code
            == 200
        )
    r = client.post("/api/v1/supervision/special", headers=city, json={
        "source_code": "complaint", "source_ref": str(cid), "title": "偷排专项督查",
        "scope": "夜间生产与排放"})  # fmt: skip
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["enterprise_id"] == world.jinan_id and r.json()["parent_id"] == cid
    sact = f"/api/v1/supervision/items/{sid}/transitions"
    assert (
        client.post(sact, headers=city, json={"action": "start", "comment": "组队"}).status_code
        == 422
    )
    r = client.post(sact, headers=city, json={"action": "start", "comment": "组队",
                                              "team": ["jinan", "jinan_stats"]})  # fmt: skip
    assert r.json()["team"] == ["jinan", "jinan_stats"]
    r = client.post(sact, headers=city, json={"action": "conclude", "comment": "查实",
                                              "response": "夜间超排属实"})  # fmt: skip
    assert r.json()["status"] == "concluded"
    r = client.post(f"/api/v1/supervision/items/{sid}/rectifications", headers=city,
                    json={"title": "安装在线监测", "due_on": SOON.isoformat()})  # fmt: skip
    assert r.status_code == 201 and r.json()["parent_id"] == sid
    r = client.post(act, headers=city, json={"action": "reply", "comment": "答复",
                                             "response": "已查实并责令整改"})  # fmt: skip
    assert r.json()["status"] == "replied"
    assert client.post(act, headers=city, json={"action": "close", "comment": "办结"}).json()[
        "status"] == "closed"  # fmt: skip


def test_complaint_import_is_all_or_nothing(session: Session, tmp_path: Path) -> None:
    build(session)
    good = tmp_path / "c.csv"
    good.write_text("ref,channel,region_code,enterprise_uscc,subject,body,complainant,contact\n"
                    "A1,letter,370102,,噪声扰民,夜间噪声,李四,\n"
                    "A2,email,,91370200000000002B,偷排,废水直排,,\n", encoding="utf-8")  # fmt: skip
    assert len(import_complaints(session, good, actor="cli")) == 2
    assert len(import_complaints(session, good, actor="cli")) == 2  # same refs: same items
    assert session.scalar(select(SupervisionItem.id).where(SupervisionItem.kind == "complaint")
                          .order_by(SupervisionItem.id.desc())) is not None  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,channel,region_code,subject,body\n"
                   "B1,letter,370102,ok,正常内容\n"
                   "B2,pigeon,370102,x,内容\n"
                   "B3,letter,999999,y,内容\n", encoding="utf-8")  # fmt: skip
    before = session.query(SupervisionItem).count()
    with pytest.raises(ImportRejected) as err:
        with session.begin_nested():
            import_complaints(session, bad, actor="cli")
    assert [(e.location.row, e.location.field) for e in err.value.errors] == [
        (2, "channel"),
        (3, "region_code"),
    ]
    assert session.query(SupervisionItem).count() == before


def test_overdue_items_escalate_and_come_back(session: Session) -> None:
    world = build(session)
    item = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                              source_ref="late", title="逾期", due_date=SOON,
                              actor="jinan")  # fmt: skip
    later = SOON + timedelta(days=1)
    assert escalate_overdue(session, SOON) == (0, 0)
    f = svc.ItemFilter(overdue_on=later)
    assert [i.id for i in svc.list_items(session, principal("jinan", world), f)[0]] == [item.id]
    assert escalate_overdue(session, later) == (1, 0)
    assert item.escalation_level == 1
    told = {(n.username, n.event) for n in session.scalars(select(SupervisionNotice))}
    assert ("shandong", "escalated") in told and ("jinan", "overdue") in told
    assert escalate_overdue(session, later) == (0, 0)  # once
    svc.transition(session, principal("qiye", world), item.id, "respond", "done", response="ok")
    assert item.escalation_level == 0  # met: back to the owner's level
    with pytest.raises(PermissionDeniedError):
        svc.acknowledge(session, principal("jinan_stats", world), item.id)
