"""The API fuzzed from its own OpenAPI document (schemathesis, issue 22): every operation under
``/api/`` with generated path, query and body values, signed in as an administrator and as an
enterprise user — no answer may be a 5xx. ``make test`` runs a few cases per operation
(derandomised: the same cases each run); ``make soak`` (``KILNWATCH_FUZZ=long``) many more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from tests.fuzz.conftest import LONG

from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.repos.users import add_user
from kilnwatch.store.seed import seed_regions
from kilnwatch.web.app import OPENAPI_URL

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
PASSWORD = "fuzz-password-9"
USERS = {"admin": (Role.ADMIN, None), "ent": (Role.ENTERPRISE, "91370300164104521M")}
CASES_PER_OPERATION = 200 if LONG else 2


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A registry, an administrator and an enterprise user, and their bearer tokens."""
    from kilnwatch.web.app import create_app

    folder = tmp_path_factory.mktemp("openapi")
    conf = Settings(database_url=f"sqlite:///{folder / 'kw.sqlite'}", environment="test",
                    var_dir=folder)  # fmt: skip
    engine = make_engine(conf)
    upgrade(engine)
    with engine.begin() as conn:
        seed_regions(conn)
    with unit_of_work(make_session_factory(engine)) as s:
        import_registry(s, REGISTRY)
        for name, (role, uscc) in USERS.items():
            add_user(s, name, PASSWORD, role, enterprise_uscc=uscc)
    app = create_app(conf)
    with TestClient(app) as client:
        tokens = {}
        for name in USERS:
            r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            tokens[name] = r.json()["access_token"]
        yield client, tokens
    app.state.engine.dispose()
    engine.dispose()


def test_no_operation_answers_5xx(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, client.app)
    failures: list[str] = []
    cases = operations = 0
    for result in schema.include(path_regex="^/api/").get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=CASES_PER_OPERATION, derandomize=not LONG, deadline=None,
                  database=None, suppress_health_check=list(HealthCheck))  # fmt: skip
        def call(case: schemathesis.Case) -> None:
            nonlocal cases
            for user, token in tokens.items():
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                cases += 1
                if response.status_code >= 500:
                    failures.append(f"{user}: {case.method} {case.formatted_path} "
                                    f"{case.query} -> {response.status_code}")  # fmt: skip

        call()
    print(f"\nFIGURE openapi_fuzz: {operations} operations, {cases} requests, "
          f"{len(failures)} answered 5xx")  # fmt: skip
    assert not failures, "\n".join(failures[:40])
    assert operations > 50 and cases >= 2 * operations
