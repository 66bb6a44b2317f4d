"""Every role against every route (issue 22): nobody reads or writes outside their remit.

The routes come from the app's route table, so a route added later is tried without editing
this file. For each signed-in role, every path parameter that names a scoped object is filled
with an object *outside* the role's jurisdiction (must be 403/404, never a success) and, for
reads, with one inside (must be 200 on the API: proves the probe reaches the handler). Every
response of every role, whatever its status, must not contain the name or USCC of an enterprise
outside the role's jurisdiction. Anonymous callers get 401 (API) or the sign-in page (pages).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kilnwatch.config import Settings
from kilnwatch.identity import Role, hash_secret
from kilnwatch.ingest.registry import import_registry
from kilnwatch.keyfile import create_key_file
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import (
    Enterprise,
    FindingRecord,
    Gateway,
    Meter,
    ProductionUnit,
    SupervisionItem,
    User,
)
from kilnwatch.store.repos.users import add_user
from kilnwatch.store.repos.web_sessions import open_session
from kilnwatch.supervise.access import set_department
from kilnwatch.supervise.catalogue import load_sources
from kilnwatch.supervise.items import NewItem, create_item
from kilnwatch.web.sessions import CSRF_HEADER, SESSION_COOKIE, csrf_token

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
PASSWORD = "correct-horse-9"
JN, QD, ZB = "91370100MA3C4XY21E", "91370200163562681G", "91370300164104521M"
CITY_OF = {JN: "370100", QD: "370200", ZB: "370300"}

# username: role, region, enterprise, the enterprises it may see
USERS: dict[str, tuple[Role, str | None, str | None, frozenset[str]]] = {
    "admin": (Role.ADMIN, None, None, frozenset({JN, QD, ZB})),
    "province": (Role.PROVINCE, "370000", None, frozenset({JN, QD, ZB})),
    "city_jinan": (Role.CITY, "370100", None, frozenset({JN})),
    "county_licheng": (Role.COUNTY, "370112", None, frozenset({JN})),
    "inspector_zibo": (Role.INSPECTOR, "370300", None, frozenset({ZB})),
    "auditor_qingdao": (Role.AUDITOR, "370200", None, frozenset({QD})),
    "ent_zibo": (Role.ENTERPRISE, None, ZB, frozenset({ZB})),
    # a department other than the lead one (supervision, issue 15): the same city's remit
    "city_jinan_ecology": (Role.CITY, "370100", None, frozenset({JN})),
}
DEPARTMENT_OF = {"city_jinan_ecology": "ecology_environment"}
# path parameters that name an object of one enterprise: (model, the enterprise's USCC → id)
SCOPED_PARAMS = {"enterprise_id", "unit_id", "meter_id", "finding_id", "item_id"}
# open to anyone: signing in, the report catalogue (names and formats, no data), the API docs,
# and the public province view (aggregates only: the name check below still applies to it)
ANONYMOUS_API = {"/api/v1/auth/token", "/api/v1/reports"}
ANONYMOUS_PAGES = {"/signin", "/lang", "/healthz", "/docs", "/docs/oauth2-redirect", "/redoc"}
ANONYMOUS_PAGES |= {"/", "/welcome"}
ANONYMOUS_PAGES |= {"/complaints/new"}  # the public complaint form (举报, issue 15): cities only
# Prometheus scrapes without a session: process counters only (readings by source, commit
# latency), no enterprise, meter or value (the name check below still applies to it)
ANONYMOUS_PAGES |= {"/metrics"}


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
"""SQLite in ``make test`` (the scoping is one set of SQL filters, ``store/repos/scope.py``,
tested on both backends in tests/web/test_registry_api.py; the matrix costs a thousand
requests); PostgreSQL too in ``make soak`` (``KILNWATCH_FUZZ=long``)."""


@pytest.fixture(params=BACKENDS if os.environ.get("KILNWATCH_FUZZ") == "long" else ["sqlite"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    fixture = "pg_database" if request.param == "postgresql" else "sqlite_database"
    url = request.getfixturevalue(fixture)
    return Settings(database_url=url, environment="test", var_dir=tmp_path)


@dataclass
class World:
    ids: dict[str, dict[str, int]]  # param → uscc → id
    names: dict[str, str]  # uscc → enterprise name
    settings: Settings
    keys: dict[str, str]  # username → page session key
    tokens: dict[str, str]  # username → API token


@pytest.fixture
def world(client: TestClient, engine: Engine, settings: Settings) -> World:
    create_key_file(settings.totp_key_path)  # as installed: TOTP enrolment works
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        import_registry(s, REGISTRY)
        ents = {e.uscc: e for e in s.scalars(select(Enterprise))}
        for uname, (role, region, uscc, _) in USERS.items():
            add_user(s, uname, PASSWORD, role, region_code=region, enterprise_uscc=uscc)
        now = datetime(2025, 3, 1, tzinfo=UTC)
        source = sorted(load_sources())[0]
        for uscc, ent in ents.items():
            s.add(
                Meter(
                    code=f"M-MATRIX-{uscc[-4:]}", enterprise_id=ent.id, carrier="electricity",
                    level="entry", measurement="counter", unit_of_measure="kWh",
                )
            )  # fmt: skip
            s.add(
                FindingRecord(
                    fingerprint=f"matrix-{uscc}", rule_code="verify.test.matrix",
                    enterprise_id=ent.id, period="2025-03", start_at=now, end_at=now,
                    severity="high", message=f"finding of {ent.name}", evidence={},
                )
            )  # fmt: skip
            create_item(s, NewItem(kind="rectification", title=f"rectify {ent.name}",
                                   source_code=source, region_code=ent.region_code,
                                   enterprise_id=ent.id, source_ref=f"matrix-{uscc}"),
                        actor="admin")  # fmt: skip
        for uname, department in DEPARTMENT_OF.items():
            set_department(s, uname, department)
        s.flush()
        ids: dict[str, dict[str, int]] = {"enterprise_id": {u: e.id for u, e in ents.items()}}
        by_ent = {e.id: u for u, e in ents.items()}
        for param, model in (
            ("unit_id", ProductionUnit),
            ("meter_id", Meter),
            ("finding_id", FindingRecord),
            ("item_id", SupervisionItem),
        ):
            ids[param] = {}
            for row in s.scalars(select(model).order_by(model.id)):
                ids[param].setdefault(by_ent[row.enterprise_id], row.id)
        names = {u: e.name for u, e in ents.items()}
        users = {u.username: u for u in s.scalars(select(User))}
        keys = {uname: open_session(s, users[uname], "zh-CN", 3600) for uname in USERS}
    tokens = {}
    for uname in USERS:
        r = client.post("/api/v1/auth/token", data={"username": uname, "password": PASSWORD})
        assert r.status_code == 200, r.text
        tokens[uname] = r.json()["access_token"]
    assert all(len(v) == 3 for v in ids.values()), ids  # each enterprise has one of each
    return World(ids, names, settings, keys, tokens)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route; signing out last, as it ends the sessions the rest use."""
    found = []
    for c in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(c.route, APIRoute):
            found += [(m, c.path) for m in sorted(c.route.methods - {"HEAD"})]
    return sorted(found, key=lambda mp: mp[1] == "/signout")


def _params(path: str) -> list[str]:
    return [p.split(":")[0] for p in re.findall(r"\{([^}]+)\}", path)]


def _is_region_code(path: str, name: str) -> bool:
    """``{code}`` names a region under ``/regions/`` only (rounds and rules have codes too)."""
    return name == "code" and "/regions/{code" in path


def _fill(path: str, world: World, uscc: str) -> str:
    """``path`` with its scoped parameters naming ``uscc``'s objects and the others plausible."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        if name in SCOPED_PARAMS:
            return str(world.ids[name][uscc])
        if _is_region_code(path, name):
            return CITY_OF[uscc]
        return "1"

    return re.sub(r"\{([^}]+)\}", value, path)


def _request(client: TestClient, world: World, user: str, method: str, url: str) -> tuple[int, str]:
    api = url.startswith("/api/")
    headers = {"Authorization": f"Bearer {world.tokens[user]}"} if api else {}
    if not api and method != "GET":
        headers[CSRF_HEADER] = csrf_token(world.settings, world.keys[user])
    client.cookies.clear()
    if not api:
        client.cookies.set(SESSION_COOKIE, world.keys[user])
    r = client.request(method, url, headers=headers, follow_redirects=False,
                       data={} if method != "GET" else None)  # fmt: skip
    return r.status_code, r.text


def test_no_role_reads_or_writes_outside_its_remit(client: TestClient, world: World) -> None:
    tried = leaks = 0
    failures: list[str] = []
    for method, path in _routes(client):
        scoped = [p for p in _params(path) if p in SCOPED_PARAMS or _is_region_code(path, p)]
        for user, (_, _, _, visible) in USERS.items():
            outside = [u for u in (JN, QD, ZB) if u not in visible]
            targets = [(u, False) for u in outside[:1]] + [(u, True) for u in sorted(visible)[:1]]
            for uscc, inside in targets if scoped else [(sorted(visible)[0], True)]:
                status, body = _request(client, world, user, method, _fill(path, world, uscc))
                tried += 1
                where = f"{user} {method} {path} ({'inside' if inside else 'outside'})"
                if status >= 500:
                    failures.append(f"{where}: {status}")
                for other in outside:
                    if other in body or world.names[other] in body:
                        leaks += 1
                        failures.append(f"{where}: shows {world.names[other]} ({status})")
                if (
                    scoped
                    and not inside
                    and status < 400
                    and not (status == 303 and "signin" in body)
                ):
                    failures.append(f"{where}: answered {status} for an object outside the remit")
                if (
                    scoped
                    and inside
                    and method == "GET"
                    and path.startswith("/api/")
                    and status != 200
                ):
                    failures.append(f"{where}: {status} for an object inside the remit")
    print(f"\nFIGURE access_matrix: {len(USERS)} roles, {tried} requests, {leaks} leaks, "
          f"{len(failures)} failures")  # fmt: skip
    assert not failures, "\n".join(failures[:40])
    assert leaks == 0
    assert tried > 300  # every role × every route: a shrunken table would make this vacuous


def test_anonymous_gets_nothing_but_sign_in(client: TestClient, world: World) -> None:
    failures = []
    for method, path in _routes(client):
        client.cookies.clear()
        r = client.request(method, _fill(path, world, JN), follow_redirects=False)
        if path.startswith("/api/") and path not in ANONYMOUS_API:
            ok = r.status_code in (401, 422) if "ingest" in path else r.status_code == 401
        elif path.startswith("/api/"):
            ok = r.status_code < 500
        elif path in ANONYMOUS_PAGES:
            ok = r.status_code < 500
        else:
            ok = r.status_code in (303, 403) and (
                r.status_code == 403 or "/signin" in r.headers["location"]
            )
        for uscc, name in world.names.items():
            ok = ok and uscc not in r.text and name not in r.text
        if not ok:
            failures.append(f"{method} {path}: {r.status_code}")
    assert not failures, "\n".join(failures)


def test_gateway_credentials_open_only_their_own_ingest(
    client: TestClient, world: World, engine: Engine
) -> None:
    """A gateway (HTTP Basic ``code:secret``) against every route: its credentials open
    ``POST /api/v1/ingest/readings`` for its own enterprise's meters and nothing else — every
    other API route answers 401, every page the sign-in redirect, and no answer names another
    enterprise."""
    with unit_of_work(make_session_factory(engine)) as s:
        ents = {e.uscc: e for e in s.scalars(select(Enterprise))}
        s.add(Gateway(code="GW-MATRIX-JN", enterprise_id=ents[JN].id, protocol="http",
                      secret_hash=hash_secret(PASSWORD)))  # fmt: skip
    auth = ("GW-MATRIX-JN", PASSWORD)
    own, other = f"M-MATRIX-{JN[-4:]}", f"M-MATRIX-{ZB[-4:]}"
    failures = []
    for method, path in _routes(client):
        if path == "/api/v1/ingest/readings":
            continue
        client.cookies.clear()
        r = client.request(method, _fill(path, world, JN), auth=auth, follow_redirects=False)
        if path.startswith("/api/") and path not in ANONYMOUS_API:
            ok = r.status_code == 401
        elif path.startswith("/api/") or path in ANONYMOUS_PAGES:
            ok = r.status_code < 500
        else:
            ok = r.status_code == 403 or (
                r.status_code == 303 and "/signin" in r.headers["location"]
            )
        for uscc in (QD, ZB):
            ok = ok and uscc not in r.text and world.names[uscc] not in r.text
        if not ok:
            failures.append(f"{method} {path}: {r.status_code}")
    assert not failures, "\n".join(failures)
    reading = {"unit": "kWh", "value": 1.0, "ts": "2025-03-01T00:00:00+08:00"}
    mine = client.post("/api/v1/ingest/readings", json={**reading, "meter_code": own}, auth=auth)
    theirs = client.post("/api/v1/ingest/readings", json={**reading, "meter_code": other},
                         auth=auth)  # fmt: skip
    assert mine.status_code == 200 and mine.json()["accepted"] == 1, mine.text
    assert theirs.status_code == 200 and theirs.json()["accepted"] == 0
    assert theirs.json()["reasons"] == {"ingest.not_authorised": 1}
    assert world.names[ZB] not in theirs.text and ZB not in theirs.text
    wrong = client.post("/api/v1/ingest/readings", json={**reading, "meter_code": own},
                        auth=("GW-MATRIX-JN", "not-the-secret"))  # fmt: skip
    assert wrong.status_code == 401


PROBE = "matrix probe"
API_ITEM, PAGE_ITEM = "/api/v1/supervision/items/{item_id}/", "/supervision/items/{item_id}/"
Probe = tuple[str, dict[str, str] | None, dict[str, str], str]
# every write route on a supervision item (all POST), with a request its writer may make:
# (item, JSON body, form fields, who writes; evidence routes also send a file). Item "a" is
# the world's Jinan item, "b" one more; in this order: acknowledge before assign, escalate
# before the follow-up it allows.
ITEM_WRITES: dict[str, Probe] = {
    API_ITEM + "comments": ("a", {"comment": PROBE}, {}, "owner"),
    PAGE_ITEM + "note": ("a", None, {"note": "comment", "comment": PROBE}, "owner"),
    API_ITEM + "evidence": ("a", None, {"note": PROBE}, "owner"),
    PAGE_ITEM + "evidence": ("a", None, {"note": PROBE}, "owner"),
    API_ITEM + "acknowledge": ("a", None, {}, "assignee"),
    API_ITEM + "assign": ("a", {"assignee": "city_jinan", "comment": PROBE}, {}, "owner"),
    API_ITEM + "rectifications": ("a", {"title": PROBE, "due_on": "2025-04-30"}, {}, "owner"),
    PAGE_ITEM + "action": ("a", None, {"action": "escalate", "comment": PROBE}, "owner"),
    PAGE_ITEM + "follow-up": ("a", None, {"follow_up": "special", "title": PROBE, "body": PROBE},
                              "owner"),
    API_ITEM + "transitions": ("b", {"action": "escalate", "comment": PROBE}, {}, "owner"),
}  # fmt: skip
FINDING_WRITES: dict[tuple[str, str], tuple[dict[str, str] | None, dict[str, str]]] = {
    ("PATCH", "/api/v1/findings/{finding_id}"): ({"status": "confirmed", "comment": PROBE}, {}),
    ("POST", "/findings/{finding_id}/action"): (None, {"action": "close", "comment": PROBE}),
}  # fmt: skip
"""Every write route on a finding: (JSON body, form fields)."""


def _write(
    client: TestClient, world: World, user: str, method: str, url: str,
    body: dict[str, object] | None, form: dict[str, str], upload: bool = False,
) -> tuple[int, str, str]:  # fmt: skip
    """A write as ``user`` (bearer token on the API, session and CSRF token on pages)."""
    client.cookies.clear()
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {world.tokens[user]}"}
    else:
        headers = {CSRF_HEADER: csrf_token(world.settings, world.keys[user])}
        client.cookies.set(SESSION_COOKIE, world.keys[user])
    files = {"file": ("probe.txt", b"matrix probe", "text/plain")} if upload else None
    r = client.request(method, url, json=body, data=form or None, files=files, headers=headers,
                       follow_redirects=False)  # fmt: skip
    return r.status_code, r.headers.get("location", ""), r.text[:200]


def _written(status: int, location: str) -> bool:
    return status < 400 and "error" not in location and "signin" not in location


def _finding_writes(client: TestClient, world: World) -> None:
    """A finding whose rectification a department opened is that department's: the other
    department of the city is refused (403) on every write route of a finding (from the route
    table), an auditor reads only (403 inside its remit), the owner changes it. Before any
    rectification, any supervisor of the jurisdiction but an auditor may."""
    routes = {(m, p) for m, p in _routes(client) if m != "GET" and "{finding_id}" in p}
    assert routes == set(FINDING_WRITES), (
        f"give these a probe: {sorted(routes - set(FINDING_WRITES))}"
    )
    jn, qd = world.ids["finding_id"][JN], world.ids["finding_id"][QD]
    for (method, path), (body, form) in FINDING_WRITES.items():
        status, where, _ = _write(client, world, "auditor_qingdao", method,
                                  path.replace("{finding_id}", str(qd)), body, form)  # fmt: skip
        assert status == 403, (method, path, status)
    status, where, _ = _write(client, world, "city_jinan_ecology", "PATCH",
                              f"/api/v1/findings/{jn}", {"status": "open", "comment": PROBE},
                              {})  # fmt: skip
    assert status == 200  # no rectification yet: any department of the city
    status, _, text = _write(client, world, "city_jinan", "POST",
                             "/api/v1/supervision/rectifications/from-finding",
                             {"finding_id": jn}, {})  # fmt: skip
    assert status == 201, text
    for (method, path), (body, form) in FINDING_WRITES.items():
        url = path.replace("{finding_id}", str(jn))
        status, where, text = _write(client, world, "city_jinan_ecology", method, url, body, form)
        assert status == 403, (method, path, status, text)
        status, where, text = _write(client, world, "city_jinan", method, url, body, form)
        assert _written(status, where), (method, path, status, where, text)


def test_only_the_owning_department_acts_on_an_item(
    client: TestClient, world: World, engine: Engine
) -> None:
    """Departments (谁考核、谁掌握数据): both departments of Jinan read Jinan's item (results
    are shared, above), but only the owning department (the lead one, here) writes on it, and
    on a finding it rectifies (:func:`_finding_writes`).
    Every write route on an item (from the route table: a new one fails here until it has a
    probe) — the workflow, comments, evidence, assignment, follow-ups: the other department of
    the same city is refused (403) and a user outside the remit too (403/404), then the
    item's writer succeeds."""
    routes = {(m, p) for m, p in _routes(client) if m != "GET" and "{item_id}" in p}
    probed = {("POST", p) for p in ITEM_WRITES}
    assert routes == probed, f"give these routes a probe: {sorted(routes - probed)}"
    with unit_of_work(make_session_factory(engine)) as s:
        a = s.get(SupervisionItem, world.ids["item_id"][JN])
        assert a is not None and a.assignee != "city_jinan_ecology"
        b, _ = create_item(s, NewItem(kind="rectification", title="matrix b",
                                      source_code=a.source_code, region_code=a.region_code,
                                      enterprise_id=a.enterprise_id, source_ref="matrix-b"),
                           actor="admin")  # fmt: skip
        items, assignee = {"a": a.id, "b": b.id}, a.assignee
    failures = []
    for path, (which, body, form, writer) in ITEM_WRITES.items():
        url = path.replace("{item_id}", str(items[which]))
        writer = assignee if writer == "assignee" else "city_jinan"
        for user in ("city_jinan_ecology", "auditor_qingdao", writer):
            status, location, text = _write(client, world, user, "POST", url, body, form,
                                            upload=path.endswith("evidence"))  # fmt: skip
            if user == "city_jinan_ecology":
                ok = status == 403
            elif user == "auditor_qingdao":
                ok = status in (403, 404)
            else:
                ok = _written(status, location)
            if not ok:
                failures.append(f"{user} POST {path}: {status} {location} {text}")
    assert not failures, "\n".join(failures)
    _finding_writes(client, world)
