"""Schemas of the project control API (``/api/v1/projects/…``, docs/projects.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class BlockerPublic(BaseModel):
    code: str
    message: str
    evidence: dict[str, Any]


class LedgerPublic(BaseModel):
    """A ledger: ``required = base × ratio``; committed and done sums; balance = committed −
    required (None: ratio unknown)."""

    base: float
    unit: str
    ratio: float | None
    required: float | None
    committed: float
    done: float
    balance: float | None
    balanced: bool
    fulfilled: bool
    prohibited: bool


class ProjectStatusPublic(BaseModel):
    id: int
    code: str
    name: str
    enterprise_uscc: str
    enterprise_name: str
    region_code: str
    stage: str
    region_class: str
    capacity: float | None
    capacity_unit: str | None
    replacement_kind: str | None
    coal_t_per_year: float | None
    approvals: dict[str, str]
    replacement: LedgerPublic | None
    coal: LedgerPublic | None
    next_stage: str | None
    blockers: list[BlockerPublic]


class StageRequest(BaseModel):
    stage: str = Field(description="the stage to enter (planned … operating, stopped)")


class StageResult(BaseModel):
    granted: bool
    blockers: list[BlockerPublic]
    project: ProjectStatusPublic


class WeeklyCreate(BaseModel):
    week: str = Field(description="ISO week, e.g. 2025-W10")
    city: str = Field(description="city code, e.g. 3703")


class SignatureCreate(BaseModel):
    department: str = Field(
        description="industry_it, development_reform, ecology_environment or statistics"
    )
    opinion: str = ""


class CorrectionCreate(BaseModel):
    uscc: str
    field: str = Field(description="output_t, energy_tce or coal_t")
    value: float


class SignaturePublic(BaseModel):
    department: str
    signer: str
    opinion: str
    signed_at: datetime


class WeeklyPublic(BaseModel):
    """A city's weekly joint report; ``id`` None when not generated yet (rows computed now)."""

    id: int | None
    city_code: str
    week: str
    status: str
    rows: list[dict[str, Any]]
    signatures: list[SignaturePublic]
    generated_at: datetime | None
    submitted_at: datetime | None


class CityWeekPublic(BaseModel):
    city_code: str
    name_zh: str
    name_en: str
    enterprises: int
    status: str
    signed: list[str]
    due_at: datetime
    submitted_at: datetime | None
    late: bool
    report_id: int | None
    differences: list[dict[str, Any]]
    breaches: list[dict[str, Any]]
