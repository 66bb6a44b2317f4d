"""The optional TOTP second factor (docs/security.md "Second factor"): the sign-in's second
step and the account page ``/account/totp`` (enrol with a confirming code, recovery codes shown
once, disable with password and code)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.errors import InputError
from kilnwatch.identity import Role, verify_secret
from kilnwatch.keyfile import KeyFile, key_file
from kilnwatch.store.models import User
from kilnwatch.store.repos.totp import (
    begin_enrolment,
    check_second_factor,
    confirm_enrolment,
    remove_totp,
    totp_enabled,
)
from kilnwatch.web.pages.kit import PageEnv, SignedIn, Visitor, page_router, redirect
from kilnwatch.web.pages.signin import (
    finish_signin,
    pending_user,
    safe_next,
    second_step,
    throttled,
)
from kilnwatch.web.throttle import note_failure

router = page_router()

CodeField = Annotated[str, Form(max_length=32)]
"""Six digits, or a recovery code (``abcde-fghjk``), as typed."""
PasswordField = Annotated[str, Form(max_length=256)]


@router.post("/signin/totp")
def signin_totp(
    env: Visitor,
    pending: Annotated[str, Form(max_length=2000)],
    code: CodeField,
    next: Annotated[str, Form()] = "",  # noqa: A002
) -> Response:
    """The second step: a current code (not one already used) or an unused recovery code."""
    username = pending_user(env, pending)
    if username is None:
        return redirect("/signin")
    context: dict[str, Any] = {"pending": pending, "next": safe_next(next) or ""}
    refused = throttled(env, username, "signin_totp.html", context)
    if refused is not None:
        return refused
    user = env.db.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        return redirect("/signin")
    if not check_second_factor(env.db, user.id, code, _keys(env)):
        note_failure(env.request, username)
        return second_step(env, user, safe_next(next) or "", env.t("totp.wrong"))
    return finish_signin(env, user, safe_next(next))


def _keys(env: PageEnv) -> KeyFile:
    """The key file of the TOTP secrets (``Settings.totp_key_file``)."""
    return key_file(env.settings.totp_key_path)


def _crumbs(env: PageEnv) -> list[tuple[str, str | None]]:
    return [(env.t("totp.title"), None)]


def _account(env: PageEnv) -> tuple[User, dict[str, Any]]:
    env.me  # noqa: B018 - signed in (SignedIn guarantees it; this narrows env.user)
    user = env.user
    assert user is not None
    context: dict[str, Any] = {
        "crumbs": _crumbs(env),
        "enabled": totp_enabled(env.db, user.id),
        "recommended": env.me.role is Role.PROVINCE,
    }
    return user, context


@router.get("/account/totp")
def totp_page(env: SignedIn) -> Response:
    _user, context = _account(env)
    return env.render("totp.html", context)


@router.post("/account/totp/start")
def totp_start(env: SignedIn) -> Response:
    """A new secret, shown this once with its ``otpauth://`` URI; not required until confirmed."""
    user, context = _account(env)
    try:
        context["secret"], context["uri"] = begin_enrolment(env.db, user, _keys(env))
    except InputError as exc:
        context["error"] = exc.reason
        return env.render("totp.html", context, status_code=409)
    return env.render("totp.html", context)


@router.post("/account/totp/confirm")
def totp_confirm(env: SignedIn, code: CodeField) -> Response:
    user, context = _account(env)
    try:
        context["recovery_codes"] = confirm_enrolment(env.db, user, code, _keys(env))
    except InputError as exc:
        context["error"] = env.t("totp.wrong") if exc.location.field == "code" else exc.reason
        return env.render("totp.html", context, status_code=422)
    context["enabled"] = True
    return env.render("totp.html", context)


@router.post("/account/totp/disable")
def totp_disable(env: SignedIn, password: PasswordField, code: CodeField) -> Response:
    """Password and a code (or a recovery code) first; failures count as failed sign-ins."""
    user, context = _account(env)
    refused = throttled(env, user.username, "totp.html", context)
    if refused is not None:
        return refused
    if not context["enabled"]:
        return redirect("/account/totp")
    if not verify_secret(password, user.password_hash) or not check_second_factor(
        env.db, user.id, code, _keys(env)
    ):
        note_failure(env.request, user.username)
        context["error"] = env.t("totp.wrong")
        return env.render("totp.html", context, status_code=401)
    remove_totp(env.db, user.username)
    context["enabled"], context["disabled"] = False, True
    return env.render("totp.html", context)
