"""Request dependencies: settings, the unit of work, the calling principal, and periods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.domain.periods import PERIOD_FORMS, Period, parse_period
from kilnwatch.errors import AuthenticationError, PermissionDeniedError
from kilnwatch.identity import Principal, read_token
from kilnwatch.store.audit import ACTOR_KEY
from kilnwatch.store.engine import unit_of_work
from kilnwatch.store.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request (:func:`~kilnwatch.store.engine.unit_of_work`): committed
    when the handler returns, rolled back on error."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PeriodText = Annotated[str, Query(description=f"A period: {PERIOD_FORMS}.")]


def get_period(settings: SettingsDep, period: PeriodText) -> Period:
    """The ``period`` query parameter in ``Settings.timezone`` (422 naming it when invalid)."""
    return parse_period(period, settings.zone)


def get_optional_period(settings: SettingsDep, period: PeriodText | None = None) -> Period | None:
    """:func:`get_period` for a filter that may be left out."""
    return None if period is None else parse_period(period, settings.zone)


PeriodDep = Annotated[Period, Depends(get_period)]
OptionalPeriodDep = Annotated[Period | None, Depends(get_optional_period)]


def get_principal(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        from kilnwatch.web.sessions import cookie_principal

        # a signed-in browser may read the API (pages' charts); writes need a token
        if (principal := cookie_principal(request, session)) is not None:
            return principal
        raise AuthenticationError("sign in first: send 'Authorization: Bearer <token>'")
    principal = read_token(token, settings.secret_key)
    active = session.scalar(select(User.active).where(User.username == principal.subject))
    if not active:
        raise AuthenticationError("the user no longer exists or is disabled")
    session.info[ACTOR_KEY] = principal.subject  # the audit trail's "who"
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_registry_writer(principal: PrincipalDep) -> Principal:
    if not principal.may_write_registry:
        raise PermissionDeniedError(f"a {principal.role.value} user may not change the registry")
    return principal


WriterDep = Annotated[Principal, Depends(require_registry_writer)]
