"""The register's stage filter refuses an unknown stage with its name, never a 500 (found by
the long OpenAPI fuzz: ``GET /api/v1/projects/register?stage=0.1.0``)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.identity import Principal, Role
from kilnwatch.projects.register import list_projects

ADMIN = Principal(subject="t", role=Role.ADMIN)


def test_an_unknown_stage_is_an_input_error_on_stage(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(InputError) as info:
            list_projects(session, ADMIN, stage="0.1.0")
        assert info.value.location.field == "stage" and "planned" in info.value.reason
        assert list_projects(session, ADMIN, stage="planned") == []
        assert list_projects(session, ADMIN, stage="new") == []  # the first format's name
