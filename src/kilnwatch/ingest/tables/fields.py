"""Typed field parsers for one table row, collecting every fault instead of stopping at the first.

Each parser returns the field's value (or a neutral one when it is faulty) and records a
located :class:`~kilnwatch.errors.InputError` (file, row, field, reason) for each fault, so that
one pass over a file reports all of them. The value types are those of docs/formats.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Iterable
from datetime import date

from kilnwatch.domain.identifiers import uscc_problem
from kilnwatch.domain.units import unit_def
from kilnwatch.errors import InputError, UnitError

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class TableRow:
    """Field accessors for data row ``number`` (from 1) of ``file``; faults go to ``errors``."""

    def __init__(self, file: str, number: int, raw: dict[str, str]) -> None:
        self.file, self.number, self.raw = file, number, raw
        self.errors: list[InputError] = []

    def fail(self, name: str, reason: str) -> None:
        """Record a fault of field ``name``."""
        self.errors.append(InputError(reason, file=self.file, row=self.number, field=name))

    def optional(self, name: str) -> str | None:
        """The text of an optional field, None when empty."""
        return self.raw.get(name, "") or None

    def text(self, name: str, *, required: bool = True, max_len: int = 200) -> str:
        """Text of at most ``max_len`` characters."""
        value = self.raw.get(name, "")
        if required and not value:
            self.fail(name, "is required")
        elif len(value) > max_len:
            self.fail(name, f"longer than {max_len} characters")
        return value

    def key(self, name: str, *, required: bool = True) -> str:
        """A code: letters, digits, ``_ . -``, at most 64 characters."""
        value = self.text(name, required=required, max_len=64)
        if value and not _KEY.match(value):
            self.fail(name, f"{value!r} is not a code (letters, digits, _ . -)")
        return value

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str:
        """One of ``choices`` (``default`` when empty)."""
        value = self.raw.get(name, "") or (default or "")
        allowed = list(choices)
        if value not in allowed:
            self.fail(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def pattern(self, name: str, regex: re.Pattern[str], what: str) -> str:
        """Text matching ``regex`` (``what`` says what it should be)."""
        value = self.text(name, max_len=60)
        if value and not regex.match(value):
            self.fail(name, f"{value!r} is not {what}")
        return value

    def uscc(self, name: str) -> str:
        """A unified social credit code (GB 32100-2015, check character verified)."""
        value = self.text(name).upper()
        problem = uscc_problem(value) if value else None
        if problem:
            self.fail(name, f"invalid unified social credit code {value!r}: {problem}")
        return value

    def enterprise(self, known: Container[str], name: str = "enterprise_uscc") -> str:
        """The credit code of an enterprise in ``known`` (the registry and earlier rows)."""
        value = self.text(name).upper()
        if value and value not in known:
            self.fail(name, f"unknown enterprise {value}")
        return value

    def _number(self, name: str, accept: Callable[[float], bool], what: str) -> float:
        value = self.text(name)
        try:
            number = float(value)
        except ValueError:
            if value:
                self.fail(name, f"{value!r} is not a number")
            return 0.0
        if not (accept(number) and math.isfinite(number)):
            self.fail(name, f"must be {what}, got {value}")
        return number

    def positive(self, name: str) -> float:
        """A finite number > 0."""
        return self._number(name, lambda x: x > 0, "a positive number")

    def non_negative(self, name: str) -> float:
        """A finite number ≥ 0."""
        return self._number(name, lambda x: x >= 0, "a non-negative number")

    def optional_non_negative(self, name: str) -> float | None:
        """A finite number ≥ 0, or None when the field is empty.

        Parameters
        ----------
        name : str
            The field (column) of the row.

        Returns
        -------
        float or None
            The number; None for an empty field. A faulty value is recorded as a fault of
            ``name`` (the value returned is then neutral, as with :meth:`non_negative`).
        """
        return self.non_negative(name) if self.optional(name) else None

    def date(self, name: str, *, required: bool = False) -> date | None:
        """An ISO 8601 date (``YYYY-MM-DD``)."""
        value = self.raw.get(name, "")
        if not value:
            if required:
                self.fail(name, "is required")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def month(self, name: str = "period") -> str:
        """A month ``YYYY-MM``."""
        value = self.text(name, max_len=7)
        if value and not _MONTH.match(value):
            self.fail(name, f"{value!r} is not a month (YYYY-MM)")
        return value

    def unit(self, name: str = "unit") -> str:
        """A unit key of ``reference/units.csv``."""
        value = self.text(name, max_len=16)
        if value:
            try:
                unit_def(value)
            except UnitError:
                self.fail(name, f"unknown unit {value!r} (see reference/units.csv)")
        return value
