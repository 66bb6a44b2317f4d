"""``kilnwatch serve`` as a user runs it: a real uvicorn process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "KILNWATCH_VAR_DIR": str(tmp_path), "KILNWATCH_DATABASE_URL": ""}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kilnwatch.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.kill()
            proc.wait()
            pytest.fail(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serves_the_page_and_the_openapi_docs(served: str) -> None:
    page = httpx.get(served + "/")
    assert page.status_code == 200 and "两高" in page.text
    assert httpx.get(served + "/docs").status_code == 200
    spec = httpx.get(served + "/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "kilnwatch"
