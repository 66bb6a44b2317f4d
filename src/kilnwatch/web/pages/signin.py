"""Sign-in, sign-out, the language switch and the first-run page."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated, Any

import jwt
from fastapi import Form
from fastapi.responses import Response
from sqlalchemy import func, select

from kilnwatch.errors import InputError, RateLimitedError
from kilnwatch.identity import verify_secret
from kilnwatch.store.models import Enterprise, User
from kilnwatch.store.repos.totp import totp_enabled
from kilnwatch.store.repos.users import rehash_if_needed, set_password
from kilnwatch.store.repos.web_sessions import close_session, open_session, set_locale
from kilnwatch.web.i18n import pick_locale
from kilnwatch.web.pages.kit import PageEnv, SignedIn, Visitor, done, home_of, page_router, redirect
from kilnwatch.web.sessions import (
    SESSION_COOKIE,
    clear_session_cookie,
    set_lang_cookie,
    set_session_cookie,
)
from kilnwatch.web.throttle import (
    client_address,
    note_failure,
    note_success,
    refuse_if_throttled,
)

router = page_router()


def safe_next(target: str | None) -> str | None:
    """Only same-site paths (``/x``, not ``//host`` or ``http://``) are followed."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def throttled(
    env: PageEnv, username: str, template: str, context: dict[str, Any]
) -> Response | None:
    """The page with ``auth.rate_limited`` (429, ``Retry-After``) when over a limit, else None."""
    try:
        refuse_if_throttled(env.db, env.settings, username, client_address(env.request))
    except RateLimitedError as exc:
        minutes = max(1, round(exc.retry_after_s / 60))
        context["error"] = env.t("auth.rate_limited", minutes=minutes)
        response = env.render(template, context, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    return None


@router.get("/signin")
def signin_form(env: Visitor, next: str | None = None) -> Response:  # noqa: A002
    if env.principal is not None:
        return redirect(safe_next(next) or home_of(env.principal))
    hours = env.settings.session_ttl_s // 3600
    context = {"next": safe_next(next) or "", "session_hours": hours}
    return env.render("signin.html", context)


@router.post("/signin")
def signin(
    env: Visitor,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "",  # noqa: A002
) -> Response:
    username = username.strip()
    context = {"username": username, "next": safe_next(next),
               "session_hours": env.settings.session_ttl_s // 3600}  # fmt: skip
    refused = throttled(env, username, "signin.html", context)
    if refused is not None:
        return refused
    user = env.db.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_secret(password, user.password_hash):
        note_failure(env.request, username)
        context["error"] = env.t("auth.wrong")
        return env.render("signin.html", context, status_code=401)
    rehash_if_needed(user, password)
    if totp_enabled(env.db, user.id):
        return second_step(env, user, safe_next(next) or "")
    return finish_signin(env, user, safe_next(next))


PENDING_TTL_S = 300
"""How long the password step stays good for the second step (5 minutes)."""


def _pending_key(secret_key: str) -> bytes:
    # A key of its own: a pending token is never a bearer token (identity.read_token).
    return hmac.new(secret_key.encode(), b"kilnwatch.totp-pending", hashlib.sha256).digest()


def _pending_token(env: PageEnv, username: str) -> str:
    claims = {"sub": username, "exp": int(time.time()) + PENDING_TTL_S}
    return jwt.encode(claims, _pending_key(env.settings.secret_key), algorithm="HS256")


def pending_user(env: PageEnv, token: str) -> str | None:
    try:
        claims = jwt.decode(token, _pending_key(env.settings.secret_key), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None


def second_step(env: PageEnv, user: User, next_path: str, error: str | None = None) -> Response:
    context = {"pending": _pending_token(env, user.username), "next": next_path, "error": error}
    return env.render("signin_totp.html", context, status_code=401 if error else 200)


def finish_signin(env: Visitor, user: User, next_path: str | None) -> Response:
    """Every factor checked: forget the failures, open the browser session, go on."""
    note_success(env.db, user.username)
    key = open_session(env.db, user, env.locale, env.settings.session_ttl_s)
    from kilnwatch.web.sessions import principal_of

    response = done(env, next_path or home_of(principal_of(user)))
    set_session_cookie(response, env.settings, key)
    return response


@router.post("/signout")
def signout(env: Visitor) -> Response:
    key = env.request.cookies.get(SESSION_COOKIE)
    if key:
        close_session(env.db, key)
    response = done(env, "/signin")
    clear_session_cookie(response, env.settings)
    return response


@router.get("/lang")
def switch_language(env: Visitor, to: str, next: str | None = None) -> Response:  # noqa: A002
    locale = pick_locale(to, env.settings.default_locale)
    key = env.request.cookies.get(SESSION_COOKIE)
    if key and env.principal is not None:
        set_locale(env.db, key, locale)
    response = done(env, safe_next(next) or "/")
    set_lang_cookie(response, env.settings, locale)
    return response


def database_is_empty(env: Visitor) -> bool:
    return not env.db.scalar(select(func.count(Enterprise.id)))


@router.get("/welcome")
def welcome(env: Visitor) -> Response:
    return env.render("welcome.html", {"crumbs": [(env.t("welcome.title"), None)]})


@router.get("/account/password")
def password_form(env: SignedIn) -> Response:
    return env.render("password.html", {"crumbs": [(env.t("auth.change_password"), None)]})


@router.post("/account/password")
def change_password(
    env: SignedIn,
    current: Annotated[str, Form(max_length=256)],
    new: Annotated[str, Form(max_length=256)],
    repeat: Annotated[str, Form(max_length=256)],
) -> Response:
    """The signed-in user's own change: the current password first (throttled like a sign-in),
    then every browser session of the user is closed, this one included."""
    env.me  # noqa: B018 - signed in (SignedIn guarantees it; this narrows env.user)
    user = env.user
    assert user is not None
    context: dict[str, object] = {"crumbs": [(env.t("auth.change_password"), None)]}
    refused = throttled(env, user.username, "password.html", context)
    if refused is not None:
        return refused
    if not verify_secret(current, user.password_hash):
        note_failure(env.request, user.username)
        context["error"] = env.t("auth.wrong")
        return env.render("password.html", context, status_code=401)
    if new != repeat:
        context["error"] = env.t("auth.password_mismatch")
        return env.render("password.html", context, status_code=422)
    try:
        set_password(env.db, user.username, new)
    except InputError as exc:
        context["error"] = exc.reason
        return env.render("password.html", context, status_code=422)
    response = redirect("/signin")
    clear_session_cookie(response, env.settings)
    return response


@router.get("/me")
def me(env: SignedIn) -> Response:
    return redirect(home_of(env.me))
