"""Map every error to the one error body (:class:`~kilnwatch.web.schemas.common.ErrorBody`)
for the API, and to an HTML page in the user's language for page routes (403, 404, 500...).

A request is a page request when its path is not under ``/api/``; a page that needs a
signed-in user redirects to the sign-in page instead of answering 401.
"""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from kilnwatch.errors import (
    ImportRejected,
    InputError,
    KilnwatchError,
    RateLimitedError,
    SecretKeyError,
)
from kilnwatch.store.outage import outage_code
from kilnwatch.web.status import STATUS

log = logging.getLogger(__name__)


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/static/")))


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, object]],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers or None)


def _detail(e: InputError) -> dict[str, object]:
    loc = e.location
    return {"file": loc.file, "row": loc.row, "field": loc.field, "reason": e.reason}


def _page_error(
    request: Request, status: int, code: str, details: list[dict[str, object]]
) -> Response:
    from kilnwatch.web.pages.errors import error_page

    return error_page(request, status, code, details)


SECRET_KEY_MESSAGE = (
    "the server cannot open the stored second-factor secrets (its key file); an operator must "
    "fix it: see the server log"
)
"""What a client is told of a :class:`SecretKeyError` (the log has the file and the key ids)."""


async def _kilnwatch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KilnwatchError)
    if isinstance(exc, SecretKeyError):
        log.error("%s: %s", exc.code, exc.message)
        exc = SecretKeyError(SECRET_KEY_MESSAGE, code=exc.code)
    if is_page_request(request):
        from kilnwatch.web.pages.errors import page_error_for

        return page_error_for(request, exc)
    status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
    details: list[dict[str, object]] = []
    if isinstance(exc, ImportRejected):
        details = [_detail(e) for e in exc.errors]
    elif isinstance(exc, InputError):
        details = [_detail(exc)]
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return error_response(status, exc.code, exc.message, details, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, object]] = [
        {"field": ".".join(str(p) for p in err["loc"]), "reason": err["msg"]}
        for err in exc.errors()
    ]
    if is_page_request(request):
        return _page_error(request, 422, "request.invalid", details)
    return error_response(422, "request.invalid", "the request is not valid", details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_page_request(request):
        return _page_error(request, exc.status_code, f"http.{exc.status_code}", [])
    return error_response(exc.status_code, f"http.{exc.status_code}", str(exc.detail), [])


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return error_response(
        409, "registry.conflict", "conflicts with an existing record", [{"reason": reason}]
    )


async def _data_error(request: Request, exc: Exception) -> Response:
    """A value the database column cannot hold (a number out of range, a text too long) that no
    validation caught: the client's input, so 422, never 500 (web/limits.py stops most earlier)."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    details: list[dict[str, object]] = [{"reason": reason}]
    if is_page_request(request):
        return _page_error(request, 422, "request.out_of_range", details)
    return error_response(422, "request.out_of_range", "a value is out of range", details)


STORE_RETRY_AFTER_S = 5
"""Retry-After of a 503 while the database is away (a restart takes seconds)."""


async def _store_error(request: Request, exc: Exception) -> Response:
    """The database away (restart, fail-over) or full: 503 with Retry-After, so that a gateway
    or a browser tries again; nothing of the request was committed. Any other operational
    error is a bug (500)."""
    code = outage_code(exc)
    if code is None:
        return await _unexpected_error(request, exc)
    log.warning("%s on %s %s: %s", code, request.method, request.url.path, exc.__class__.__name__)
    headers = {"Retry-After": str(STORE_RETRY_AFTER_S)}
    if is_page_request(request):
        response = _page_error(request, 503, code, [])
        response.headers.update(headers)
        return response
    message = "the database is not available; try again later"
    if code == "store.timeout":
        message = "the request ran longer than the database allows (statement timeout)"
    return error_response(503, code, message, [], headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback; the user sees a 500 page (or body) without details."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_page_request(request):
        return _page_error(request, 500, "server.error", [])
    return error_response(500, "server.error", "internal error; it has been logged", [])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KilnwatchError, _kilnwatch_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    for driver_error in (OperationalError, sqlite3.OperationalError, psycopg.OperationalError):
        app.add_exception_handler(driver_error, _store_error)  # bulk paths use raw cursors
    app.add_exception_handler(Exception, _unexpected_error)
