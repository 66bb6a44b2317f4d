"""What every page handler uses: the page environment (who, language, CSRF token, timing),
the router with CSRF protection, and ``env.render`` (HTML, or the CSV twin of a table).

Handlers are thin: they parse parameters, call a service, and render a template with tables.
Scoping is done by the repositories (``store/repos/scope.py``) with ``env.principal``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kilnwatch import __version__
from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import User
from kilnwatch.store.repos.figures import period_fingerprint
from kilnwatch.web.deps import SessionDep, SettingsDep
from kilnwatch.web.i18n import Translator, pick_locale, translator
from kilnwatch.web.pages.registry import admin_only, nav_for
from kilnwatch.web.pages.tables import Table, csv_response, table_html
from kilnwatch.web.services.cache import version_of
from kilnwatch.web.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANG_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    csrf_matches,
    csrf_token,
    pre_session_key,
    principal_of,
    signed_in_user,
)

T = TypeVar("T")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
"""Pages load nothing from elsewhere and run no inline script (ECharts and htmx set styles)."""


class SignInRequired(KilnwatchError):
    """A page that needs a signed-in user was asked for without one (redirect to sign-in)."""

    code = "auth.sign_in_required"


class CsrfRejected(KilnwatchError):
    code = "auth.csrf"


@dataclass
class PageEnv:
    """One page request: the signed-in user (if any), language, CSRF token and a timer."""

    request: Request
    db: Session
    settings: Settings
    principal: Principal | None
    user: User | None
    locale: str
    t: Translator
    csrf_key: str
    new_pre_key: bool
    started: float = field(default_factory=time.perf_counter)

    @property
    def tz(self) -> str:
        return self.settings.timezone

    @property
    def csrf(self) -> str:
        return csrf_token(self.settings, self.csrf_key)

    @property
    def me(self) -> Principal:
        if self.principal is None:
            raise SignInRequired("sign in first")
        return self.principal

    def name(self, zh: str, en: str | None) -> str:
        """A bilingual name in the user's language (zh when no English name is known)."""
        return (en or zh) if self.t.is_en else zh

    @property
    def scope_key(self) -> tuple[str, str | None, int | None]:
        p = self.me
        return (p.role.value, p.region_code, p.enterprise_id)

    def cached(
        self, key: Hashable, compute: Callable[[], T], period: Any = None, keep: bool = False
    ) -> T:
        """``compute()`` once per data version (see :mod:`kilnwatch.web.services.cache`); a
        figure of one ``period`` (a domain ``Period``) is kept across versions while the data
        of that period is unchanged; a ``keep`` figure is never evicted for room."""
        cache = self.request.app.state.figure_cache
        mark = None
        if period is not None:
            mark = lambda: period_fingerprint(self.db, period.start, period.end)  # noqa: E731
        version = version_of(self.request.state, self.db)
        result: T = cache.get(key, version, compute, mark, keep)
        return result

    def require(self, allowed: bool, reason: str) -> None:
        if not allowed:
            raise PermissionDeniedError(reason)

    def require_admin(self) -> None:
        """Refuse (403) anyone but an administrator, as the pages under ``/admin`` do."""
        self.require(admin_only(self.me), "administrators only")

    def url_with(self, **params: Any) -> str:
        """The current URL with some query parameters replaced (None removes one)."""
        query = dict(self.request.query_params)
        for k, v in params.items():
            if v is None:
                query.pop(k, None)
            else:
                query[k] = str(v)
        return f"{self.request.url.path}?{urlencode(query)}" if query else self.request.url.path

    def render(
        self,
        template: str,
        context: dict[str, Any] | None = None,
        tables: Sequence[Table] = (),
        status_code: int = 200,
    ) -> Response:
        """The page as HTML, or, with ``?format=csv``, the CSV of one of its tables."""
        query = self.request.query_params
        if query.get("format") == "csv":
            return csv_response(tables, query.get("table"), self.t, self.tz)
        ctx = self.base_context()
        ctx.update(context or {})
        ctx["tables"] = {tb.id: tb for tb in tables}
        templates = self.request.app.state.templates
        response: HTMLResponse = templates.TemplateResponse(
            self.request, template, ctx, status_code=status_code
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.new_pre_key:
            from kilnwatch.web.sessions import set_pre_cookie

            set_pre_cookie(response, self.settings, self.csrf_key)
        return response

    def base_context(self) -> dict[str, Any]:
        return {
            "env": self,
            "t": self.t,
            "locale": self.locale,
            "tz": self.tz,
            "version": __version__,
            "principal": self.principal,
            "user": self.user,
            "nav": nav_for(self.principal),
            "csrf": self.csrf,
            "elapsed_ms": lambda: (time.perf_counter() - self.started) * 1000.0,
            "table": lambda tb: table_html(
                tb, self.t, self.tz, self.url_with(format="csv", table=tb.id)
            ),
        }


def page_env(request: Request, db: SessionDep, settings: SettingsDep) -> PageEnv:
    found = signed_in_user(request, db)
    user, session_locale = found if found else (None, None)
    locale = pick_locale(
        request.cookies.get(LANG_COOKIE) or session_locale, settings.default_locale
    )
    if user is not None:
        key, new = request.cookies.get(SESSION_COOKIE, ""), False
    else:
        key, new = pre_session_key(request)
    return PageEnv(
        request=request,
        db=db,
        settings=settings,
        principal=principal_of(user) if user else None,
        user=user,
        locale=locale,
        t=translator(locale),
        csrf_key=key,
        new_pre_key=new,
    )


Visitor = Annotated[PageEnv, Depends(page_env)]


def signed_in_env(env: Visitor) -> PageEnv:
    env.me  # noqa: B018 - raises SignInRequired when nobody is signed in
    return env


SignedIn = Annotated[PageEnv, Depends(signed_in_env)]


async def check_csrf(request: Request, env: Visitor) -> None:
    """Refuse an unsafe page request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not csrf_matches(env.settings, env.csrf_key, token):
        raise CsrfRejected("the form has expired or did not come from this site; reload it")


def page_router() -> APIRouter:
    """A router for pages: not in the OpenAPI document, CSRF-checked on every unsafe method."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def done(env: PageEnv, url: str) -> RedirectResponse:
    """Commit the request's writes, then redirect (post/redirect/get): the browser's next
    request must see them, and the request dependency may commit after the response."""
    env.db.commit()
    return redirect(url)


def refused(env: PageEnv, page: Callable[[], Response]) -> Response:
    """Roll back the request's writes, then the form's page again with status 422: the page is
    built after the rollback, so it reads what is stored, not the refused change."""
    env.db.rollback()
    response = page()
    response.status_code = 422
    return response


def home_of(principal: Principal) -> str:
    """Where a user lands: the province, their city or county, or their enterprise."""
    if principal.role is Role.ENTERPRISE and principal.enterprise_id:
        return f"/enterprises/{principal.enterprise_id}"
    code = principal.region_code or ""
    if principal.role is not Role.ADMIN and code and not code.endswith("0000"):
        return f"/regions/{code}"
    return "/"
