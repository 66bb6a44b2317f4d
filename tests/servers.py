"""Reachability of the real servers tests use; under ``CI=true`` a missing one fails, never skips.

A module of its own (not ``conftest``) so that test modules can import it by a unique name.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_server(reachable: bool, what: str) -> None:
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{what} is not reachable, and under CI tests must not skip")
    pytest.skip(f"{what} is not reachable")
