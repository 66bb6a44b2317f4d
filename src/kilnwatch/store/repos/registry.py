"""Registry queries: list (scoped, filtered, paginated), get, add. Repos flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import NotFoundError
from kilnwatch.identity import Principal
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region
from kilnwatch.store.repos.scope import (
    enterprise_scope,
    owned_by_visible_enterprise,
    region_scope,
    visible_row,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    offset: int
    limit: int


def paginate(session: Session, stmt: Select[T], offset: int, limit: int) -> Page[T]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.offset(offset).limit(limit)).all()
    return Page(items=items, total=total, offset=offset, limit=limit)


@dataclass(frozen=True)
class EnterpriseFilter:
    region_code: str | None = None
    industry: str | None = None
    status: str | None = None
    q: str | None = None


def enterprises_query(principal: Principal, f: EnterpriseFilter) -> Select[Enterprise]:
    conds: list[ColumnElement[bool]] = [enterprise_scope(principal)]
    if f.region_code:
        conds.append(Enterprise.region_code.startswith(region_prefix(f.region_code)))
    if f.industry:
        conds.append(Enterprise.industry == f.industry)
    if f.status:
        conds.append(Enterprise.status == f.status)
    if f.q:
        conds.append(Enterprise.name.contains(f.q) | Enterprise.uscc.contains(f.q.upper()))
    return select(Enterprise).where(*conds).order_by(Enterprise.id)


def list_enterprises(
    session: Session, principal: Principal, f: EnterpriseFilter, offset: int = 0, limit: int = 50
) -> Page[Enterprise]:
    return paginate(session, enterprises_query(principal, f), offset, limit)


def get_enterprise(session: Session, principal: Principal, enterprise_id: int) -> Enterprise:
    row = session.scalar(
        select(Enterprise).where(Enterprise.id == enterprise_id, enterprise_scope(principal))
    )
    if row is None:
        raise NotFoundError(f"enterprise {enterprise_id} not found")
    return row


def enterprise_by_uscc(session: Session, uscc: str) -> Enterprise | None:
    return session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))


def enterprise_ids_by_uscc(session: Session) -> dict[str, int]:
    """Every registered enterprise's id by its credit code (unscoped: for importers).

    Parameters
    ----------
    session : Session
        The session the enterprises are read in (rows it has flushed count).

    Returns
    -------
    dict of str to int
        Unified social credit code -> ``enterprises.id``.
    """
    return dict(session.execute(select(Enterprise.uscc, Enterprise.id)).all())


def unit_ids_by_code(session: Session) -> dict[tuple[int, str], int]:
    """Every production unit's id by its enterprise and unit code (unscoped: for importers).

    Parameters
    ----------
    session : Session
        The session the units are read in.

    Returns
    -------
    dict of (int, str) to int
        ``(enterprise id, unit code)`` -> ``production_units.id``.
    """
    stmt = select(ProductionUnit.id, ProductionUnit.enterprise_id, ProductionUnit.code)
    return {(e, c): i for i, e, c in session.execute(stmt)}


def list_regions(
    session: Session,
    principal: Principal,
    parent_code: str | None = None,
    level: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> Page[Region]:
    conds: list[ColumnElement[bool]] = [region_scope(principal)]
    if parent_code:
        conds.append(Region.parent_code == parent_code)
    if level:
        conds.append(Region.level == level)
    return paginate(session, select(Region).where(*conds).order_by(Region.code), offset, limit)


def list_owned(
    session: Session,
    principal: Principal,
    model: type[ProductionUnit] | type[Meter] | type[Project] | type[Gateway],
    offset: int = 0,
    limit: int = 50,
    **equals: Any,
) -> Page[Any]:
    """List rows of a table owned by enterprises, scoped, with equality filters."""
    conds: list[ColumnElement[bool]] = [owned_by_visible_enterprise(model.enterprise_id, principal)]
    for name, value in equals.items():
        if value is not None:
            conds.append(getattr(model, name) == value)
    stmt: Select[Any] = select(model).where(*conds).order_by(model.id)
    return paginate(session, stmt, offset, limit)


def get_owned(
    session: Session,
    principal: Principal,
    model: type[ProductionUnit] | type[Meter] | type[Project] | type[Gateway],
    row_id: int,
) -> Any:
    return visible_row(session, model, row_id, principal, model.__tablename__)
