"""Integer parameters within what the database stores.

Python integers have no bound, but the ids the API passes to the store are ``INTEGER`` columns
(32-bit on PostgreSQL, 64-bit on SQLite) and offsets and limits go into ``OFFSET``/``LIMIT``: a
larger value in a path or query parameter fails inside the driver (``OverflowError`` on SQLite,
``integer out of range`` on PostgreSQL) and answered 500. One app-level dependency checks every
route's integer parameters against the narrower of the two, so a route added later cannot forget
it, and answers 422 naming the parameter.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

# PostgreSQL ``integer`` (the type of every id column): the narrowest integer the store holds
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def is_int_annotation(annotation: Any) -> bool:
    """``int``, ``int | None``, ``Optional[int]`` and ``Annotated[...]`` forms of them."""
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_int_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(is_int_annotation(a) for a in typing.get_args(annotation) if a is not type(None))
    return False


def integer_parameters(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """(``path``|``query``, name as sent) of each integer parameter of ``route``."""
    found: dict[tuple[str, str], None] = {}  # ordered, without repeats

    def walk(dependant: Dependant) -> None:
        for where, fields in (("path", dependant.path_params), ("query", dependant.query_params)):
            for f in fields:
                annotation = f.field_info.annotation
                if is_int_annotation(annotation):
                    found[(where, f.alias)] = None
                elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    # ``Annotated[PageQuery, Query()]``: one parameter, the model's fields sent
                    found.update(
                        {
                            (where, m.alias or name): None
                            for name, m in annotation.model_fields.items()
                            if is_int_annotation(m.annotation)
                        }
                    )
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)  # a few dozen fields: cheaper than any cache keyed on routes
    return tuple(found)


def _out_of_range(text: str) -> bool:
    try:
        value = int(text.strip())
    except ValueError:
        return False  # not a number: the parameter's own validation names it
    return not INT_MIN <= value <= INT_MAX


def reject_out_of_range_integers(request: Request) -> None:
    """422 ``request.invalid`` for an integer path or query parameter beyond 32 bits."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors: list[dict[str, Any]] = []
    for where, name in integer_parameters(route):
        values = (
            [request.path_params.get(name)]
            if where == "path"
            else request.query_params.getlist(name)
        )
        if any(v is not None and _out_of_range(str(v)) for v in values):
            errors.append(
                {
                    "type": "int_range",
                    "loc": (where, name),
                    "msg": f"must be an integer between {INT_MIN} and {INT_MAX}",
                    "input": values[0],
                }
            )
    if errors:
        raise RequestValidationError(errors)
