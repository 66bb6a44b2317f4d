"""Jurisdiction scoping: the ONE place that decides which rows a principal may see.

Every repository function that lists or fetches registry or data rows filters through
:func:`enterprise_scope` or :func:`region_scope`; API handlers never filter by role.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import NotFoundError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import Enterprise, Region


def enterprise_scope(principal: Principal) -> ColumnElement[bool]:
    """Condition on :class:`Enterprise` rows the principal may see."""
    if principal.sees_everything:
        return true()
    if principal.role is Role.ENTERPRISE:
        return Enterprise.id == (principal.enterprise_id or -1)
    return Enterprise.region_code.startswith(region_prefix(principal.region_code or "--"))


def visible_enterprise_ids(principal: Principal) -> Select[int]:
    return select(Enterprise.id).where(enterprise_scope(principal))


def owned_by_visible_enterprise(
    column: InstrumentedAttribute[int], principal: Principal
) -> ColumnElement[bool]:
    """Condition for any table with an ``enterprise_id`` column."""
    if principal.sees_everything:
        return true()
    return column.in_(visible_enterprise_ids(principal))


_Row = TypeVar("_Row")


def visible_row(
    session: Session, model: type[_Row], row_id: int, principal: Principal, label: str
) -> _Row:
    """The row ``row_id`` of ``model`` (a table with ``id`` and ``enterprise_id``) if the
    principal may see it, else :class:`NotFoundError` naming ``label``."""
    table: Any = model
    row = session.scalar(
        select(model).where(
            table.id == row_id, owned_by_visible_enterprise(table.enterprise_id, principal)
        )
    )
    if row is None:
        raise NotFoundError(f"{label} {row_id} not found")
    return row


def visible_unit_rows(
    session: Session,
    model: type[_Row],
    principal: Principal,
    unit_id: int | None,
    newest_first_by: InstrumentedAttribute[Any],
) -> list[_Row]:
    """Rows of ``model`` (a table with ``id``, ``enterprise_id`` and ``unit_id``) the principal
    may see, of one unit when ``unit_id`` is given, newest first by ``newest_first_by`` then
    by id."""
    table: Any = model
    stmt = select(model).where(owned_by_visible_enterprise(table.enterprise_id, principal))
    if unit_id is not None:
        stmt = stmt.where(table.unit_id == unit_id)
    return list(session.scalars(stmt.order_by(newest_first_by.desc(), table.id.desc())))


def region_scope(principal: Principal) -> ColumnElement[bool]:
    """Condition on :class:`Region` rows: a region user sees its region, the regions inside it
    and the ones above it (so a county user can name its city and province)."""
    if principal.sees_everything or principal.role is Role.ENTERPRISE:
        return true()
    code = principal.region_code or "--"
    prefix = region_prefix(code)
    ancestors = {code[:2] + "0000", code[:4] + "00"}
    return Region.code.startswith(prefix) | Region.code.in_(ancestors)


def region_in_scope(principal: Principal, region_code: str) -> bool:
    """Whether a record placed in ``region_code`` falls inside the principal's jurisdiction."""
    if principal.sees_everything:
        return True
    if principal.role is Role.ENTERPRISE or not principal.region_code:
        return False
    return region_code.startswith(region_prefix(principal.region_code))
