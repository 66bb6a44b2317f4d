"""Browser sign-in: the session cookie, the language cookie and CSRF tokens.

The session cookie (``kw_session``) holds a random key; the server keeps the session
(:mod:`kilnwatch.store.repos.web_sessions`). It is ``HttpOnly``, ``SameSite=Lax`` and
``Secure`` outside development, and expires with the session (``Settings.session_ttl_s``).

CSRF: every form and every htmx request carries a token that is an HMAC of the session key
(synchronizer token; for the sign-in form, of a random pre-session cookie ``kw_pre``), checked
in constant time on every unsafe page request. A cross-site page can neither read the token
nor compute it without the server's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.identity import Principal, Role
from kilnwatch.store.audit import ACTOR_KEY
from kilnwatch.store.models import User
from kilnwatch.store.repos.web_sessions import find_session

SESSION_COOKIE = "kw_session"
PRE_COOKIE = "kw_pre"
LANG_COOKIE = "kw_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LANG_COOKIE_MAX_AGE_S = 365 * 86400


def principal_of(user: User) -> Principal:
    return Principal(user.username, Role(user.role), user.region_code, user.enterprise_id)


def csrf_token(settings: Settings, key: str) -> str:
    mac = hmac.new(settings.secret_key.encode(), f"csrf:{key}".encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_matches(settings: Settings, key: str | None, token: str | None) -> bool:
    if not key or not token:
        return False
    return hmac.compare_digest(csrf_token(settings, key), token)


def signed_in_user(request: Request, session: Session) -> tuple[User, str] | None:
    """The user of the request's session cookie and the session's language, or None.

    Cached on ``request.state`` so every dependency of one request shares one lookup.
    """
    if hasattr(request.state, "web_user"):
        cached: tuple[User, str] | None = request.state.web_user
        return cached
    key = request.cookies.get(SESSION_COOKIE)
    found = find_session(session, key) if key else None
    result = None if found is None else (found[1], found[0].locale)
    if result is not None:
        session.info[ACTOR_KEY] = result[0].username  # the audit trail's "who"
    request.state.web_user = result
    return result


def cookie_principal(request: Request, session: Session) -> Principal | None:
    """The principal of a signed-in browser, for read-only API calls from pages."""
    if request.method not in SAFE_METHODS:
        return None
    found = signed_in_user(request, session)
    return None if found is None else principal_of(found[0])


def set_session_cookie(response: Response, settings: Settings, key: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def pre_session_key(request: Request) -> tuple[str, bool]:
    """The pre-session key of the sign-in form, and whether it must be set as a cookie."""
    key = request.cookies.get(PRE_COOKIE)
    if key:
        return key, False
    return secrets.token_urlsafe(24), True


def set_pre_cookie(response: Response, settings: Settings, key: str) -> None:
    response.set_cookie(
        PRE_COOKIE, key, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def set_lang_cookie(response: Response, settings: Settings, locale: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=LANG_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
