"""``kilnwatch serve`` as a user runs it: a real uvicorn process on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_browser import serve


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    env = {**os.environ, "KILNWATCH_VAR_DIR": str(tmp_path), "KILNWATCH_DATABASE_URL": ""}
    with serve(env, tmp_path / "serve.log") as base:
        yield base


def test_serves_the_page_and_the_openapi_docs(served: str) -> None:
    page = httpx.get(served + "/")
    assert page.status_code == 200 and "两高" in page.text
    assert httpx.get(served + "/docs").status_code == 200
    spec = httpx.get(served + "/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "kilnwatch"
