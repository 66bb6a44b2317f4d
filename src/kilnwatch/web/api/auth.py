"""Sign-in: exchange a username and password for a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select

from kilnwatch.errors import AuthenticationError, TotpRequiredError, TotpWrongError
from kilnwatch.identity import Principal, Role, issue_token, verify_secret
from kilnwatch.keyfile import key_file
from kilnwatch.store.models import User
from kilnwatch.store.repos.totp import check_second_factor, totp_enabled
from kilnwatch.store.repos.users import rehash_if_needed
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.throttle import (
    client_address,
    note_failure,
    note_success,
    refuse_if_throttled,
)

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Me(BaseModel):
    username: str
    role: str
    region_code: str | None
    enterprise_id: int | None


@router.post("/token")
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    totp: Annotated[str | None, Form(max_length=32)] = None,
) -> Token:
    """A bearer token for ``settings.token_ttl_s``; failures are throttled (web/throttle.py).

    A user with a second factor also sends ``totp`` (a current code or a recovery code):
    without it 401 ``auth.totp_required``, wrong or replayed 401 ``auth.totp_wrong`` (counted
    as a failed sign-in)."""
    refuse_if_throttled(session, settings, form.username, client_address(request))
    user = session.scalar(select(User).where(User.username == form.username))
    if user is None or not user.active or not verify_secret(form.password, user.password_hash):
        note_failure(request, form.username)
        raise AuthenticationError("wrong username or password")
    if totp_enabled(session, user.id):
        if not totp:
            raise TotpRequiredError("this account needs a second factor: send totp")
        if not check_second_factor(session, user.id, totp, key_file(settings.totp_key_path)):
            note_failure(request, form.username)
            raise TotpWrongError("wrong or already used second-factor code")
    note_success(session, user.username)
    rehash_if_needed(user, form.password)
    principal = Principal(user.username, Role(user.role), user.region_code, user.enterprise_id)
    return Token(access_token=issue_token(principal, settings.secret_key, settings.token_ttl_s))


@router.get("/me")
def me(principal: PrincipalDep) -> Me:
    return Me(
        username=principal.subject,
        role=principal.role.value,
        region_code=principal.region_code,
        enterprise_id=principal.enterprise_id,
    )
