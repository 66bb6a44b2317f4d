"""Schemas of the project control API (``/api/v1/projects/…``, docs/projects.md).

The province's week (:class:`~kilnwatch.projects.weekly.CityWeek`) and a day's dispatch
(:class:`~kilnwatch.projects.dispatch.ProjectDay`, ``CarrierDay``, ``CityDay``) are served as
the services' own records, not copied field by field into schemas here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from kilnwatch.projects.dispatch import CityDay, ProjectDay
from kilnwatch.web.schemas.common import PublicModel


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


class DispatchPublic(BaseModel):
    day: date
    cities: list[CityDay]
    projects: list[ProjectDay]


class DispatchEntryCreate(BaseModel):
    project_id: int
    day: date
    carrier: str = Field(description="a carrier key or product:<name> no meter measures")
    quantity: float
    unit: str


class FollowUpCreate(BaseModel):
    item: str
    requirement: str
    due_on: date


class VisitCreate(BaseModel):
    visited_on: date
    inspectors: str
    checklist: dict[str, str] = Field(description="item → ok | not_ok | na")
    findings: str = ""
    follow_ups: list[FollowUpCreate] = []


class FollowUpPublic(PublicModel):
    item: str
    requirement: str
    due_on: date
    status: str
    rectification_ref: str | None


class VisitPublic(PublicModel):
    id: int
    month: str
    visited_on: date
    inspectors: str
    checklist: dict[str, str]
    findings: str
    photos: list[str]
    recorded_by: str
    follow_ups: list[FollowUpPublic]


class CapUsePublic(BaseModel):
    enterprise_uscc: str
    enterprise_name: str
    period: str
    product: str
    output_t: float | None
    energy_tce: float | None
    coal_t: float | None
    used_output_t: float | None
    used_energy_tce: float
    used_coal_t: float
    elapsed_fraction: float
    breaches: list[str]


class CapCreate(BaseModel):
    enterprise_id: int
    period: str
    product: str
    output_t: float | None = None
    energy_tce: float | None = None
    coal_t: float | None = None
    document_no: str = ""


class SupervisorCreate(BaseModel):
    enterprise_id: int
    name: str
    department: str
    assigned_on: date
    username: str | None = None


class SupervisorPublic(BaseModel):
    id: int
    enterprise_id: int
    name: str
    username: str | None
    department: str
    assigned_by_region: str
    assigned_on: date
    ended_on: date | None


class LogCreate(BaseModel):
    week: str
    days_on_site: int
    observed_output_t: float | None = None
    production_normal: bool = True
    notes: str = ""


class LogPublic(BaseModel):
    id: int
    supervisor_id: int
    week: str
    days_on_site: int
    observed_output_t: float | None
    production_normal: bool
    notes: str
    written_by: str
