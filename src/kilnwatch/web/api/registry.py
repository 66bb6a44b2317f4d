"""Registry endpoints: regions, enterprises, units, meters, projects, gateways.

Handlers parse, call a repository and return a schema; scoping is done by the repositories.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from kilnwatch.domain.obsolete import check_equipment
from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region
from kilnwatch.store.repos import registry as repo
from kilnwatch.store.repos.scope import region_in_scope
from kilnwatch.web.deps import PrincipalDep, SessionDep, WriterDep
from kilnwatch.web.schemas.common import PageOf, page_of
from kilnwatch.web.schemas.registry import (
    EnterpriseCreate,
    EnterprisePublic,
    EnterprisesQuery,
    EnterpriseUpdate,
    GatewayPublic,
    MeterPublic,
    MetersQuery,
    OwnedQuery,
    ProjectPublic,
    ProjectsQuery,
    RegionPublic,
    RegionsQuery,
    UnitCreate,
    UnitPublic,
    UnitsQuery,
    UnitUpdate,
)

router = APIRouter(tags=["registry"])

S = TypeVar("S", bound=BaseModel)
R = TypeVar("R")


def _added(session: SessionDep, row: R) -> R:
    """``row`` added to the session and flushed (its id assigned)."""
    session.add(row)
    session.flush()
    return row


def _updated(session: SessionDep, row: R, body: BaseModel) -> R:
    """``row`` with the fields the request sets (a PATCH leaves the others), flushed."""
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(row, name, value)
    session.flush()
    return row


@router.get("/regions")
def list_regions(
    session: SessionDep, principal: PrincipalDep, query: Annotated[RegionsQuery, Query()]
) -> PageOf[RegionPublic]:
    page = repo.list_regions(
        session, principal, query.parent_code, query.level, query.offset, query.limit
    )
    return PageOf[RegionPublic].model_validate(page_of(page, RegionPublic))


@router.get("/enterprises")
def list_enterprises(
    session: SessionDep, principal: PrincipalDep, query: Annotated[EnterprisesQuery, Query()]
) -> PageOf[EnterprisePublic]:
    f = repo.EnterpriseFilter(**query.model_dump(exclude={"offset", "limit"}))
    page = repo.list_enterprises(session, principal, f, query.offset, query.limit)
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
    return EnterprisePublic.model_validate(_added(session, Enterprise(**body.model_dump())))


@router.patch("/enterprises/{enterprise_id}")
def update_enterprise(
    session: SessionDep, principal: WriterDep, enterprise_id: int, body: EnterpriseUpdate
) -> EnterprisePublic:
    enterprise = repo.get_enterprise(session, principal, enterprise_id)
    return EnterprisePublic.model_validate(_updated(session, enterprise, body))


def _owned_page(
    session: SessionDep, principal: PrincipalDep, model: Any, schema: type[S], query: OwnedQuery
) -> PageOf[S]:
    """A page of ``model`` rows in the caller's scope, filtered by the query's columns."""
    equals = query.model_dump(exclude={"offset", "limit"})
    page = repo.list_owned(session, principal, model, query.offset, query.limit, **equals)
    return PageOf[schema].model_validate(page_of(page, schema))  # type: ignore[valid-type]


@router.get("/units")
def list_units(
    session: SessionDep, principal: PrincipalDep, query: Annotated[UnitsQuery, Query()]
) -> PageOf[UnitPublic]:
    return _owned_page(session, principal, ProductionUnit, UnitPublic, query)


@router.get("/units/{unit_id}")
def get_unit(session: SessionDep, principal: PrincipalDep, unit_id: int) -> UnitPublic:
    return UnitPublic.model_validate(repo.get_owned(session, principal, ProductionUnit, unit_id))


@router.post("/units", status_code=status.HTTP_201_CREATED)
def create_unit(session: SessionDep, principal: WriterDep, body: UnitCreate) -> UnitPublic:
    try:
        repo.get_enterprise(session, principal, body.enterprise_id)
    except NotFoundError as exc:
        raise InputError("unknown enterprise", field="enterprise_id") from exc
    values = body.model_dump()
    values["equipment"] = _equipment(body.process, body.equipment)
    return UnitPublic.model_validate(_added(session, ProductionUnit(**values)))


def _equipment(process: str, values: dict[str, float | str] | None) -> dict[str, Any] | None:
    """Equipment attributes checked for the process (422 naming ``body.equipment.<name>``)."""
    try:
        return check_equipment(process, values or {}) or None
    except InputError as exc:
        raise InputError(exc.reason, field=f"body.{exc.location.field}") from exc


@router.patch("/units/{unit_id}")
def update_unit(
    session: SessionDep, principal: WriterDep, unit_id: int, body: UnitUpdate
) -> UnitPublic:
    unit = repo.get_owned(session, principal, ProductionUnit, unit_id)
    if "equipment" in body.model_fields_set:
        body.equipment = _equipment(unit.process, body.equipment)
    return UnitPublic.model_validate(_updated(session, unit, body))


@router.get("/meters")
def list_meters(
    session: SessionDep, principal: PrincipalDep, query: Annotated[MetersQuery, Query()]
) -> PageOf[MeterPublic]:
    return _owned_page(session, principal, Meter, MeterPublic, query)


@router.get("/meters/{meter_id}")
def get_meter(session: SessionDep, principal: PrincipalDep, meter_id: int) -> MeterPublic:
    return MeterPublic.model_validate(repo.get_owned(session, principal, Meter, meter_id))


@router.get("/projects")
def list_projects(
    session: SessionDep, principal: PrincipalDep, query: Annotated[ProjectsQuery, Query()]
) -> PageOf[ProjectPublic]:
    return _owned_page(session, principal, Project, ProjectPublic, query)


@router.get("/gateways")
def list_gateways(
    session: SessionDep, principal: PrincipalDep, query: Annotated[OwnedQuery, Query()]
) -> PageOf[GatewayPublic]:
    return _owned_page(session, principal, Gateway, GatewayPublic, query)
