"""Map every error to the one error body (:class:`~kilnwatch.web.schemas.common.ErrorBody`)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from kilnwatch.errors import (
    AuthenticationError,
    ImportRejected,
    InputError,
    KilnwatchError,
    NotFoundError,
    PermissionDeniedError,
)

_STATUS: list[tuple[type[KilnwatchError], int]] = [
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (InputError, 422),
]


def error_response(
    status: int, code: str, message: str, details: list[dict[str, object]]
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _detail(e: InputError) -> dict[str, object]:
    loc = e.location
    return {"file": loc.file, "row": loc.row, "field": loc.field, "reason": e.reason}


async def _kilnwatch_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KilnwatchError)
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
    details: list[dict[str, object]] = []
    if isinstance(exc, ImportRejected):
        details = [_detail(e) for e in exc.errors]
    elif isinstance(exc, InputError):
        details = [_detail(exc)]
    return error_response(status, exc.code, exc.message, details)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, object]] = [
        {"field": ".".join(str(p) for p in err["loc"]), "reason": err["msg"]}
        for err in exc.errors()
    ]
    return error_response(422, "request.invalid", "the request is not valid", details)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, f"http.{exc.status_code}", str(exc.detail), [])


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return error_response(
        409, "registry.conflict", "conflicts with an existing record", [{"reason": reason}]
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KilnwatchError, _kilnwatch_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
