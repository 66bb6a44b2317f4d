"""A small simulated province with project control, loaded through the real import path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.project_control import import_project_control
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim import SimParams, simulate_to_dir
from zone import SHANGHAI

PARAMS = SimParams(seed=5, enterprises=12, days=9, start=date(2025, 3, 1), interval_min=60,
                   output_format="csv")  # fmt: skip


@pytest.fixture(scope="session")
def sim_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("projects_sim")
    simulate_to_dir(PARAMS, out)
    return out


@pytest.fixture
def province(session: Session, sim_folder: Path) -> Session:
    import_folder(session, sim_folder, policy=ValidationPolicy(local_tz="Asia/Shanghai"))
    import_project_control(session, sim_folder / "projects", zone=SHANGHAI)
    session.commit()
    return session


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """Over https: outside development the cookies are ``Secure`` (TestClient keeps them)."""
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()
