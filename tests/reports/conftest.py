"""Fixtures of the report tests: the small province of ``report_data`` with its users."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_data import load_report_province
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.store.repos.users import add_user

PASSWORD = "long-password-1"


@pytest.fixture
def province(session: Session, tmp_path: Path) -> Session:
    """The province loaded, with a province user ``prov`` and a Jinan city user ``jn``."""
    load_report_province(session, tmp_path)
    add_user(session, "prov", PASSWORD, Role.PROVINCE, region_code="370000")
    add_user(session, "jn", PASSWORD, Role.CITY, region_code="370100")
    session.commit()
    return session
