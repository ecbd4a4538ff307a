from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from usage_pricing import InvalidRequestError
from usage_pricing.analytics import Period, plan_period, zone
from usage_pricing.buckets import Granularity

NOW = datetime(2026, 11, 22, 8, 30, 15, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("range_name", "buckets", "first", "source"),
    [
        ("1h", 61, "2026-11-22T07:30:00Z", Granularity.MINUTE),
        ("1d", 25, "2026-11-21T08:00:00Z", Granularity.HOUR),
        ("7d", 8, "2026-11-15", Granularity.DAY),
        ("30d", 31, "2026-10-23", Granularity.DAY),
        ("90d", 91, "2026-08-24", Granularity.DAY),
    ],
)
def test_dense_series_length_per_range(
    range_name: str, buckets: int, first: str, source: Granularity
) -> None:
    period = plan_period(range_name, UTC_ZONE, NOW)
    assert len(period.labels) == buckets
    assert period.labels[0] == first
    assert period.source is source
    assert period.end == NOW
    steps = {b - a for a, b in zip(period.starts, period.starts[1:], strict=False)}
    assert steps == {source.step}


def test_previous_period_has_the_same_length() -> None:
    period = plan_period("7d", UTC_ZONE, NOW)
    assert period.start - period.previous_start == timedelta(days=7)
    period = plan_period("1h", UTC_ZONE, NOW)
    assert period.start - period.previous_start == timedelta(hours=1)


def test_boundary_now_is_its_own_bucket() -> None:
    aligned = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
    period = plan_period("1h", UTC_ZONE, aligned)
    assert (period.labels[0], period.labels[-1], len(period.labels)) == (
        "2026-11-22T07:00:00Z",
        "2026-11-22T08:00:00Z",
        61,
    )
    assert period.index_of(aligned) == 60
    assert period.index_of(aligned - timedelta(microseconds=1)) == 59
    assert period.index_of(period.start - timedelta(minutes=1)) == -1


def day_lengths(period: Period) -> dict[str, timedelta]:
    """Each complete day's length (the last, current day has no end yet)."""
    return {
        label: end - start
        for label, start, end in zip(period.labels, period.starts, period.starts[1:], strict=False)
    }


def test_local_days_across_dst_have_23_and_25_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    spring = day_lengths(plan_period("7d", berlin, datetime(2026, 3, 31, 12, tzinfo=UTC)))
    assert (spring["2026-03-29"], spring["2026-03-28"]) == (
        timedelta(hours=23),
        timedelta(hours=24),
    )
    autumn = plan_period("7d", berlin, datetime(2026, 10, 27, 12, tzinfo=UTC))
    assert day_lengths(autumn)["2026-10-25"] == timedelta(hours=25)
    assert autumn.source is Granularity.HOUR
    assert autumn.starts[0] == datetime(2026, 10, 19, 22, tzinfo=UTC)  # local midnight, UTC+2


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("UTC", Granularity.DAY),
        ("America/New_York", Granularity.HOUR),
        ("Asia/Kolkata", Granularity.QUARTER),
        ("Asia/Kathmandu", Granularity.QUARTER),
    ],
)
def test_source_granularity_follows_the_zone(name: str, source: Granularity) -> None:
    assert plan_period("30d", ZoneInfo(name), NOW).source is source


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "", "UTC+5"])
def test_unknown_zones_are_400(name: str) -> None:
    if name == "":
        assert zone(name) == ZoneInfo("UTC")  # empty means the default
        return
    with pytest.raises(InvalidRequestError) as raised:
        zone(name)
    assert raised.value.errors[0].field == "tz"
