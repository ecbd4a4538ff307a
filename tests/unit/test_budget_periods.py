"""A budget's periods on its own calendar, and the threshold arithmetic the charge conditions
on (usage_pricing.controls.periods, .thresholds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usage_pricing.controls.periods import period_bounds
from usage_pricing.controls.thresholds import crossed, level, transitions


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("period", "tz", "moment", "start", "end"),
    [
        # Berlin's spring-forward day has 23 hours, its fall-back day 25
        (
            "day",
            "Europe/Berlin",
            "2026-03-29T12:00:00+02:00",
            "2026-03-28T23:00:00Z",
            "2026-03-29T22:00:00Z",
        ),
        (
            "day",
            "Europe/Berlin",
            "2026-10-25T12:00:00+01:00",
            "2026-10-24T22:00:00Z",
            "2026-10-25T23:00:00Z",
        ),
        # Weeks start on Monday: a Sunday belongs to the week begun six days before
        (
            "week",
            "UTC",
            "2026-03-01T23:59:59+00:00",
            "2026-02-23T00:00:00Z",
            "2026-03-02T00:00:00Z",
        ),
        (
            "week",
            "UTC",
            "2026-03-02T00:00:00+00:00",
            "2026-03-02T00:00:00Z",
            "2026-03-09T00:00:00Z",
        ),
        # Month ends: February of a leap year, December into January, 31-day months
        (
            "month",
            "UTC",
            "2028-02-29T23:59:59+00:00",
            "2028-02-01T00:00:00Z",
            "2028-03-01T00:00:00Z",
        ),
        (
            "month",
            "UTC",
            "2026-12-31T23:00:00+00:00",
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        ),
        # Zones at :30 and :45: the UTC instant is still in the previous local month
        (
            "month",
            "Asia/Kolkata",
            "2026-01-31T18:29:59+00:00",
            "2025-12-31T18:30:00Z",
            "2026-01-31T18:30:00Z",
        ),
        (
            "month",
            "Asia/Kolkata",
            "2026-01-31T18:30:00+00:00",
            "2026-01-31T18:30:00Z",
            "2026-02-28T18:30:00Z",
        ),
        (
            "day",
            "Asia/Kathmandu",
            "2026-06-15T00:00:00+00:00",
            "2026-06-14T18:15:00Z",
            "2026-06-15T18:15:00Z",
        ),
        (
            "week",
            "Australia/Eucla",
            "2026-06-15T00:00:00+08:45",
            "2026-06-14T15:15:00Z",
            "2026-06-21T15:15:00Z",
        ),
        # Chatham's DST (+13:45/+12:45); São Paulo's old midnight jump starts the day at 01:00
        (
            "day",
            "Pacific/Chatham",
            "2026-04-05T12:00:00+12:45",
            "2026-04-04T10:15:00Z",
            "2026-04-05T11:15:00Z",
        ),
        (
            "day",
            "America/Sao_Paulo",
            "2018-11-04T12:00:00-02:00",
            "2018-11-04T03:00:00Z",
            "2018-11-05T02:00:00Z",
        ),
    ],
)
def test_given_a_moment_when_its_period_is_asked_then_the_local_calendar_bounds_it(
    period: str, tz: str, moment: str, start: str, end: str
) -> None:
    bounds = period_bounds(period, ZoneInfo(tz), utc(moment))  # type: ignore[arg-type]
    assert bounds == (utc(start), utc(end))


@settings(max_examples=300, deadline=None)
@given(
    period=st.sampled_from(["day", "week", "month"]),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe"]),
    moment=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)  # fmt: skip
def test_given_any_moment_then_its_period_holds_it_and_the_next_starts_where_it_ends(
    period: str, tz: str, moment: datetime
) -> None:
    zone = ZoneInfo(tz)
    start, end = period_bounds(period, zone, moment)  # type: ignore[arg-type]
    assert start <= moment < end
    assert period_bounds(period, zone, end)[0] == end  # type: ignore[arg-type]
    assert period_bounds(period, zone, start)[0] == start  # type: ignore[arg-type]
    assert timedelta(hours=22) <= end - start <= timedelta(days=32)


def test_given_a_threshold_then_its_level_rounds_up_to_the_microcent() -> None:
    assert level(50, 101) == 51
    assert level(100, 100) == 100
    assert level(1, 1) == 1
    assert level(1000, 7) == 70
    assert crossed([50, 80, 100], 100, 80) == [50, 80]


@settings(max_examples=500, deadline=None)
@given(
    thresholds=st.lists(st.integers(1, 1000), min_size=1, max_size=10, unique=True),
    limit=st.integers(1, 10**12),
    before=st.integers(-(10**12), 10**13),
    delta=st.integers(-(10**12), 10**12),
    other=st.integers(-(10**12), 10**13),
)
def test_given_any_spend_then_transitions_are_the_crossed_sets_difference_and_hold_in_their_interval(
    thresholds: list[int], limit: int, before: int, delta: int, other: int
) -> None:
    moves = transitions(thresholds, limit, before, delta)
    was, now = (
        set(crossed(thresholds, limit, before)),
        set(crossed(thresholds, limit, before + delta)),
    )
    assert moves.crossed == sorted(now - was)
    assert moves.cleared == sorted(was - now)
    assert moves.low <= before <= moves.high
    # any other `before` in the interval makes the same transitions; outside it, different ones
    same = transitions(thresholds, limit, other, delta)
    inside = moves.low <= other <= moves.high
    assert ((same.crossed, same.cleared) == (moves.crossed, moves.cleared)) or not inside
    if other in (moves.low - 1, moves.high + 1) and delta:
        assert (same.crossed, same.cleared) != (moves.crossed, moves.cleared)
