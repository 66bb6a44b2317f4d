"""Column mappings through the app: the API (save, list, preview, apply; administrators only)
and the page (draft from a sample, save, preview, import)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Reading
from kilnwatch.store.repos.users import add_user

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
PASSWORD = "correct-horse-9"
WIDE = {
    "ts_column": "时间",
    "value_columns": [{"column": "1#进线", "meter_code": "M-JN-E0", "unit": "kWh"}],
}
EXPORT = "时间,1#进线,备注\r\n2025-03-01 08:00,120,\r\n2025-03-01 09:00,130,\r\n".encode("gbk")


@pytest.fixture
def populated(engine: Engine) -> Engine:
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, REGISTRY)
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
    return engine


@pytest.fixture
def web(settings: Settings, populated: Engine) -> Iterator[TestClient]:
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()


def _bearer(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _count(engine: Engine) -> int:
    with make_session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(Reading)) or 0


def test_api_save_preview_apply(web: TestClient, populated: Engine) -> None:
    admin = _bearer(web, "admin")
    r = web.put("/api/v1/mappings/scada", json={"source": "SCADA", "spec": WIDE}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["ts_column"] == "时间"
    bad = web.put("/api/v1/mappings/x", json={"spec": {"ts_column": "t"}}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "value_column"
    city = web.get("/api/v1/mappings", headers=_bearer(web, "jinan"))
    assert city.status_code == 403
    files = {"file": ("march.csv", EXPORT, "text/csv")}
    preview = web.post("/api/v1/mappings/scada/preview", files=files, headers=admin)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["encoding"] == "gb18030" and len(body["readings"]) == 2
    assert _count(populated) == 0
    done = web.post("/api/v1/mappings/scada/apply", files=files, headers=admin)
    assert done.status_code == 200, done.text
    assert (done.json()["readings"], done.json()["accepted"]) == (2, 2)
    assert _count(populated) == 2
    broken = {"file": ("april.csv", "时间,1#进线\n2025-04-01 08:00,abc\n".encode(), "text/csv")}
    refused = web.post("/api/v1/mappings/scada/apply", files=broken, headers=admin)
    assert refused.status_code == 422
    detail = refused.json()["error"]["details"][0]
    assert (detail["file"], detail["row"], detail["field"]) == ("april.csv", 1, "1#进线")
    assert [m["name"] for m in web.get("/api/v1/mappings", headers=admin).json()] == ["scada"]


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found[1]


def test_page_draft_save_preview_import(web: TestClient, populated: Engine) -> None:
    token = _token(web.get("/signin").text)
    r = web.post("/signin", data={"username": "admin", "password": PASSWORD,
                                  "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = web.get("/admin/mappings")
    assert page.status_code == 200 and "接入现有监测系统" in page.text
    token = _token(page.text)
    draft = web.post("/admin/mappings/draft", data={"csrf_token": token, "unit": "kWh"},
                     files={"file": ("sample.csv", EXPORT, "text/csv")})  # fmt: skip
    assert draft.status_code == 200 and "<code>1#进线</code>" in draft.text
    assert "&#34;value_columns&#34;" in draft.text or '"value_columns"' in draft.text
    spec = '{"ts_column": "时间", "value_columns": [{"column": "1#进线", ' \
           '"meter_code": "M-JN-E0", "unit": "kWh"}]}'  # fmt: skip
    saved = web.post("/admin/mappings", data={"csrf_token": token, "name": "scada",
                                              "source": "SCADA", "spec": spec},
                     follow_redirects=True)  # fmt: skip
    assert saved.status_code == 200 and "mapping-done" in saved.text
    wrong = web.post("/admin/mappings", data={"csrf_token": token, "name": "x", "spec": "{"})
    assert wrong.status_code == 422 and "not JSON" in wrong.text
    files = {"file": ("march.csv", EXPORT, "text/csv")}
    preview = web.post(
        "/admin/mappings/scada/run", data={"csrf_token": token, "action": "preview"}, files=files
    )
    assert preview.status_code == 200 and "M-JN-E0" in preview.text
    assert _count(populated) == 0
    imported = web.post(
        "/admin/mappings/scada/run", data={"csrf_token": token, "action": "import"}, files=files
    )
    assert imported.status_code == 200 and "mapping-imported" in imported.text
    assert _count(populated) == 2
    assert "scada" in web.get("/admin/mappings").text
