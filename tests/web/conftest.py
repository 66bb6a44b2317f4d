"""Fixtures of the page tests: a small province with users of every kind, and a client over
https (outside development the session cookie is ``Secure``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages_support import PASSWORD
from sqlalchemy import Engine, func, select

from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, FindingRecord, Meter, Reading
from kilnwatch.store.repos.users import add_user
from kilnwatch.store.rollups.recompute import refresh_rollup_ranges
from kilnwatch.verify.run import verify_period

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
from _verify_factory import MARCH, Plant, store  # noqa: E402

from zone import SHANGHAI  # noqa: E402


@pytest.fixture
def province(engine: Engine) -> dict[str, int]:
    """One cement plant in Jinan with a month of hourly data and findings; an empty Qingdao
    enterprise; users of every kind."""
    with unit_of_work(make_session_factory(engine)) as session:
        plant = Plant()
        plant.stats["energy:raw_coal"] *= 0.85
        ent = store(session, plant)
        span = session.execute(
            select(Reading.meter_id, func.min(Reading.ts), func.max(Reading.ts)).group_by(
                Reading.meter_id
            )
        ).all()
        kinds = dict(session.execute(select(Meter.id, Meter.measurement)).all())
        refresh_rollup_ranges(session, {m: (a, b) for m, a, b in span}, kinds, SHANGHAI)
        other = Enterprise(uscc="91370200163562681G", name="青岛焦化", region_code="370211",
                           industry="coking")  # fmt: skip
        session.add(other)
        session.flush()
        verify_period(session, MARCH)
        add_user(session, "admin", PASSWORD, Role.ADMIN)
        add_user(session, "sd", PASSWORD, Role.PROVINCE, region_code="370000")
        add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
        add_user(session, "qingdao", PASSWORD, Role.CITY, region_code="370200")
        add_user(session, "ent", PASSWORD, Role.ENTERPRISE, enterprise_uscc="91370100MA3C4XYZ1Q")
        meter = session.scalar(select(Meter.id).where(Meter.code == "E-IN-ELE"))
        finding = session.scalar(select(FindingRecord.id).order_by(FindingRecord.id))
        return {"ent": ent, "other": other.id, "meter": meter or 0, "finding": finding or 0}


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """Over https: outside development the cookies are ``Secure`` (TestClient keeps them)."""
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()
