"""Helpers of the page tests: the password of their users, the CSRF token of a form, sign-in
through the form (fixtures ``province`` and ``client`` are in ``conftest.py``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "correct-horse-9"


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found[1]


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> None:
    token = csrf_token(client.get("/signin").text)
    r = client.post("/signin", data={"username": user, "password": password,
                                     "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
