"""Integers beyond the store's range in any route's path or query parameters: 422, never 500.

The routes are read from the app's own route table, so a route added later is covered without
editing this test (issue 22: the OpenAPI fuzz found 11 of 24 operations answering 500).
"""

from __future__ import annotations

import re
from typing import Optional

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.repos.users import add_user
from kilnwatch.web.limits import INT_MAX, instant_parameters, integer_parameters, is_int_annotation

HUGE = str(2**64 * 2653)  # beyond BIGINT, as the fuzz sent
PASSWORD = "correct-horse-9"


def _routes(client: TestClient) -> list[tuple[str, APIRoute]]:
    """Every route of the app: its full path (included routers' prefixes applied) and route."""
    contexts = iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
    return [(c.path, c.route) for c in contexts if isinstance(c.route, APIRoute)]


def _url(path: str, huge: tuple[str, str] | None) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[0]
        return HUGE if huge == ("path", name) else "1"

    url = re.sub(r"\{([^}]+)\}", fill, path)
    return f"{url}?{huge[1]}={HUGE}" if huge and huge[0] == "query" else url


@pytest.fixture
def admin(client: TestClient, engine: Engine) -> dict[str, str]:
    with unit_of_work(make_session_factory(engine)) as session:
        add_user(session, "admin", PASSWORD, Role.ADMIN)
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_every_integer_parameter_is_bounded(client: TestClient, admin: dict[str, str]) -> None:
    tried = 0
    for path, route in _routes(client):
        for where, name in integer_parameters(route):
            for method in sorted(route.methods - {"HEAD"}):
                r = client.request(method, _url(path, (where, name)), headers=admin)
                assert r.status_code == 422, (method, path, name, r.status_code, r.text)
                if path.startswith("/api/"):
                    fields = [d["field"] for d in r.json()["error"]["details"]]
                    assert f"{where}.{name}" in fields, (path, fields)
                tried += 1
    # the API has integer ids and offsets on many routes: an empty table would make this vacuous
    assert tried >= 20


def test_values_in_range_pass_the_guard(client: TestClient, admin: dict[str, str]) -> None:
    r = client.get(f"/api/v1/enterprises?offset={INT_MAX}", headers=admin)
    assert r.status_code == 200 and r.json()["items"] == []
    assert client.get(f"/api/v1/enterprises/{INT_MAX}", headers=admin).status_code == 404


def test_just_beyond_the_bound_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    r = client.get(f"/api/v1/enterprises/{INT_MAX + 1}", headers=admin)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "path.enterprise_id"


def test_integer_annotations_are_recognised() -> None:
    from typing import Annotated

    from fastapi import Query

    is_int = is_int_annotation
    assert is_int(int) and is_int(int | None) and is_int(Optional[int])  # noqa: UP045
    assert is_int(Annotated[int, Query(ge=0)]) and is_int(Annotated[int | None, Query()])
    assert not is_int(str) and not is_int(float) and not is_int(list[int])


def test_a_listings_query_model_is_bounded_too(client: TestClient, admin: dict[str, str]) -> None:
    """``Annotated[RegionsQuery, Query()]`` reaches the route as one parameter: its integer
    fields are found inside it (the long OpenAPI fuzz sent ``offset=2**63`` to ``/regions``)."""
    routes = dict(_routes(client))
    assert ("query", "offset") in integer_parameters(routes["/api/v1/regions"])
    for offset in (INT_MAX + 1, 2**63):
        r = client.get(f"/api/v1/regions?limit=202&offset={offset}", headers=admin)
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "query.offset"


def _body_integer_fields(route: APIRoute) -> list[str]:
    """Top-level integer fields of a route's JSON body model."""
    from pydantic import BaseModel

    params = route.dependant.body_params
    if len(params) != 1:
        return []
    model = params[0].field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [f.alias or n for n, f in model.model_fields.items() if is_int_annotation(f.annotation)]


def test_every_json_bodys_integer_field_is_bounded(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Each integer field of each JSON body, sent beyond 64 bits: 422 naming ``body.<field>``
    (the long OpenAPI fuzz sent ``enterprise_id: 2**63`` to ``POST .../rectifications``)."""
    tried = 0
    for path, route in _routes(client):
        if not path.startswith("/api/"):
            continue
        for name in _body_integer_fields(route):
            for method in sorted(route.methods - {"HEAD", "GET"}):
                r = client.request(method, _url(path, None), json={name: int(HUGE)}, headers=admin)
                assert r.status_code == 422, (method, path, name, r.status_code, r.text)
                fields = [d["field"] for d in r.json()["error"]["details"]]
                assert f"body.{name}" in fields, (path, fields)
                tried += 1
    assert tried >= 5  # enterprise, unit, finding, project and supervisor ids in bodies


def test_every_date_time_parameter_keeps_to_the_calendar(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A date-time at the calendar's end moved to UTC leaves it (year 0): 422 naming the
    parameter (the long OpenAPI fuzz sent ``start=0001-01-01T00:00:00+00:01`` to
    ``/api/v1/exports/findings``)."""
    from urllib.parse import quote

    tried = 0
    for path, route in _routes(client):
        if not path.startswith("/api/"):
            continue
        for where, name in instant_parameters(route):
            if where != "query":
                continue
            edges = ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:00-01:00", "0001-01-01")
            for edge in edges:
                url = f"{_url(path, None)}?{name}={quote(edge)}"
                r = client.get(url, headers=admin)
                assert r.status_code == 422, (path, name, edge, r.status_code, r.text[:200])
                fields = [d["field"] for d in r.json()["error"]["details"]]
                assert f"query.{name}" in fields, (path, fields)
                tried += 1
    assert tried >= 6
    day = client.get("/api/v1/projects/dispatch?day=0001-01-01", headers=admin)  # as the fuzz sent
    assert day.status_code == 422, day.text
    ok = "start=2025-01-01T00:00:00%2B08:00&end=2025-02-01T00:00:00%2B08:00"
    r = client.get(f"/api/v1/exports/findings?{ok}", headers=admin)
    assert r.status_code == 200
