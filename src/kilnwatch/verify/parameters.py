"""The parameter values one verification run uses, and a record of which ones it read.

:class:`VerifySettings` is built by :func:`kilnwatch.verify.settings.verify_settings` from the
packaged table ``reference/verify_rules.csv``, the preset and a province override. Checks read
their parameters through :meth:`VerifySettings.value`; inside :func:`recording_reads` every
read is recorded, which is how the tests prove that no parameter of the table is read by no
code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kilnwatch.errors import ConfigError

Preset = Literal["default", "strict", "lenient"]
PRESETS: tuple[Preset, ...] = ("default", "strict", "lenient")
#: The group whose parameters every check may read as its own (``shared`` in the registry).
SHARED_GROUP = "verify"


@dataclass(frozen=True)
class ParameterRead:
    """One read: the code asked for, the row that answered (``code`` or the shared group)."""

    asked: str
    answered: str
    parameter: str


_READS: ContextVar[set[ParameterRead] | None] = ContextVar("verify_parameter_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[set[ParameterRead]]:
    """Record every parameter read in this context (the set fills as checks run)."""
    reads: set[ParameterRead] = set()
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


class VerifySettings(BaseModel):
    """Every tunable of verification; ``params[code][parameter] -> value``."""

    model_config = ConfigDict(frozen=True)

    preset: Preset = "default"
    params: Mapping[str, Mapping[str, float]] = Field(default_factory=dict)

    def value(self, code: str, parameter: str) -> float:
        """A parameter of check ``code``, falling back to the shared ``verify`` row."""
        for answered in (code, SHARED_GROUP):
            if parameter in self.params.get(answered, {}):
                reads = _READS.get()
                if reads is not None:
                    reads.add(ParameterRead(code, answered, parameter))
                return float(self.params[answered][parameter])
        raise ConfigError(f"no parameter {parameter!r} for rule {code}")

    def count(self, code: str, parameter: str) -> int:
        """An ``int`` parameter."""
        return int(self.value(code, parameter))

    def enabled(self, code: str) -> bool:
        return bool(self.value(code, "enabled"))
