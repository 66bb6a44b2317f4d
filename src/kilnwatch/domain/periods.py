"""Reporting and verification periods (报告期): a day, ISO week, month, quarter, half-year,
year, or a range of them, as an aware ``[start, end)`` interval of local calendar days.

The zone is always the caller's (``Settings.timezone``, turned into a :class:`~datetime.tzinfo`
at the edge); nothing here has a default zone. A period is parsed once, where the text comes
in (a CLI option, a query parameter), by :func:`parse_period`.

Accepted forms (:data:`PERIOD_FORMS`):

=======================  ==================  ===========================================
text                     kind                covers
=======================  ==================  ===========================================
``2025-03-01``           ``day``             one local day
``2025-W10``             ``week``            ISO 8601 week, Monday to Sunday
``2025-03``              ``month``           one calendar month
``2025-Q1``              ``quarter``         three months from January, April, July, October
``2025H1`` (``2025-H1``)  ``half_year``       January–June or July–December
``2025``                 ``year``            one calendar year
``A..B``                 ``range``           from the start of ``A`` to the end of ``B``
=======================  ==================  ===========================================

``A`` and ``B`` of a range are any of the single forms (``2025-01..2025-06``,
``2025-03-01..2025-03-15``, ``2025-Q1..2025-05``); both ends are included.

References
----------
.. [1] ISO 8601-1:2019, 5.2.2 (calendar dates ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``) and
   5.2.3 (week dates ``YYYY-Www``); ``..`` as a range separator follows ISO 8601-2:2019,
   clause 9 (time intervals written ``start/end``; ``..`` is used here because ``/`` is a
   path separator on the command line and in URLs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, get_args

from kilnwatch.errors import InputError

Unit = Literal["day", "week", "month", "quarter", "half_year", "year"]
"""The kind of a single (non-range) period."""
PeriodKind = Literal["day", "week", "month", "quarter", "half_year", "year", "range"]
UNITS: tuple[Unit, ...] = get_args(Unit)
PERIOD_FORMS = (
    "YYYY-MM (month), YYYY-Qn (quarter), YYYYHn (half-year), YYYY-Www (ISO week), "
    "YYYY (year), YYYY-MM-DD (day), or a range A..B of two of these "
    "(2025-01..2025-06, 2025-03-01..2025-03-15)"
)
"""The accepted forms, as error messages name them."""

_ONE_DAY = timedelta(days=1)
_RANGE = ".."
_PATTERNS: tuple[tuple[re.Pattern[str], Unit], ...] = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "day"),
    (re.compile(r"(\d{4})-?W(\d{2})"), "week"),
    (re.compile(r"(\d{4})-(\d{2})"), "month"),
    (re.compile(r"(\d{4})-?Q(\d)"), "quarter"),
    (re.compile(r"(\d{4})-?H(\d)"), "half_year"),
    (re.compile(r"(\d{4})"), "year"),
)
_MONTHS_PER = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


@dataclass(frozen=True, slots=True)
class Period:
    """Local calendar days ``[first, stop)`` in ``zone``: an aware ``[start, end)`` interval.

    Build one with :func:`parse_period` or :meth:`containing`. ``ends`` are the units of the
    first and last part (equal to ``kind`` unless it is a ``range``); they make the label and
    :meth:`previous_year`.

    Parameters
    ----------
    kind : PeriodKind
        ``day``, ``week``, ``month``, ``quarter``, ``half_year``, ``year`` or ``range`` [-]
    first : date
        The first local calendar day [local date]
    stop : date
        The local calendar day after the last one (excluded) [local date]
    zone : tzinfo
        The zone of the local calendar (``Settings.timezone``) [-]
    ends : tuple of Unit
        The units of the first and the last part of the period [-]

    References
    ----------
    .. [1] ISO 8601-1:2019, 5.2.2 (calendar dates) and 5.2.3 (week dates).
    """

    kind: PeriodKind
    first: date
    """The first local day."""
    stop: date
    """The local day after the last one."""
    zone: tzinfo
    ends: tuple[Unit, Unit]

    @classmethod
    def containing(cls, unit: Unit, day: date, zone: tzinfo) -> Period:
        """The ``unit`` period (a month, a week…) that holds the local day ``day``.

        Parameters
        ----------
        unit : Unit
            ``day``, ``week``, ``month``, ``quarter``, ``half_year`` or ``year``.
        day : date
            A local calendar day in ``zone``.
        zone : tzinfo
            The zone of the local calendar (``Settings.timezone``).
        """
        first, stop = _unit_bounds(unit, day)
        return cls(unit, first, stop, zone, (unit, unit))

    @classmethod
    def of_days(cls, first: date, last: date, zone: tzinfo) -> Period:
        """The range of local days ``first`` to ``last``, both included.

        Parameters
        ----------
        first, last : date
            The first and the last local calendar day (``first <= last``).
        zone : tzinfo
            The zone of the local calendar (``Settings.timezone``).
        """
        if last < first:
            raise ValueError(f"{last} is before {first}")
        return cls("range", first, last + _ONE_DAY, zone, ("day", "day"))

    @property
    def start(self) -> datetime:
        """Local midnight at the start of the first day (aware, in ``zone``)."""
        return datetime.combine(self.first, time(), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (aware, in ``zone``; excluded)."""
        return datetime.combine(self.stop, time(), tzinfo=self.zone)

    @property
    def label(self) -> str:
        """The canonical text (``2025-03``, ``2025-Q1``, ``2025-01..2025-06``)."""
        first = _unit_label(self.ends[0], self.first)
        if self.kind != "range":
            return first
        return f"{first}{_RANGE}{_unit_label(self.ends[1], self.stop - _ONE_DAY)}"

    @property
    def year(self) -> int:
        """The calendar year of the first day (the year of annual factors)."""
        return self.first.year

    @property
    def days(self) -> int:
        """The number of local calendar days (a day with a DST change counts as one)."""
        return (self.stop - self.first).days

    def dates(self) -> list[date]:
        """The local calendar days, in order."""
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def split(self, unit: Unit) -> list[Period]:
        """The ``unit`` periods that overlap this one, in order (``split("month")`` of
        ``2025-Q1`` is January, February and March)."""
        found, day = [], self.first
        while day < self.stop:
            part = Period.containing(unit, day, self.zone)
            found.append(part)
            day = part.stop
        return found

    def months(self) -> list[str]:
        """Labels (``YYYY-MM``) of the months that overlap this period, in order."""
        return [m.label for m in self.split("month")]

    def contains(self, moment: datetime) -> bool:
        """Whether the aware ``moment`` lies in ``[start, end)`` (compared as instants)."""
        instant = moment.astimezone(UTC)
        return self.start.astimezone(UTC) <= instant < self.end.astimezone(UTC)

    def previous_year(self) -> Period:
        """The same period one year earlier (``2025-Q1`` → ``2024-Q1``; ISO week 53 of a year
        whose previous year has 52 weeks → week 52; 29 February → 28 February)."""
        first_unit, last_unit = self.ends
        first = _unit_bounds(first_unit, _year_before(first_unit, self.first))[0]
        stop = _unit_bounds(last_unit, _year_before(last_unit, self.stop - _ONE_DAY))[1]
        return Period(self.kind, first, stop, self.zone, self.ends)

    def __str__(self) -> str:
        return self.label


def local_instant(value: datetime, zone: tzinfo) -> datetime:
    """An instant given at the edge (a CLI option, a query parameter), made aware: a time of
    day without a UTC offset is a local time in ``zone``.

    Parameters
    ----------
    value : datetime
        The time as given, with or without an offset [-]
    zone : tzinfo
        The zone of local times (``Settings.timezone``); there is no default [-]

    Returns
    -------
    datetime
        ``value`` unchanged when it has an offset, else the same wall time in ``zone``.

    References
    ----------
    .. [1] ISO 8601:2004, 4.2.2 (local time, written without a UTC designator) and 4.2.5.2
       (local time with its difference from UTC).
    """
    return value if value.tzinfo else value.replace(tzinfo=zone)


def week_period(week: str, zone: tzinfo) -> Period:
    """The ISO week ``week`` in ``zone``; any other form of period is refused.

    Parameters
    ----------
    week : str
        An ISO week such as ``2025-W10`` [-]
    zone : tzinfo
        The zone of the local calendar (``Settings.timezone``); there is no default [-]

    Returns
    -------
    Period
        The week, Monday to Sunday in ``zone``.

    Raises
    ------
    InputError
        On the field ``week`` when the text is not a week (a month, a day, a range ...).

    References
    ----------
    .. [1] ISO 8601-1:2019, 5.2.3 (week dates ``YYYY-Www``).
    """
    period = parse_period(week, zone, field="week")
    if period.kind != "week":
        raise InputError(f"{week!r} is not an ISO week such as 2025-W10", field="week")
    return period


def parse_period(text: str, zone: tzinfo, *, field: str = "period") -> Period:
    """The :class:`Period` that ``text`` names (one of :data:`PERIOD_FORMS`), in ``zone``.

    Parameters
    ----------
    text : str
        ``2025-03``, ``2025-Q1``, ``2025H1``, ``2025-W10``, ``2025``, ``2025-03-01`` or a range
        ``A..B`` of two of these; letters in either case, surrounding blanks ignored [-]
    zone : tzinfo
        The zone of the local calendar (``Settings.timezone``); there is no default [-]
    field : str
        The name of the input the text came from, for the error [-]

    Returns
    -------
    Period
        The period, its days in ``zone``.

    Raises
    ------
    InputError
        When the text is none of the forms, names a day, week, month, quarter or half that
        does not exist, or a range that ends before it starts; the error names ``field`` and
        the accepted forms.

    References
    ----------
    .. [1] ISO 8601-1:2019, 5.2.2 and 5.2.3; ranges after ISO 8601-2:2019, clause 9 (see the
       module docstring for the separator).
    """
    cleaned = text.strip().upper()
    if cleaned.count(_RANGE) == 1:
        head, tail = cleaned.split(_RANGE)
        (first_unit, first, _), (last_unit, _, stop) = (
            _parse_unit(head, text, field), _parse_unit(tail, text, field)
        )  # fmt: skip
        if stop <= first:
            raise _error(text, field, "the range ends before it starts")
        return Period("range", first, stop, zone, (first_unit, last_unit))
    unit, first, stop = _parse_unit(cleaned, text, field)
    return Period(unit, first, stop, zone, (unit, unit))


def _parse_unit(cleaned: str, text: str, field: str) -> tuple[Unit, date, date]:
    for pattern, unit in _PATTERNS:
        if match := pattern.fullmatch(cleaned):
            numbers = [int(g) for g in match.groups()]
            try:
                first = _first_day(unit, numbers)
                return unit, *_unit_bounds(unit, first)
            except (ValueError, OverflowError) as exc:
                raise _error(text, field, str(exc)) from None
    raise _error(text, field, "unknown form")


def _first_day(unit: Unit, numbers: list[int]) -> date:
    """The first day of the ``unit`` period given by the numbers of its text."""
    year, *rest = numbers
    if unit == "day":
        return date(year, rest[0], rest[1])
    if unit == "week":
        return date.fromisocalendar(year, rest[0], 1)
    if unit == "year":
        return date(year, 1, 1)
    size = _MONTHS_PER[unit]
    index = rest[0]
    if not 1 <= index <= 12 // size:
        what = {"month": "month", "quarter": "quarter", "half_year": "half"}[unit]
        raise ValueError(f"there is no {what} {index}")
    return date(year, (index - 1) * size + 1, 1)


def _unit_bounds(unit: Unit, day: date) -> tuple[date, date]:
    """First day and the day after the last of the ``unit`` period holding ``day``."""
    if unit == "day":
        return day, day + _ONE_DAY
    if unit == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    size = _MONTHS_PER[unit]
    month = (day.month - 1) // size * size + 1
    months = day.year * 12 + month - 1 + size
    return date(day.year, month, 1), date(months // 12, months % 12 + 1, 1)


def _unit_label(unit: Unit, day: date) -> str:
    """The text of the ``unit`` period holding ``day``."""
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if unit == "half_year":
        return f"{day.year}H{(day.month - 1) // 6 + 1}"
    return f"{day.year}"


def _year_before(unit: Unit, day: date) -> date:
    """A day of the same ``unit`` period one year earlier."""
    if unit == "week":
        year, week, weekday = day.isocalendar()
        weeks = date(year - 1, 12, 28).isocalendar().week  # 28 December is in the last week
        return date.fromisocalendar(year - 1, min(week, weeks), weekday)
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def _error(text: str, field: str, reason: str) -> InputError:
    return InputError(f"{text!r} is not a period ({reason}); use {PERIOD_FORMS}", field=field)
