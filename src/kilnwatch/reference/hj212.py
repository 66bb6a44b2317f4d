"""Loader of the HJ 212 pollutant/parameter code table (``hj212_codes.csv``).

Columns: ``code`` (2017 factor code), ``name_zh`` and ``unit_printed`` as printed in the
standard, ``name_en``, ``unit`` (unit key of Rtd/Min/Avg/Max values), ``cou_unit`` (unit key
of -Cou amounts), ``code_2005`` (the HJ/T 212-2005 code kept in the tables), ``data_type``,
``source`` (table of the standard) and ``note``.

References
----------
.. [1] HJ 212-2017, Appendix B, Tables B.1 (water) and B.2 (gas).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import Row, build_row, package_rows

_FILE = "hj212_codes.csv"
_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "unit",
    "unit_printed",
    "cou_unit",
    "cou_unit_printed",
    "code_2005",
    "data_type",
    "source",
    "note",
)


@dataclass(frozen=True, slots=True)
class PollutantCode:
    """One row of the factor-code table."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    cou_unit: str | None
    code_2005: str | None
    source: str
    note: str


@dataclass(frozen=True, slots=True)
class PollutantCodeTable:
    """The table indexed by 2017 code and by 2005 code."""

    by_code: dict[str, PollutantCode]
    by_code_2005: dict[str, PollutantCode]

    def lookup(self, code: str) -> PollutantCode | None:
        """Row of a 2017 code (``a21026``) or of a 2005 code (``02``), or None."""
        return self.by_code.get(code) or self.by_code_2005.get(code)


def _row(row: Row) -> PollutantCode:
    if tuple(row.cells) != _COLUMNS:
        raise ReferenceDataError(f"{_FILE}: columns must be {', '.join(_COLUMNS)}")
    for column in ("code", "unit"):
        row.filled(column)
    return build_row(row, PollutantCode)


@lru_cache(maxsize=1)
def load_hj212_codes() -> PollutantCodeTable:
    """Load the packaged factor-code table (cached).

    Raises
    ------
    ReferenceDataError
        When the file is missing columns, has a row without code/unit/source, or repeats a
        code.
    """
    by_code: dict[str, PollutantCode] = {}
    by_2005: dict[str, PollutantCode] = {}
    for row in package_rows("kilnwatch.reference", _FILE):
        code = _row(row)
        if code.code in by_code or (code.code_2005 and code.code_2005 in by_2005):
            raise ReferenceDataError(f"{row.where}: code {code.code} repeated")
        by_code[code.code] = code
        if code.code_2005:
            by_2005[code.code_2005] = code
    return PollutantCodeTable(by_code=by_code, by_code_2005=by_2005)
