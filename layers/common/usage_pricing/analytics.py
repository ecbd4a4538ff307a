"""Spend breakdown and usage summary (SPEC §7) from the aggregates alone."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from .buckets import Granularity, bucket_key
from .errors import FieldIssue, InvalidRequestError
from .storage.aggregates import AggregateItem, AggregateRepository

RANGES: dict[str, tuple[timedelta, Granularity]] = {
    "1h": (timedelta(hours=1), Granularity.MINUTE),
    "1d": (timedelta(days=1), Granularity.HOUR),
    "7d": (timedelta(days=7), Granularity.DAY),
    "30d": (timedelta(days=30), Granularity.DAY),
    "90d": (timedelta(days=90), Granularity.DAY),
}
TOP_APPS = 20


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequestError(
            f"unknown time zone {name!r}",
            errors=[FieldIssue("tz", "must be an IANA time zone name, e.g. Europe/Berlin")],
        ) from None


@dataclass(frozen=True)
class Period:
    """The buckets of one answer: label and UTC start of each, where the period starts and ends,
    where the previous period (for the trend) starts, and which aggregates serve it."""

    labels: list[str]
    starts: list[datetime]
    start: datetime
    end: datetime
    previous_start: datetime
    source: Granularity

    def index_of(self, moment: datetime) -> int:
        """The bucket a source bucket falls in; -1 for the previous period."""
        return bisect.bisect_right(self.starts, moment) - 1


def plan_period(range_name: str, tz: ZoneInfo, now: datetime) -> Period:
    duration, granularity = RANGES[range_name]
    now = now.astimezone(UTC)
    if granularity is not Granularity.DAY:
        start = granularity.floor(now - duration)
        starts = []
        moment = start
        while moment <= now:
            starts.append(moment)
            moment += granularity.step
        labels = [bucket_key(s) for s in starts]
        return Period(labels, starts, start, now, start - duration, granularity)
    # Local days: midnight to midnight in the zone, 23 or 25 hours across a DST change.
    local_now = now.astimezone(tz)
    first_day = (local_now - duration).date()
    days = [first_day + timedelta(days=i) for i in range((local_now.date() - first_day).days + 1)]
    starts = [datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC) for d in days]
    previous_day = first_day - timedelta(days=duration.days)
    previous_start = datetime(
        previous_day.year, previous_day.month, previous_day.day, tzinfo=tz
    ).astimezone(UTC)
    boundaries = [*starts, previous_start]
    if all(b.hour == 0 and b.minute == 0 for b in boundaries):
        source = Granularity.DAY
    elif all(b.minute == 0 for b in boundaries):
        source = Granularity.HOUR
    else:
        source = Granularity.QUARTER
    return Period([d.isoformat() for d in days], starts, starts[0], now, previous_start, source)


class TimeBucket(BaseModel):
    date: str = Field(
        description="Bucket start: a date for day buckets, else an ISO UTC timestamp."
    )
    per_app: dict[str, int] = Field(description="Microcents per app endpoint (namespace/name).")


class AppSpend(BaseModel):
    app_endpoint: str
    call_count: int
    cost: int


def _no_trend(value: object) -> bool:
    return value is None


class Breakdown(BaseModel):
    timeseries: list[TimeBucket]
    per_model: list[AppSpend] = Field(description="Top apps by cost (historical field name).")
    models: list[str]
    total_cost: int
    period_start: str
    period_end: str
    trend_percent: float | None = Field(default=None, exclude_if=_no_trend)


class UsageSummary(BaseModel):
    tier_usage: dict[str, int]
    type_usage: dict[str, int]
    model_usage: dict[str, int]
    total_usage: int


class SpendAnalytics:
    def __init__(
        self,
        aggregates: AggregateRepository,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.aggregates = aggregates
        self.clock = clock

    def _items(
        self, team_id: str, period: Period, *, with_previous: bool
    ) -> Iterable[tuple[int, AggregateItem]]:
        first = period.previous_start if with_previous else period.start
        last = period.source.floor(period.end)  # the source bucket holding "now"
        items = self.aggregates.read(team_id, period.source, bucket_key(first), bucket_key(last))
        for item in items:
            moment = datetime.strptime(item.bucket, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if moment < first:
                continue
            yield period.index_of(moment), item

    def breakdown(
        self, team_id: str, range_name: str = "30d", tz_name: str | None = None
    ) -> Breakdown:
        period = plan_period(range_name, zone(tz_name), self.clock())
        series: list[dict[str, int]] = [{} for _ in period.labels]
        calls: dict[str, int] = {}
        costs: dict[str, int] = {}
        previous_total = 0
        for index, item in self._items(team_id, period, with_previous=True):
            cost, count = item.counters.get("cost", 0), item.counters.get("calls", 0)
            if index < 0:
                previous_total += cost
                continue
            if cost or count:
                series[index][item.app] = series[index].get(item.app, 0) + cost
                costs[item.app] = costs.get(item.app, 0) + cost
                calls[item.app] = calls.get(item.app, 0) + count
        ranked = sorted(
            (app for app in costs if calls[app] or costs[app]), key=lambda app: (-costs[app], app)
        )
        total = sum(costs.values())
        trend = (
            None
            if previous_total == 0
            else round((total - previous_total) * 100 / previous_total, 2)
        )
        return Breakdown(
            timeseries=[
                TimeBucket(date=label, per_app=apps)
                for label, apps in zip(period.labels, series, strict=True)
            ],
            per_model=[
                AppSpend(app_endpoint=app, call_count=calls[app], cost=costs[app])
                for app in ranked[:TOP_APPS]
            ],
            models=ranked,
            total_cost=total,
            period_start=bucket_key(period.start),
            period_end=bucket_key(period.end),
            trend_percent=trend,
        )

    def summary(
        self, team_id: str, range_name: str = "30d", tz_name: str | None = None
    ) -> UsageSummary:
        period = plan_period(range_name, zone(tz_name), self.clock())
        dimensions: dict[str, dict[str, int]] = {"tier": {}, "type": {}, "model": {}}
        total = 0
        for _, item in self._items(team_id, period, with_previous=False):
            for name, seconds in item.counters.items():
                if name == "u:total":
                    total += seconds
                elif name.startswith("u:"):
                    _, dimension, value = name.split(":", 2)
                    bucket = dimensions[dimension]
                    bucket[value] = bucket.get(value, 0) + seconds
        clean = {
            d: {k: v for k, v in sorted(values.items()) if v} for d, values in dimensions.items()
        }
        return UsageSummary(
            tier_usage=clean["tier"],
            type_usage=clean["type"],
            model_usage=clean["model"],
            total_usage=total,
        )
