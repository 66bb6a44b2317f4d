"""HTTP ingestion: Basic-authenticated gateways post JSON or CSV; dead letters are scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kilnwatch.identity import Role
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Meter, Reading
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.repos.users import add_user
from kilnwatch.store.rollups.attribution import HOUR

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
PASSWORD = "correct-horse-9"
GATEWAY = ("GW-JN-01", "s3cret-jn-01")
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)


@pytest.fixture
def populated(engine: Engine) -> Engine:
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, REGISTRY)
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
        add_user(session, "ent", PASSWORD, Role.ENTERPRISE, enterprise_uscc="91370300164104521M")
    return engine


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _reading(i: int, value: float, code: str = "M-JN-E0") -> dict[str, object]:
    ts = (T0 + timedelta(minutes=15 * i)).isoformat()
    return {"meter_code": code, "ts": ts, "value": value, "unit": "kWh"}


def test_json_batch_counts_and_idempotent_retry(client: TestClient, populated: Engine) -> None:
    body = {"readings": [_reading(i, 100.0 + 5 * i) for i in range(4)] + [_reading(9, 1, "NOPE")]}
    r = client.post("/api/v1/ingest/readings", json=body, auth=GATEWAY)
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["accepted"], data["duplicates"], data["rejected"]) == (4, 0, 1)
    assert data["rejections"] == [
        {"row": 5, "code": "ingest.unknown_meter", "field": "meter_code",
         "message": "unknown meter 'NOPE'"}
    ]  # fmt: skip
    again = client.post("/api/v1/ingest/readings", json=body, auth=GATEWAY).json()
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    with make_session_factory(populated)() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 4
        mid = s.scalar(select(Meter.id).where(Meter.code == "M-JN-E0"))
        assert mid is not None
        total = meter_totals(s, [mid], HOUR, T0 - timedelta(days=1), T0 + timedelta(days=1))
        assert total[mid].sum == pytest.approx(15.0)


def test_csv_body_and_single_object(client: TestClient, populated: Engine) -> None:
    csv_body = "meter_code,ts,value,unit,flag\n" + "".join(
        f"M-JN-C0,{(T0 + timedelta(hours=i)).isoformat()},{i + 1},t,\n" for i in range(3)
    )
    r = client.post(
        "/api/v1/ingest/readings",
        content=csv_body.encode(),
        headers={"Content-Type": "text/csv"},
        auth=GATEWAY,
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3
    single = client.post("/api/v1/ingest/readings", json=_reading(0, 7.0), auth=GATEWAY)
    assert single.json()["accepted"] == 1


def test_authentication_is_required(client: TestClient, populated: Engine) -> None:
    body = {"readings": [_reading(0, 1.0)]}
    assert client.post("/api/v1/ingest/readings", json=body).status_code == 401
    wrong = client.post("/api/v1/ingest/readings", json=body, auth=("GW-JN-01", "nope"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "auth.failed"
    bad = client.post(
        "/api/v1/ingest/readings", content=b"{not json", auth=GATEWAY,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "ingest.malformed"


def test_dead_letters_are_visible_within_jurisdiction(
    client: TestClient, populated: Engine
) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {"readings": [{"meter_code": "M-JN-E0", "ts": future, "value": 1, "unit": "kWh"}]}
    client.post("/api/v1/ingest/readings", json=body, auth=GATEWAY)
    r = client.get("/api/v1/ingest/dead-letters", headers=_login(client, "jinan"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["reason"] for i in items] == ["ingest.future_timestamp"]
    assert future in items[0]["payload"]
    other = client.get("/api/v1/ingest/dead-letters", headers=_login(client, "ent")).json()
    assert other["total"] == 0
    filtered = client.get(
        "/api/v1/ingest/dead-letters?reason=ingest.unknown_meter", headers=_login(client, "admin")
    ).json()
    assert filtered["total"] == 0
    assert client.get("/api/v1/ingest/dead-letters").status_code == 401
