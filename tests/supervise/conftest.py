"""Fixtures of the supervision tests: a browser over https (cookies are ``Secure`` outside
development)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.config import Settings


@pytest.fixture
def browser(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()
