"""Integer parameters within what the database stores.

Python integers have no bound, but the ids the API passes to the store are ``INTEGER`` columns
(32-bit on PostgreSQL, 64-bit on SQLite) and offsets and limits go into ``OFFSET``/``LIMIT``: a
larger value in a path or query parameter, or in an integer field of a JSON body, fails inside
the driver (``OverflowError`` on SQLite, ``integer out of range`` on PostgreSQL) and answered 500.
One app-level dependency checks every route's integer parameters and body fields against the
narrower of the two, so a route added later cannot forget it, and answers 422 naming the field.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

INSTANT_MIN = datetime.min + timedelta(days=1)
INSTANT_MAX = datetime.max - timedelta(days=1)
"""Date-times a zone conversion keeps in the calendar (any offset is under a day)."""
_DATETIME = TypeAdapter(datetime)
_DATE = TypeAdapter(date)

# PostgreSQL ``integer`` (the type of every id column): the narrowest integer the store holds
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def _is_annotation(annotation: Any, kind: type) -> bool:
    """``kind``, ``kind | None``, ``Optional[kind]`` and ``Annotated[...]`` forms of them."""
    if annotation is kind:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_annotation(typing.get_args(annotation)[0], kind)
    if origin in (typing.Union, types.UnionType):
        return any(
            _is_annotation(a, kind) for a in typing.get_args(annotation) if a is not type(None)
        )
    return False


def is_int_annotation(annotation: Any) -> bool:
    """``int``, ``int | None``, ``Optional[int]`` and ``Annotated[...]`` forms of them."""
    return _is_annotation(annotation, int)


def is_datetime_annotation(annotation: Any) -> bool:
    """``datetime`` or ``date`` and their optional and annotated forms."""
    return _is_annotation(annotation, datetime) or _is_annotation(annotation, date)


def _parameters(route: APIRoute, of_kind: Callable[[Any], bool]) -> tuple[tuple[str, str], ...]:
    """(``path``|``query``, name as sent) of each parameter of ``route`` whose annotation is
    ``of_kind``, the fields of a query model included."""
    found: dict[tuple[str, str], None] = {}  # ordered, without repeats

    def walk(dependant: Dependant) -> None:
        for where, fields in (("path", dependant.path_params), ("query", dependant.query_params)):
            for f in fields:
                annotation = f.field_info.annotation
                if of_kind(annotation):
                    found[(where, f.alias)] = None
                elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    # ``Annotated[PageQuery, Query()]``: one parameter, the model's fields sent
                    found.update(
                        {
                            (where, m.alias or name): None
                            for name, m in annotation.model_fields.items()
                            if of_kind(m.annotation)
                        }
                    )
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)  # a few dozen fields: cheaper than any cache keyed on routes
    return tuple(found)


def integer_parameters(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """(``path``|``query``, name as sent) of each integer parameter of ``route``."""
    return _parameters(route, is_int_annotation)


def instant_parameters(route: APIRoute) -> tuple[tuple[str, str], ...]:
    """(``path``|``query``, name as sent) of each date or date-time parameter of ``route``."""
    return _parameters(route, is_datetime_annotation)


def _instant_out_of_range(text: str) -> bool:
    """A date-time within a day of year 1 or year 9999: moving it to UTC or to the local zone
    leaves the calendar (``OverflowError`` in the driver, answered 500)."""
    try:
        value = _DATETIME.validate_python(text).replace(tzinfo=None)
    except ValidationError:
        try:  # a day: its local midnight is what the store is asked about
            value = datetime.combine(_DATE.validate_python(text), time())
        except ValidationError:
            return False  # not a date or date-time: the parameter's own validation names it
    return not INSTANT_MIN <= value <= INSTANT_MAX


def _out_of_range(text: str) -> bool:
    try:
        value = int(text.strip())
    except ValueError:
        return False  # not a number: the parameter's own validation names it
    return not INT_MIN <= value <= INT_MAX


def _beyond(value: Any) -> bool:
    """A JSON value that pydantic would take as an integer, outside the store's range."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not INT_MIN <= value <= INT_MAX
    if isinstance(value, float):
        return value.is_integer() and not INT_MIN <= value <= INT_MAX
    return isinstance(value, str) and _out_of_range(value)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model in ``M``, ``M | None``, ``Optional[M]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [_model_of(a) for a in typing.get_args(annotation) if a is not type(None)]
        return models[0] if len(models) == 1 else None
    return None


def _list_item(annotation: Any) -> Any:
    """The item type of ``list[X]`` (``None`` for anything else)."""
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None


def _body_errors(annotation: Any, value: Any, loc: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Locations of the integers in ``value`` (a decoded JSON body) beyond the store's range,
    following the integer fields of ``annotation`` (models, optionals, lists of either)."""
    if is_int_annotation(annotation):
        return [loc] if _beyond(value) else []
    item = _list_item(annotation)
    if item is not None:
        if not isinstance(value, list):
            return []
        return [e for i, v in enumerate(value) for e in _body_errors(item, v, (*loc, i))]
    model = _model_of(annotation)
    if model is None or not isinstance(value, dict):
        return []
    return [
        e
        for name, field in model.model_fields.items()
        if (key := field.alias or name) in value
        for e in _body_errors(field.annotation, value[key], (*loc, key))
    ]


async def _body_out_of_range(request: Request, route: APIRoute) -> list[tuple[Any, ...]]:
    """The JSON body's integer fields beyond the store's range (a form's fields are query-like
    text and come with the other parameters)."""
    params = route.dependant.body_params
    if not params or "json" not in request.headers.get("content-type", ""):
        return []
    try:
        body = await request.json()  # Starlette keeps the bytes: FastAPI reads them again
    except ValueError:
        return []  # not JSON: FastAPI's own validation says so
    if len(params) == 1 and not getattr(params[0].field_info, "embed", False):
        return _body_errors(params[0].field_info.annotation, body, ("body",))
    if not isinstance(body, dict):
        return []
    return [
        e
        for p in params
        if p.alias in body
        for e in _body_errors(p.field_info.annotation, body[p.alias], ("body", p.alias))
    ]


_INT_MESSAGE = f"must be an integer between {INT_MIN} and {INT_MAX}"
_PARAMETER_CHECKS = (
    (integer_parameters, _out_of_range, "int_range", _INT_MESSAGE),
    (instant_parameters, _instant_out_of_range, "datetime_range",
     f"must be between {INSTANT_MIN:%Y-%m-%d} and {INSTANT_MAX:%Y-%m-%d}"),
)  # fmt: skip


async def reject_out_of_range_values(request: Request) -> None:
    """422 ``request.invalid`` for an integer path or query parameter or an integer field of a
    JSON body beyond 32 bits, and for a date or date-time parameter at the calendar's ends."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    errors: list[dict[str, Any]] = []
    for parameters, beyond, kind, message in _PARAMETER_CHECKS:
        for where, name in parameters(route):
            values = (
                [request.path_params.get(name)]
                if where == "path"
                else request.query_params.getlist(name)
            )
            if any(v is not None and beyond(str(v)) for v in values):
                errors.append({"type": kind, "loc": (where, name), "msg": message,
                               "input": values[0]})  # fmt: skip
    for loc in await _body_out_of_range(request, route):
        errors.append(
            {
                "type": "int_range",
                "loc": loc,
                "msg": _INT_MESSAGE,
                "input": None,
            }
        )
    if errors:
        raise RequestValidationError(errors)
