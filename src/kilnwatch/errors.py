"""The one exception hierarchy of kilnwatch.

::

    KilnwatchError
     ├── ConfigError                 settings that cannot work (e.g. a default secret in production)
     ├── SecretKeyError              the key file kept outside the database is missing, malformed,
     │                               or not the key a stored secret was encrypted with
     ├── ReferenceDataError          a packaged reference table is missing or malformed
     ├── UnitError                   an unknown unit, or a conversion between incompatible units
     ├── UnknownCarrierError         an energy carrier key that no table defines
     ├── UnknownFieldError           an efficiency-level field key that no table defines
     ├── InputError                  bad input, located: file, row, field and reason
     │    └── ImportRejected         an all-or-nothing import refused; carries every InputError
     ├── NotFoundError               a registry object that does not exist (or is out of scope)
     ├── PermissionDeniedError       the caller may not do this
     ├── AuthenticationError         unknown user, gateway or device, or a wrong secret
     ├── ArchiveError                an archive of readings that does not match the database
     └── FrameError                  an HJ 212 frame that cannot be accepted; ``reason`` is a
                                     stable code (framing, length, crc, syntax, too_long)

Every error carries a stable dotted ``code`` so that callers, logs and API error bodies can
refer to it without parsing messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class KilnwatchError(Exception):
    """Base class of every error kilnwatch raises on purpose."""

    code: str = "kilnwatch.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigError(KilnwatchError):
    """Settings that cannot work, e.g. a default secret outside development; raised when the
    settings are built, before anything starts."""

    code = "config.invalid"


class SecretKeyError(KilnwatchError):
    """The key kept outside the database (``Settings.totp_key_file``) cannot open what the
    database holds: missing (``secrets.key_missing``), malformed or readable by anybody
    (``secrets.key_invalid``), not holding the key a value was encrypted with
    (``secrets.key_wrong``), or a value that does not decrypt under its key
    (``secrets.undecryptable``: the file's key or the stored value was altered)."""

    code = "secrets.key_missing"


class ReferenceDataError(KilnwatchError):
    """A packaged reference table is missing or malformed; the message names the file, the row
    and the column."""

    code = "reference.invalid"


class UnitError(KilnwatchError):
    """An unknown unit key, or a conversion between units of different dimensions
    (``t`` to ``kWh``); a quantity is never converted to zero instead."""

    code = "units.unknown_or_incompatible"


class UnknownCarrierError(KilnwatchError):
    """An energy carrier or fuel key that no reference table defines."""

    code = "energy.unknown_carrier"


class UnknownFieldError(KilnwatchError):
    """An efficiency-level field key that ``levels/fields.csv`` does not define."""

    code = "levels.unknown_field"


@dataclass(frozen=True)
class Location:
    """Where a bad value was found. ``row`` counts data rows from 1 after the header line,
    so a spreadsheet user finds it at line ``row + 1``."""

    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts) if parts else "input"


class InputError(KilnwatchError):
    """A value that cannot be accepted, with where it is and why."""

    code = "input.invalid"

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        self.location = Location(file, row, field)
        self.reason = reason
        super().__init__(f"{self.location}: {reason}", code=code)


class ImportRejected(InputError):
    """An all-or-nothing import was refused; ``errors`` lists every fault found."""

    code = "import.rejected"

    def __init__(self, errors: Sequence[InputError], *, file: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} invalid row(s); nothing was imported", file=file)


class NotFoundError(KilnwatchError):
    """A registry object that does not exist, or is outside the caller's scope."""

    code = "registry.not_found"


class PermissionDeniedError(KilnwatchError):
    """The caller is authenticated, but its role or jurisdiction does not allow the action
    (e.g. a region outside its jurisdiction, an enterprise user changing a finding)."""

    code = "auth.permission_denied"


class AuthenticationError(KilnwatchError):
    """An unknown user, gateway or device, or a wrong secret."""

    code = "auth.failed"


class TotpRequiredError(AuthenticationError):
    """The password was right; the account has a second factor and no code came with it."""

    code = "auth.totp_required"


class TotpWrongError(AuthenticationError):
    """The second-factor code was wrong, replayed or an already used recovery code."""

    code = "auth.totp_wrong"


class RateLimitedError(AuthenticationError):
    """Too many failed sign-ins for an account or from an address: wait ``retry_after_s``."""

    code = "auth.rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnavailableError(KilnwatchError):
    """A server the request needs did not answer in time (e.g. the ingest log): try again."""

    code = "service.unavailable"


class ArchiveError(KilnwatchError):
    """An archive file of readings that, read back, does not hold what the database holds (or
    a month already archived); the month's partition is kept (``store/archive.py``)."""

    code = "store.archive_mismatch"


class FrameError(KilnwatchError):
    """An HJ 212 frame that cannot be accepted.

    ``reason`` is one of ``framing``, ``length``, ``crc``, ``syntax``, ``too_long``.
    """

    code = "hj212.frame_invalid"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message, code=f"hj212.{reason}")


class NoConfirmedValueError(ReferenceDataError):
    """A reference figure the calculation needs exists as a row but has no confirmed value
    (e.g. a carrier whose standard-coal coefficient could not be sourced); the caller must
    supply a measured or official value explicitly."""

    code = "reference.no_confirmed_value"


def field_path(loc: Sequence[int | str]) -> str:
    """A field's path in a nested document: ``("devices", 0, "port")`` -> ``devices[0].port``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def rejected_fields(problems: Iterable[Mapping[str, Any]], file: str) -> ImportRejected:
    """Every problem of a validated document (pydantic's ``errors()``: ``loc`` and ``msg``) as
    one :class:`ImportRejected`, each fault named by its field path."""
    errors = [InputError(p["msg"], file=file, field=field_path(p["loc"])) for p in problems]
    return ImportRejected(errors, file=file)
