"""Registry schemas: XCreate / XUpdate / XPublic, validated like the file importers."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from kilnwatch.domain.identifiers import region_level, uscc_problem
from kilnwatch.reference.registry import load_industries, load_processes
from kilnwatch.web.schemas.common import PageQuery, PublicModel

EnterpriseStatus = Literal["operating", "production_controlled", "shut"]
UnitStatus = Literal["operating", "production_controlled", "shut", "eliminated"]


class RegionPublic(PublicModel):
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None


class EnterpriseBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    region_code: str
    industry: str
    status: EnterpriseStatus = "operating"

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if region_level(v) not in ("city", "county"):
            raise ValueError("must be the GB/T 2260 code of a city or county")
        return v

    @field_validator("industry")
    @classmethod
    def _industry(cls, v: str) -> str:
        if v not in load_industries():
            raise ValueError(f"unknown industry; one of {', '.join(load_industries())}")
        return v


class EnterpriseCreate(EnterpriseBase):
    uscc: str

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str) -> str:
        v = v.strip().upper()
        problem = uscc_problem(v)
        if problem:
            raise ValueError(f"invalid unified social credit code: {problem}")
        return v


class EnterpriseUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: EnterpriseStatus | None = None
    industry: str | None = None


class EnterprisePublic(PublicModel):
    id: int
    uscc: str
    name: str
    region_code: str
    industry: str
    status: str


class UnitCreate(BaseModel):
    enterprise_id: int
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    name: str = Field(min_length=1, max_length=200)
    process: str
    capacity: float = Field(gt=0)
    capacity_unit: str
    commissioned_on: date | None = None
    status: UnitStatus = "operating"
    level_variant: str | None = Field(default=None, max_length=48)

    @field_validator("process")
    @classmethod
    def _process(cls, v: str) -> str:
        if v not in load_processes():
            raise ValueError(f"unknown process; one of {', '.join(load_processes())}")
        return v


class UnitUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    capacity: float | None = Field(default=None, gt=0)
    status: UnitStatus | None = None


class UnitPublic(PublicModel):
    id: int
    enterprise_id: int
    code: str
    name: str
    process: str
    capacity: float
    capacity_unit: str
    commissioned_on: date | None
    status: str
    level_variant: str | None


class MeterPublic(PublicModel):
    id: int
    code: str
    enterprise_id: int
    unit_id: int | None
    carrier: str
    level: str
    parent_meter_id: int | None
    measurement: str
    unit_of_measure: str
    accuracy_class: str | None
    calibrated_on: date | None
    calibration_due_on: date | None
    gateway_id: int | None
    hj212_code: str | None


class ProjectPublic(PublicModel):
    id: int
    enterprise_id: int
    code: str
    name: str
    stage: str
    approval_state: str


class GatewayPublic(PublicModel):
    id: int
    code: str
    enterprise_id: int
    protocol: str
    mn: str | None
    active: bool


class RegionsQuery(PageQuery):
    parent_code: str | None = None
    level: str | None = None
    limit: int = Field(default=200, ge=1, le=500)


class EnterprisesQuery(PageQuery):
    region_code: str | None = None
    industry: str | None = None
    status: str | None = None
    q: str | None = None


class OwnedQuery(PageQuery):
    """Rows owned by enterprises (units, meters, projects, gateways): equality filters, each
    a column of the table."""

    enterprise_id: int | None = None


class UnitsQuery(OwnedQuery):
    process: str | None = None


class MetersQuery(OwnedQuery):
    unit_id: int | None = None
    carrier: str | None = None
    level: str | None = None


class ProjectsQuery(OwnedQuery):
    stage: str | None = None
