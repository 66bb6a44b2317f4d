"""The HTTP status of each kind of error, shared by the API's error bodies and the HTML error
pages."""

from __future__ import annotations

from kilnwatch.errors import (
    AuthenticationError,
    InputError,
    KilnwatchError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SecretKeyError,
    UnavailableError,
)

STATUS: list[tuple[type[KilnwatchError], int]] = [
    (RateLimitedError, 429),  # before its base class, AuthenticationError
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (InputError, 422),
    (UnavailableError, 503),
    (SecretKeyError, 503),  # the server's key file, not the caller, needs fixing
]
