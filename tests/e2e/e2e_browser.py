"""Helpers of the browser tests: a simulated province served by a real ``kilnwatch serve`` and
headless Debian chromium driven by Playwright (the system executable; no browser download).

Every request of the browser to a host other than the server is blocked and recorded, so a
page that needs the internet fails the test that opened it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import need_server

CHROMIUM = os.environ.get("KILNWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "kilnwatch-demo"
ROOT = Path(__file__).parents[2]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def kilnwatch(*args: str, env: dict[str, str], log: Path, timeout: float) -> None:
    with log.open("ab") as out:
        done = subprocess.run([sys.executable, "-m", "kilnwatch.cli", *args], env=env,
                              stdout=out, stderr=subprocess.STDOUT, timeout=timeout)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"kilnwatch {' '.join(args)} failed: {log.read_text(errors='replace')[-3000:]}")


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kilnwatch.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def launch(playwright: Any, profile: Path) -> Any:
    need_server(Path(CHROMIUM).exists(), f"chromium at {CHROMIUM} (make test installs it)")
    shutil.rmtree(profile, ignore_errors=True)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class Session:
    """One browser context: blocks and records requests to anything but the server."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] | None = None) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900},
                                           locale="zh-CN")  # fmt: skip
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, user: str, password: str = PASSWORD) -> None:
        self.go("/signin")
        self.page.fill("#username", user)
        self.page.fill("#password", password)
        self.page.click("#signin-submit")
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"pages asked for other hosts: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"
