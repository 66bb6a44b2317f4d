"""Periods: every accepted form, bad input, months across a year end, zones passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kilnwatch.domain.periods import (
    PERIOD_FORMS,
    UNITS,
    Period,
    local_instant,
    parse_period,
    week_period,
)
from kilnwatch.errors import InputError

SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8, no DST
BERLIN = ZoneInfo("Europe/Berlin")  # DST from the last Sunday of March


@pytest.mark.parametrize(
    ("text", "kind", "label", "first", "stop"),
    [
        ("2025-03", "month", "2025-03", date(2025, 3, 1), date(2025, 4, 1)),
        ("2025-12", "month", "2025-12", date(2025, 12, 1), date(2026, 1, 1)),
        ("2025-Q1", "quarter", "2025-Q1", date(2025, 1, 1), date(2025, 4, 1)),
        ("2025q4", "quarter", "2025-Q4", date(2025, 10, 1), date(2026, 1, 1)),
        ("2025H1", "half_year", "2025H1", date(2025, 1, 1), date(2025, 7, 1)),
        ("2025-h2", "half_year", "2025H2", date(2025, 7, 1), date(2026, 1, 1)),
        ("2025-W10", "week", "2025-W10", date(2025, 3, 3), date(2025, 3, 10)),
        ("2026-W01", "week", "2026-W01", date(2025, 12, 29), date(2026, 1, 5)),
        ("2025", "year", "2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("2025-03-15", "day", "2025-03-15", date(2025, 3, 15), date(2025, 3, 16)),
        ("2025-01..2025-06", "range", "2025-01..2025-06", date(2025, 1, 1), date(2025, 7, 1)),
        (" 2025-03-01..2025-03-15 ", "range", "2025-03-01..2025-03-15",
         date(2025, 3, 1), date(2025, 3, 16)),
        ("2025-Q4..2026-01", "range", "2025-Q4..2026-01", date(2025, 10, 1), date(2026, 2, 1)),
    ],
)  # fmt: skip
def test_every_form(text: str, kind: str, label: str, first: date, stop: date) -> None:
    period = parse_period(text, SHANGHAI)
    assert (period.kind, period.label, period.first, period.stop) == (kind, label, first, stop)
    assert str(period) == label
    assert parse_period(label, SHANGHAI) == period  # the label parses back to the same period


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2025-13", "there is no month 13"),
        ("2025-00", "there is no month 0"),
        ("2025-Q5", "there is no quarter 5"),
        ("2025H3", "there is no half 3"),
        ("2025-W54", "week"),
        ("2025-W53", "week"),  # 2025 has 52 ISO weeks
        ("2025-02-29", "day is out of range"),
        ("2025-06..2025-03", "the range ends before it starts"),
        ("2025-03..", "unknown form"),
        ("2025..2026..2027", "unknown form"),
        ("March 2025", "unknown form"),
        ("25-03", "unknown form"),
        ("", "unknown form"),
        ("0000", "year 0 is out of range"),
    ],
)
def test_bad_input_names_the_field_and_the_forms(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_period(text, SHANGHAI)
    assert caught.value.location.field == "period"
    assert reason in caught.value.reason.lower() or reason in caught.value.reason
    assert PERIOD_FORMS in caught.value.message
    with pytest.raises(InputError) as named:
        parse_period(text, SHANGHAI, field="base")
    assert named.value.location.field == "base"


def test_months_across_a_year_end() -> None:
    period = parse_period("2024-11..2025-02", SHANGHAI)
    assert period.months() == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert parse_period("2026-W01", SHANGHAI).months() == ["2025-12", "2026-01"]
    assert parse_period("2025-Q4", SHANGHAI).previous_year().months() == [
        "2024-10", "2024-11", "2024-12"
    ]  # fmt: skip
    assert [m.kind for m in period.split("month")] == ["month"] * 4


def test_days_dates_and_contains_in_a_dst_free_zone() -> None:
    march = parse_period("2025-03", SHANGHAI)
    assert march.start == datetime(2025, 2, 28, 16, tzinfo=UTC)
    assert march.end.astimezone(UTC) - march.start == timedelta(days=31)  # no DST: 31 × 24 h
    assert march.days == 31 and len(march.dates()) == 31 and march.dates()[-1] == date(2025, 3, 31)
    assert march.contains(datetime(2025, 2, 28, 16, tzinfo=UTC))
    assert not march.contains(datetime(2025, 3, 31, 16, tzinfo=UTC))  # 1 April 00:00 local
    assert march.year == 2025


def test_the_zone_is_the_callers() -> None:
    berlin = parse_period("2025-03", BERLIN)
    shanghai = parse_period("2025-03", SHANGHAI)
    assert berlin.start == datetime(2025, 2, 28, 23, tzinfo=UTC)
    assert berlin.start - shanghai.start == timedelta(hours=7)
    assert berlin.days == 31  # calendar days, though the month is 1 h short
    length = berlin.end.astimezone(UTC) - berlin.start.astimezone(UTC)
    assert length == timedelta(days=31, hours=-1)
    assert berlin != shanghai and berlin.label == shanghai.label
    assert parse_period("2025", UTC).start == datetime(2025, 1, 1, tzinfo=UTC)


def test_previous_year() -> None:
    def before(text: str) -> str:
        return parse_period(text, SHANGHAI).previous_year().label

    assert before("2025-03") == "2024-03"
    assert before("2025-Q1") == "2024-Q1"
    assert before("2025H2") == "2024H2"
    assert before("2025") == "2024"
    assert before("2025-W10") == "2024-W10"
    assert before("2026-W53") == "2025-W52"  # 2025 has no week 53
    assert before("2024-02-29") == "2023-02-28"
    assert before("2025-01..2025-06") == "2024-01..2024-06"
    assert before("2025-03-01..2025-03-15") == "2024-03-01..2024-03-15"
    assert parse_period("2025-Q1", SHANGHAI).previous_year().kind == "quarter"


def test_containing_a_day() -> None:
    day = date(2025, 8, 20)
    labels = [Period.containing(u, day, SHANGHAI).label for u in UNITS]
    assert labels == ["2025-08-20", "2025-W34", "2025-08", "2025-Q3", "2025H2", "2025"]


MONTHS = st.tuples(st.integers(1900, 2200), st.integers(1, 12))


@given(MONTHS, MONTHS)
def test_a_range_of_months_lists_each_month_once(a: tuple[int, int], b: tuple[int, int]) -> None:
    (y0, m0), (y1, m1) = sorted((a, b))
    period = parse_period(f"{y0}-{m0:02d}..{y1}-{m1:02d}", SHANGHAI)
    months = period.months()
    assert len(months) == (y1 - y0) * 12 + m1 - m0 + 1
    assert months[0] == f"{y0}-{m0:02d}" and months[-1] == f"{y1}-{m1:02d}"
    assert months == sorted(set(months))
    parts = period.split("month")
    assert parts[0].start == period.start and parts[-1].end == period.end
    assert all(p.end == q.start for p, q in zip(parts, parts[1:], strict=False))
    assert sum(p.days for p in parts) == period.days


@given(st.dates(date(1901, 1, 1), date(2199, 12, 31)), st.sampled_from(UNITS))
def test_the_period_of_a_day_holds_it_and_parses_back(day: date, unit: str) -> None:
    period = Period.containing(unit, day, SHANGHAI)  # type: ignore[arg-type]
    assert period.first <= day < period.stop
    assert period.contains(datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI))
    assert parse_period(period.label, SHANGHAI) == period
    earlier = period.previous_year()
    assert earlier.kind == period.kind and earlier.stop <= period.stop
    assert 360 <= (period.first - earlier.first).days <= 371


def test_of_days_is_a_range_of_days() -> None:
    period = Period.of_days(date(2025, 1, 30), date(2025, 3, 2), SHANGHAI)
    assert (period.kind, period.label, period.days) == ("range", "2025-01-30..2025-03-02", 32)
    assert period.months() == ["2025-01", "2025-02", "2025-03"]
    with pytest.raises(ValueError, match="before"):
        Period.of_days(date(2025, 3, 2), date(2025, 3, 1), SHANGHAI)


def test_a_time_without_offset_is_local_and_one_with_an_offset_is_kept() -> None:
    local = local_instant(datetime(2025, 3, 1, 8, 0), SHANGHAI)
    assert local == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    given_utc = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert local_instant(given_utc, SHANGHAI) is given_utc


def test_a_week_is_taken_where_a_week_is_asked_and_nothing_else() -> None:
    week = week_period("2025-W10", SHANGHAI)
    assert (week.kind, week.first, week.days) == ("week", date(2025, 3, 3), 7)
    with pytest.raises(InputError, match="not an ISO week") as refused:
        week_period("2025-03", SHANGHAI)
    assert refused.value.location.field == "week"
