"""Time windows (docs/api.md): `range` or `start`/`end`, a time zone, and buckets on its local
clock.

A window is either a `range` back from now or `start`/`end` (RFC 3339 with an offset, or a date
meaning local midnight in `tz`; start inclusive, end exclusive, end defaulting to now). Buckets
(1m, 1h, 1d) follow the local clock of `tz`: a local day runs from local midnight to the next
(23 or 25 hours across a DST change), a local hour from one local hh:00 to the next (in Kolkata
that is hh:30 UTC). The window is widened to whole buckets: its start down to a bucket
boundary, an explicit end up to one; a window that ends now keeps the bucket holding now.

Every boundary is a UTC quarter-hour (every zone's offset since 2000 is a multiple of 15
minutes; a window where one is not is refused), which is what the aggregates can answer."""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo, available_timezones

from usage_pricing.core.errors import FieldIssue, InvalidRequestError
from usage_pricing.core.utc import EARLIEST, LATEST, YEARS, parse_rfc3339, utc_seconds

# A window's `range` and a breakdown's `bucket`, defined once each: the names are the API's
# values (validated and listed in OpenAPI from these Literals), and each name says its length.
RangeName = Literal["1h", "1d", "7d", "30d", "90d"]
BucketSize = Literal["1m", "1h", "1d"]
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def _length(name: str) -> timedelta:
    """The length a range or bucket name says: a count and a unit, "90d" or "1m"."""
    return int(name[:-1]) * _UNITS[name[-1]]


RANGES: dict[str, timedelta] = {name: _length(name) for name in get_args(RangeName)}
STEPS: dict[str, timedelta] = {name: _length(name) for name in get_args(BucketSize)}
MAX_BUCKETS = 1_500
# Minute aggregates expire after 3 days (storage.aggregates.MINUTE_RETENTION): 1m buckets
# cannot reach further back.
MINUTE_RETENTION = timedelta(days=3)
# A window is bounded to the product's years, utc.EARLIEST to utc.LATEST.
QUARTER = timedelta(minutes=15)
MAX_ZONE_NAME = 64

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _invalid(field: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{field}: {message}", errors=[FieldIssue(field, message)])


@cache
def _zone_names() -> frozenset[str]:
    """The IANA zone names this runtime knows, listed once per process, so that no request
    ever reaches the zone database with a name that is not one (a directory such as "Europe",
    or a 300-character path, would otherwise be an OSError)."""
    return frozenset(available_timezones() - {"localtime", "posixrules"})


def zone(name: str | None) -> ZoneInfo:
    """An IANA time zone by name (None or empty: UTC); anything else is a 400 on `tz`."""
    name = name or "UTC"
    if len(name) > MAX_ZONE_NAME or name not in _zone_names():
        shown = name if len(name) <= MAX_ZONE_NAME else name[:MAX_ZONE_NAME] + "…"
        raise InvalidRequestError(
            f"unknown time zone {shown!r}",
            errors=[FieldIssue("tz", "must be an IANA time zone name, e.g. Europe/Berlin")],
        )
    return ZoneInfo(name)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) of a local date. Where clocks jump over midnight, 00:00 does not
    exist and the day starts when the jump lands."""
    moment = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    while (moment - QUARTER).astimezone(tz).date() == day:
        moment -= QUARTER
    while moment.astimezone(tz).date() < day:
        moment += QUARTER
    return moment


def parse_moment(value: str, field: str, tz: ZoneInfo) -> datetime:
    """An RFC 3339 date-time with an offset, or a date (local midnight in tz), as UTC."""
    value = value.strip()
    if _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _invalid(field, f"{value!r} is not a date") from None
        if not EARLIEST.date() <= day < LATEST.date():
            raise _invalid(field, f"must lie {YEARS}")
        return local_midnight(day, tz)
    # A "+" that a query string turned into a space is taken as the "+".
    try:
        moment = parse_rfc3339(value, query=True)
    except ValueError:
        raise _invalid(field, f"{value!r} is not a valid date-time") from None
    if moment is None:
        raise _invalid(
            field,
            "must be an RFC 3339 date-time with an offset (2026-11-20T10:00:00Z, "
            "2026-11-20T10:00:00%2B01:00 in a URL) or a date (2026-11-20)",
        )
    if not EARLIEST <= moment < LATEST:
        raise _invalid(field, f"must lie {YEARS}")
    return moment


# NamedTuples and a plain slotted class, not dataclasses: a dataclass's generated methods are
# exec'd at import, a cost of every cold start.


class Span(NamedTuple):
    """A window's instants before it is cut into buckets."""

    start: datetime
    end: datetime
    end_given: bool  # False: the window ends now
    duration: timedelta | None  # a range's length; None for start/end
    tz: ZoneInfo
    tz_name: str


def resolve_span(
    *,
    range_name: str | None,
    start: str | None,
    end: str | None,
    tz_name: str | None,
    now: datetime,
    default_range: str,
) -> Span:
    """The window a request names. Both kinds at once, an end without a start, or end ≤ start
    is a 400 naming the field."""
    tz = zone(tz_name)
    name = tz_name or "UTC"
    now = now.astimezone(UTC)
    if range_name is not None and (start is not None or end is not None):
        raise _invalid("range", "give either range or start/end, not both")
    if start is None:
        if end is not None:
            raise _invalid("start", "is required with end")
        duration = RANGES[range_name or default_range]
        return Span(now - duration, now, False, duration, tz, name)
    first = parse_moment(start, "start", tz)
    last = parse_moment(end, "end", tz) if end is not None else now
    if last <= first:
        raise _invalid(
            "end", "must be after start" if end is not None else "start is in the future"
        )
    return Span(first, last, end is not None, None, tz, name)


def default_bucket(span: Span) -> BucketSize:
    length = span.duration if span.duration is not None else span.end - span.start
    if length <= timedelta(hours=2):
        return "1m"
    if length <= timedelta(days=2):
        return "1h"
    return "1d"


class _Clock:
    """Bucket boundaries on the local clock of a zone, as UTC instants."""

    def __init__(self, bucket: BucketSize, tz: ZoneInfo) -> None:
        self.bucket = bucket
        self.tz = tz

    def _is_boundary(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        if local.second or local.microsecond:
            return False
        if self.bucket == "1m":
            return True
        return local.minute == 0 and (self.bucket == "1h" or local.time() == time())

    def _unsupported(self) -> InvalidRequestError:
        return _invalid("tz", "its UTC offset in this window is not a multiple of 15 minutes")

    def floor(self, moment: datetime) -> datetime:
        if self.bucket == "1d":
            return local_midnight(moment.astimezone(self.tz).date(), self.tz)
        if self.bucket == "1m":
            candidate = moment.replace(second=0, microsecond=0)
            if not self._is_boundary(candidate):
                raise self._unsupported()
            return candidate
        candidate = moment.replace(
            minute=moment.minute - moment.minute % 15, second=0, microsecond=0
        )
        for _ in range(12):
            if self._is_boundary(candidate):
                return candidate
            candidate -= QUARTER
        raise self._unsupported()

    def next(self, boundary: datetime) -> datetime:
        if self.bucket == "1d":
            day = boundary.astimezone(self.tz).date() + timedelta(days=1)
            return local_midnight(day, self.tz)
        step = STEPS[self.bucket]
        candidate = boundary + step
        if self._is_boundary(candidate):
            return candidate
        candidate = boundary + QUARTER  # a half-hour DST change (Australia/Lord_Howe)
        for _ in range(12):
            if self._is_boundary(candidate):
                return candidate
            candidate += QUARTER
        raise self._unsupported()

    def ceil(self, moment: datetime) -> datetime:
        floor = self.floor(moment)
        return floor if floor == moment else self.next(floor)

    def back(self, boundary: datetime, buckets: int) -> datetime:
        if self.bucket == "1d":
            day = boundary.astimezone(self.tz).date() - timedelta(days=buckets)
            return local_midnight(day, self.tz)
        return self.floor(boundary - buckets * STEPS[self.bucket])


class BucketGrid:
    """The buckets of one answer. boundaries[i] is where bucket i starts (UTC) and
    boundaries[i + 1] where it ends; previous_start is where the period before, of the same
    length, starts (for the trend). Not a NamedTuple: its len() is its number of buckets."""

    __slots__ = (
        "boundaries",
        "bucket",
        "labels",
        "period_end",
        "previous_start",
        "trend_known",
        "tz",
        "tz_name",
    )

    def __init__(  # noqa: PLR0917 — the dataclass's positional signature, kept
        self,
        bucket: BucketSize,
        tz: ZoneInfo,
        tz_name: str,
        boundaries: list[datetime],
        previous_start: datetime,
        period_end: datetime,  # what the answer states: now, or the end widened to a bucket
        labels: list[str],
        trend_known: bool,  # False when the period before lies beyond what the aggregates keep
    ) -> None:
        self.bucket = bucket
        self.tz = tz
        self.tz_name = tz_name
        self.boundaries = boundaries
        self.previous_start = previous_start
        self.period_end = period_end
        self.labels = labels
        self.trend_known = trend_known

    @property
    def start(self) -> datetime:
        return self.boundaries[0]

    @property
    def end(self) -> datetime:
        return self.boundaries[-1]

    def __len__(self) -> int:
        return len(self.boundaries) - 1

    def index_of(self, moment: datetime) -> int:
        """The bucket holding a moment: -1 before the first, len(self) from the end on."""
        return bisect_right(self.boundaries, moment) - 1


def _label(moment: datetime, bucket: BucketSize, tz: ZoneInfo, tz_name: str) -> str:
    if bucket == "1d":
        return moment.astimezone(tz).date().isoformat()
    if tz_name == "UTC":
        return utc_seconds(moment)
    return moment.astimezone(tz).isoformat()


def plan_buckets(span: Span, bucket: BucketSize | None, now: datetime) -> BucketGrid:
    """Cut a window into buckets, checking the limits: at most MAX_BUCKETS, and 1m buckets only
    within the minute aggregates' retention."""
    size: BucketSize = bucket or default_bucket(span)
    clock = _Clock(size, span.tz)
    now = now.astimezone(UTC)
    first = clock.floor(span.start)
    last = clock.ceil(span.end) if span.end_given else clock.next(clock.floor(now))
    step = STEPS[size]
    # Bucket lengths vary by at most an hour (DST): refuse huge windows before walking them.
    if (last - first) / step > MAX_BUCKETS * 1.1 + 2:
        raise _too_many(size)
    boundaries = [first]
    while boundaries[-1] < last:
        boundaries.append(clock.next(boundaries[-1]))
        if len(boundaries) > MAX_BUCKETS + 1:
            raise _too_many(size)
    oldest_minute = now - MINUTE_RETENTION
    if size == "1m" and first < oldest_minute:
        raise _invalid(
            "bucket",
            "1m buckets reach back 3 days (minute aggregates expire then): start after "
            f"{oldest_minute.strftime('%Y-%m-%dT%H:%M:%SZ')}, or use bucket=1h",
        )
    # The period before has as many buckets (a range: as long as the range).
    previous = len(boundaries) - 1 if span.duration is None else max(1, span.duration // step)
    previous_start = clock.back(first, previous)
    return BucketGrid(
        bucket=size,
        tz=span.tz,
        tz_name=span.tz_name,
        boundaries=boundaries,
        previous_start=previous_start,
        period_end=last if span.end_given else now,
        labels=[_label(b, size, span.tz, span.tz_name) for b in boundaries[:-1]],
        trend_known=size != "1m" or previous_start >= oldest_minute,
    )


class Period(NamedTuple):
    """A window with no buckets of its own (the summary): widened to whole buckets of its default
    size (an hour instead of a minute where minute aggregates no longer reach)."""

    start: datetime
    end: datetime
    period_end: datetime
    tz_name: str


def plan_period(span: Span, now: datetime) -> Period:
    now = now.astimezone(UTC)
    size = default_bucket(span)
    if size == "1m" and span.start < now - MINUTE_RETENTION:
        size = "1h"
    clock = _Clock(size, span.tz)
    first = clock.floor(span.start)
    last = clock.ceil(span.end) if span.end_given else clock.next(clock.floor(now))
    return Period(first, last, last if span.end_given else now, span.tz_name)


def _too_many(size: str) -> InvalidRequestError:
    return _invalid(
        "bucket",
        f"the window holds more than {MAX_BUCKETS:,} {size} buckets: use a larger bucket or a "
        "shorter window",
    )


# A UTC instant as the answers state period_start and period_end (core.utc).
utc_key = utc_seconds
