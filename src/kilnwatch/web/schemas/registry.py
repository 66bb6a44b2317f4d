"""Registry schemas: XCreate / XUpdate / XPublic, validated like the file importers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

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


def _one_of(table: Callable[[], Mapping[str, object]], what: str) -> AfterValidator:
    """A validator of a key of a reference table (an unknown key names the known ones)."""

    def check(v: str) -> str:
        if v not in table():
            raise ValueError(f"unknown {what}; one of {', '.join(table())}")
        return v

    return AfterValidator(check)


Industry = Annotated[str, _one_of(load_industries, "industry")]
Process = Annotated[str, _one_of(load_processes, "process")]


class EnterpriseBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    region_code: str
    industry: Industry
    status: EnterpriseStatus = "operating"

    @field_validator("region_code")
    @classmethod
    def _region(cls, v: str) -> str:
        if region_level(v) not in ("city", "county"):
            raise ValueError("must be the GB/T 2260 code of a city or county")
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
    industry: Industry | None = None


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
    process: Process
    capacity: float = Field(gt=0)
    capacity_unit: str
    commissioned_on: date | None = None
    status: UnitStatus = "operating"
    level_variant: str | None = Field(default=None, max_length=48)
    equipment: dict[str, float | str] | None = Field(
        default=None,
        description="equipment attributes (reference/programme/equipment_attributes.csv), "
        'e.g. {"sinter_machine_type": "belt"}',
    )


class UnitUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    capacity: float | None = Field(default=None, gt=0)
    status: UnitStatus | None = None
    equipment: dict[str, float | str] | None = Field(
        default=None, description="replaces the unit's equipment attributes ({} clears them)"
    )


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
    equipment: dict[str, float | str] | None = None


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
