"""HTML error pages (403, 404, 422, 500...) in the user's language, for page routes.

Rendered without a database session (the error may be the database's), so the language comes
from the language cookie; a page that needs a signed-in user redirects to the sign-in page.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from kilnwatch import __version__
from kilnwatch.errors import (
    AuthenticationError,
    ImportRejected,
    InputError,
    KilnwatchError,
    SecretKeyError,
)
from kilnwatch.web.i18n import pick_locale, translator
from kilnwatch.web.pages.kit import CsrfRejected, SignInRequired
from kilnwatch.web.pages.registry import nav_for
from kilnwatch.web.sessions import LANG_COOKIE
from kilnwatch.web.status import STATUS

_STATUS: list[tuple[type[KilnwatchError], int]] = [(CsrfRejected, 403), *STATUS]


def error_page(
    request: Request, status: int, code: str, details: list[dict[str, object]]
) -> Response:
    settings = request.app.state.settings
    locale = pick_locale(request.cookies.get(LANG_COOKIE), settings.default_locale)
    t = translator(locale)
    family = f"error.{code.split('.')[0]}"  # e.g. error.secrets: the key file, not the database
    if t.has(f"{family}.title"):
        key = family
    else:
        key = f"error.{status}" if t.has(f"error.{status}.title") else "error.other"
    context = {
        "t": t,
        "locale": locale,
        "tz": settings.timezone,
        "version": __version__,
        "principal": None,
        "user": None,
        "nav": nav_for(None),
        "csrf": "",
        "status": status,
        "code": code,
        "title": t(f"{key}.title"),
        "explanation": t(f"{key}.text"),
        "details": details,
        "elapsed_ms": lambda: 0.0,
        "tables": {},
    }
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "error.html", context, status_code=status
    )
    return response


def page_error_for(request: Request, exc: KilnwatchError) -> Response:
    if isinstance(exc, SignInRequired | AuthenticationError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
    status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
    details: list[dict[str, object]] = []
    if isinstance(exc, ImportRejected):
        details = [{"reason": e.message} for e in exc.errors]
    elif isinstance(exc, InputError | SecretKeyError):
        details = [{"reason": exc.message}]
    return error_page(request, status, exc.code, details)
