"""Registry endpoints: regions, enterprises, units, meters, projects, gateways.

Handlers parse, call a repository and return a schema; scoping is done by the repositories.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region
from kilnwatch.store.repos import registry as repo
from kilnwatch.store.repos.scope import region_in_scope
from kilnwatch.web.deps import PrincipalDep, SessionDep, WriterDep
from kilnwatch.web.schemas.common import PageOf, page_of
from kilnwatch.web.schemas.registry import (
    EnterpriseCreate,
    EnterprisePublic,
    EnterpriseUpdate,
    GatewayPublic,
    MeterPublic,
    ProjectPublic,
    RegionPublic,
    UnitCreate,
    UnitPublic,
    UnitUpdate,
)

router = APIRouter(tags=["registry"])

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/regions")
def list_regions(
    session: SessionDep,
    principal: PrincipalDep,
    parent_code: str | None = None,
    level: str | None = None,
    offset: Offset = 0,
    limit: Limit = 200,
) -> PageOf[RegionPublic]:
    page = repo.list_regions(session, principal, parent_code, level, offset, limit)
    return PageOf[RegionPublic].model_validate(page_of(page, RegionPublic))


@router.get("/enterprises")
def list_enterprises(
    session: SessionDep,
    principal: PrincipalDep,
    region_code: str | None = None,
    industry: str | None = None,
    status: str | None = None,
    q: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[EnterprisePublic]:
    f = repo.EnterpriseFilter(region_code=region_code, industry=industry, status=status, q=q)
    page = repo.list_enterprises(session, principal, f, offset, limit)
    return PageOf[EnterprisePublic].model_validate(page_of(page, EnterprisePublic))


@router.get("/enterprises/{enterprise_id}")
def get_enterprise(
    session: SessionDep, principal: PrincipalDep, enterprise_id: int
) -> EnterprisePublic:
    return EnterprisePublic.model_validate(repo.get_enterprise(session, principal, enterprise_id))


@router.post("/enterprises", status_code=status.HTTP_201_CREATED)
def create_enterprise(
    session: SessionDep, principal: WriterDep, body: EnterpriseCreate
) -> EnterprisePublic:
    if session.get(Region, body.region_code) is None:
        raise InputError(f"unknown region {body.region_code}", field="region_code")
    if not region_in_scope(principal, body.region_code):
        raise PermissionDeniedError("the region is outside your jurisdiction")
    if repo.enterprise_by_uscc(session, body.uscc) is not None:
        raise InputError(f"an enterprise with uscc {body.uscc} exists", field="uscc")
    enterprise = Enterprise(**body.model_dump())
    session.add(enterprise)
    session.flush()
    return EnterprisePublic.model_validate(enterprise)


@router.patch("/enterprises/{enterprise_id}")
def update_enterprise(
    session: SessionDep, principal: WriterDep, enterprise_id: int, body: EnterpriseUpdate
) -> EnterprisePublic:
    enterprise = repo.get_enterprise(session, principal, enterprise_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(enterprise, name, value)
    session.flush()
    return EnterprisePublic.model_validate(enterprise)


def _list(
    model: type[Any],
    schema: type[Any],
    session: SessionDep,
    principal: PrincipalDep,
    offset: int,
    limit: int,
    **eq: Any,
) -> Any:
    page = repo.list_owned(session, principal, model, offset, limit, **eq)
    return PageOf[schema].model_validate(page_of(page, schema))  # type: ignore[valid-type]


@router.get("/units")
def list_units(
    session: SessionDep,
    principal: PrincipalDep,
    enterprise_id: int | None = None,
    process: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[UnitPublic]:
    eq = {"enterprise_id": enterprise_id, "process": process}
    result: PageOf[UnitPublic] = _list(
        ProductionUnit, UnitPublic, session, principal, offset, limit, **eq
    )
    return result


@router.get("/units/{unit_id}")
def get_unit(session: SessionDep, principal: PrincipalDep, unit_id: int) -> UnitPublic:
    return UnitPublic.model_validate(repo.get_owned(session, principal, ProductionUnit, unit_id))


@router.post("/units", status_code=status.HTTP_201_CREATED)
def create_unit(session: SessionDep, principal: WriterDep, body: UnitCreate) -> UnitPublic:
    try:
        repo.get_enterprise(session, principal, body.enterprise_id)
    except NotFoundError as exc:
        raise InputError("unknown enterprise", field="enterprise_id") from exc
    unit = ProductionUnit(**body.model_dump())
    session.add(unit)
    session.flush()
    return UnitPublic.model_validate(unit)


@router.patch("/units/{unit_id}")
def update_unit(
    session: SessionDep, principal: WriterDep, unit_id: int, body: UnitUpdate
) -> UnitPublic:
    unit = repo.get_owned(session, principal, ProductionUnit, unit_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(unit, name, value)
    session.flush()
    return UnitPublic.model_validate(unit)


@router.get("/meters")
def list_meters(
    session: SessionDep,
    principal: PrincipalDep,
    enterprise_id: int | None = None,
    unit_id: int | None = None,
    carrier: str | None = None,
    level: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[MeterPublic]:
    eq = {"enterprise_id": enterprise_id, "unit_id": unit_id, "carrier": carrier, "level": level}
    result: PageOf[MeterPublic] = _list(Meter, MeterPublic, session, principal, offset, limit, **eq)
    return result


@router.get("/meters/{meter_id}")
def get_meter(session: SessionDep, principal: PrincipalDep, meter_id: int) -> MeterPublic:
    return MeterPublic.model_validate(repo.get_owned(session, principal, Meter, meter_id))


@router.get("/projects")
def list_projects(
    session: SessionDep,
    principal: PrincipalDep,
    enterprise_id: int | None = None,
    stage: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[ProjectPublic]:
    eq = {"enterprise_id": enterprise_id, "stage": stage}
    result: PageOf[ProjectPublic] = _list(
        Project, ProjectPublic, session, principal, offset, limit, **eq
    )
    return result


@router.get("/gateways")
def list_gateways(
    session: SessionDep,
    principal: PrincipalDep,
    enterprise_id: int | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[GatewayPublic]:
    eq = {"enterprise_id": enterprise_id}
    result: PageOf[GatewayPublic] = _list(
        Gateway, GatewayPublic, session, principal, offset, limit, **eq
    )
    return result
