"""Schemas shared by every router: error bodies and pages."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ErrorDetail(BaseModel):
    field: str | None = None
    row: int | None = None
    file: str | None = None
    reason: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorInfo


class PublicModel(BaseModel):
    """A response schema (``XPublic``) read from an object's attributes: an ORM row or a
    service's dataclass."""

    model_config = ConfigDict(from_attributes=True)


class PageQuery(BaseModel):
    """The ``offset`` and ``limit`` query parameters of a listing; a listing's own filters
    extend it (``Annotated[XsQuery, Query()]``)."""

    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=500)


PageParams = Annotated[PageQuery, Query()]
"""A listing's ``offset`` and ``limit`` as a handler parameter (``page: PageParams``)."""


class PageOf(BaseModel, Generic[T]):
    model_config = ConfigDict(from_attributes=True)

    items: list[T]
    total: int
    offset: int
    limit: int


def page_of(page: Any, schema: type[BaseModel]) -> dict[str, Any]:
    return {
        "items": [schema.model_validate(i, from_attributes=True) for i in page.items],
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
    }
