"""A budget's periods on its own calendar (docs/spend-controls.md, "Periods"): a local day, a
week starting on Monday, or a calendar month, in an IANA zone. Boundaries are local midnights
(usage_pricing.core.windows.local_midnight: where a DST jump skips midnight the day starts when the
jump lands), so a period is 23, 24 or 25 hours long on a DST day and any :30/:45 offset is exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from usage_pricing.controls.choices import Period
from usage_pricing.core.utc import utc_seconds
from usage_pricing.core.windows import local_midnight


def _first_day(period: Period, day: date) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())  # Monday
    return day.replace(day=1)


def _next_first_day(period: Period, first: date) -> date:
    if period == "day":
        return first + timedelta(days=1)
    if period == "week":
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_bounds(period: Period, tz: ZoneInfo, moment: datetime) -> tuple[datetime, datetime]:
    """The UTC [start, end) of the period holding `moment` on the calendar of `tz`."""
    local_day = moment.astimezone(tz).date()
    first = _first_day(period, local_day)
    start = local_midnight(first, tz)
    if start > moment.astimezone(UTC):  # a moment before a jumped-over midnight's landing
        first = _first_day(period, first - timedelta(days=1))
        start = local_midnight(first, tz)
    return start, local_midnight(_next_first_day(period, first), tz)


def period_key(start: datetime) -> str:
    """A period's start as the counter items key it: UTC, whole seconds, fixed width."""
    return utc_seconds(start)


# Counters outlive their period by this much (DynamoDB TTL), for late refunds and audits.
COUNTER_RETENTION = timedelta(days=100)


def counter_expiry(period_end: datetime) -> int:
    return int((period_end + COUNTER_RETENTION).timestamp())


def now_minute(now: datetime) -> int:
    return int(now.timestamp()) // 60
