"""Time windows (docs/api.md): range or start/end, buckets on the local clock of tz, and every 400."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from usage_pricing import InvalidRequestError
from usage_pricing.core.windows import (
    BucketGrid,
    default_bucket,
    local_midnight,
    parse_moment,
    plan_buckets,
    resolve_span,
    zone,
)

NOW = datetime(2026, 11, 22, 8, 30, 15, tzinfo=UTC)


def grid(now: datetime = NOW, bucket: Any = None, **query: Any) -> BucketGrid:
    span = resolve_span(
        range_name=query.get("range"),
        start=query.get("start"),
        end=query.get("end"),
        tz_name=query.get("tz"),
        now=now,
        default_range="30d",
    )
    return plan_buckets(span, bucket, now)


def lengths(g: BucketGrid) -> dict[str, timedelta]:
    return {
        label: b - a
        for label, a, b in zip(g.labels, g.boundaries[:-1], g.boundaries[1:], strict=True)
    }


@pytest.mark.parametrize(
    ("range_name", "buckets", "first", "bucket"),
    [
        ("1h", 61, "2026-11-22T07:30:00Z", "1m"),
        ("1d", 25, "2026-11-21T08:00:00Z", "1h"),
        ("7d", 8, "2026-11-15", "1d"),
        ("30d", 31, "2026-10-23", "1d"),
        ("90d", 91, "2026-08-24", "1d"),
    ],
)
def test_given_a_range_when_planned_then_the_answer_keeps_its_buckets(
    range_name: str, buckets: int, first: str, bucket: str
) -> None:
    planned = grid(range=range_name)
    assert (len(planned), planned.labels[0], planned.bucket) == (buckets, first, bucket)
    assert planned.period_end == NOW
    assert planned.index_of(NOW) == len(planned) - 1  # now is in the last bucket


@pytest.mark.parametrize(
    ("range_name", "before"),
    [("1h", timedelta(hours=1)), ("1d", timedelta(days=1)), ("7d", timedelta(days=7))],
)
def test_given_a_range_when_planned_then_the_period_before_is_as_long(
    range_name: str, before: timedelta
) -> None:
    planned = grid(range=range_name)
    assert planned.start - planned.previous_start == before


def test_given_now_on_a_boundary_when_planned_then_now_starts_the_last_bucket() -> None:
    aligned = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    planned = grid(aligned, range="1h")
    assert (planned.labels[0], planned.labels[-1], len(planned)) == (
        "2026-11-22T07:00:00Z",
        "2026-11-22T08:00:00Z",
        61,
    )
    assert planned.index_of(aligned - timedelta(microseconds=1)) == 59


@pytest.mark.parametrize(
    ("tz", "start", "end", "expected"),
    [
        # Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25.
        (
            "Europe/Berlin",
            "2026-03-28",
            "2026-03-31",
            {"2026-03-28": 24, "2026-03-29": 23, "2026-03-30": 24},
        ),
        (
            "Europe/Berlin",
            "2026-10-24",
            "2026-10-27",
            {"2026-10-24": 24, "2026-10-25": 25, "2026-10-26": 24},
        ),
        ("America/New_York", "2026-03-08", "2026-03-09", {"2026-03-08": 23}),
        ("America/New_York", "2026-11-01", "2026-11-02", {"2026-11-01": 25}),
        # Lord Howe moves its clocks by half an hour.
        ("Australia/Lord_Howe", "2026-04-05", "2026-04-06", {"2026-04-05": 24.5}),
        ("Asia/Kolkata", "2026-11-20", "2026-11-22", {"2026-11-20": 24, "2026-11-21": 24}),
    ],
)
def test_given_a_zone_with_dst_when_days_are_planned_then_they_have_23_or_25_hours(
    tz: str, start: str, end: str, expected: dict[str, float]
) -> None:
    planned = grid(start=start, end=end, tz=tz, bucket="1d")
    assert {k: v / timedelta(hours=1) for k, v in lengths(planned).items()} == expected


@pytest.mark.parametrize(
    ("tz", "day", "starts_at"),
    [
        ("UTC", "2026-11-21", "2026-11-21T00:00:00+00:00"),
        ("Europe/Berlin", "2026-11-21", "2026-11-20T23:00:00+00:00"),
        ("Europe/Berlin", "2026-07-21", "2026-07-20T22:00:00+00:00"),
        ("Asia/Kolkata", "2026-11-21", "2026-11-20T18:30:00+00:00"),
        ("Asia/Kathmandu", "2026-11-21", "2026-11-20T18:15:00+00:00"),
        ("Pacific/Chatham", "2026-11-21", "2026-11-20T10:15:00+00:00"),
        ("America/St_Johns", "2026-11-21", "2026-11-21T03:30:00+00:00"),
        # Santiago's clocks jump from 24:00 to 01:00: that day starts at its 01:00.
        ("America/Santiago", "2026-09-06", "2026-09-06T04:00:00+00:00"),
    ],
)
def test_given_a_date_when_parsed_then_it_is_local_midnight(
    tz: str, day: str, starts_at: str
) -> None:
    assert parse_moment(day, "start", ZoneInfo(tz)).isoformat() == starts_at
    assert local_midnight(datetime.fromisoformat(day).date(), ZoneInfo(tz)).isoformat() == starts_at


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00+00:00"),
        ("2026-11-20t10:00:00z", "2026-11-20T10:00:00+00:00"),
        ("2026-11-20T10:00:00+05:30", "2026-11-20T04:30:00+00:00"),
        ("2026-11-20T10:00:00-03:00", "2026-11-20T13:00:00+00:00"),
        ("2026-11-20T10:00:00 01:00", "2026-11-20T09:00:00+00:00"),  # a "+" a URL turned into " "
        ("2026-11-20T10:00:00.123456789Z", "2026-11-20T10:00:00.123456+00:00"),
    ],
)
def test_given_rfc3339_when_parsed_then_it_is_the_same_instant(text: str, utc: str) -> None:
    assert parse_moment(text, "start", ZoneInfo("Asia/Tokyo")).isoformat() == utc


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T10:00:00",  # no offset
        "2026-11-20 10:00:00Z",
        "20261120",
        "2026-13-01",
        "2026-02-30",
        "2026-11-20T25:00:00Z",
        "yesterday",
        "1999-12-31",
        "3000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: was an OverflowError (a 500)
        "",
    ],
)
def test_given_a_malformed_moment_when_parsed_then_it_is_a_400_on_the_field(text: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_moment(text, "end", ZoneInfo("UTC"))
    assert [e.field for e in raised.value.errors] == ["end"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"range": "7d", "start": "2026-11-01"}, "range"),
        ({"range": "7d", "end": "2026-11-01"}, "range"),
        ({"end": "2026-11-01"}, "start"),
        ({"start": "2026-11-10", "end": "2026-11-10"}, "end"),
        ({"start": "2026-11-10", "end": "2026-11-09"}, "end"),
        ({"start": "2026-11-23"}, "end"),  # after now, no end: the window would end before it
        ({"start": "2026-11-01", "tz": "Mars/Olympus"}, "tz"),
        ({"start": "2026-01-01", "bucket": "1h"}, "bucket"),  # 7,800 hours
        ({"start": "2020-01-01", "bucket": "1d"}, "bucket"),  # 2,517 days
        (
            {"start": "2026-11-18T00:00:00Z", "end": "2026-11-18T02:00:00Z"},
            "bucket",
        ),  # 1m, 4 days ago
        ({"start": "2026-11-19T08:00:00Z", "bucket": "1m"}, "bucket"),
    ],
)
def test_given_a_bad_window_when_planned_then_it_is_a_400_naming_the_field(
    query: dict[str, str], field: str
) -> None:
    bucket = query.pop("bucket", None)
    with pytest.raises(InvalidRequestError) as raised:
        grid(bucket=bucket, **query)
    assert [e.field for e in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("start", "end", "bucket"),
    [
        ("2026-11-22T06:30:00Z", "2026-11-22T08:30:00Z", "1m"),  # 2 h
        ("2026-11-22T06:29:59Z", "2026-11-22T08:30:00Z", "1h"),  # 2 h 1 s
        ("2026-11-20T08:30:00Z", "2026-11-22T08:30:00Z", "1h"),  # 2 days
        ("2026-11-20T08:29:59Z", "2026-11-22T08:30:00Z", "1d"),
    ],
)
def test_given_no_bucket_when_planned_then_the_span_chooses_it(
    start: str, end: str, bucket: str
) -> None:
    span = resolve_span(
        range_name=None, start=start, end=end, tz_name=None, now=NOW, default_range="30d"
    )
    assert default_bucket(span) == bucket


def test_given_unaligned_start_and_end_when_planned_then_they_widen_to_whole_buckets() -> None:
    planned = grid(start="2026-11-21T10:07:33Z", end="2026-11-21T12:30:01Z")
    assert (planned.bucket, planned.start, planned.end, planned.period_end) == (
        "1h",
        datetime(2026, 11, 21, 10, tzinfo=UTC),
        datetime(2026, 11, 21, 13, tzinfo=UTC),
        datetime(2026, 11, 21, 13, tzinfo=UTC),
    )
    assert planned.labels == [
        "2026-11-21T10:00:00Z",
        "2026-11-21T11:00:00Z",
        "2026-11-21T12:00:00Z",
    ]
    # Explicit windows compare with as many buckets before.
    assert planned.previous_start == datetime(2026, 11, 21, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "labels"),
    [
        ("Asia/Kolkata", ["2026-11-21T10:00:00+05:30", "2026-11-21T11:00:00+05:30"]),
        ("Asia/Kathmandu", ["2026-11-21T10:00:00+05:45", "2026-11-21T11:00:00+05:45"]),
        ("UTC", ["2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z"]),
    ],
)
def test_given_a_zone_when_hours_are_planned_then_they_follow_its_clock(
    tz: str, labels: list[str]
) -> None:
    tzinfo = ZoneInfo(tz)
    start = datetime(2026, 11, 21, 10, tzinfo=tzinfo).isoformat()
    end = datetime(2026, 11, 21, 12, tzinfo=tzinfo).isoformat()
    planned = grid(start=start, end=end, tz=tz, bucket="1h")
    assert planned.labels == labels
    assert all(b.minute % 15 == 0 for b in planned.boundaries)


def test_given_lord_howe_when_hours_cross_its_half_hour_change_then_one_lasts_90_minutes() -> None:
    planned = grid(
        start="2026-10-04T00:00:00+10:30",
        end="2026-10-04T05:00:00+11:00",
        tz="Australia/Lord_Howe",
        bucket="1h",
    )
    assert sorted({v / timedelta(minutes=1) for v in lengths(planned).values()}) == [60.0, 90.0]


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "Europe",
        "America",
        "../etc/passwd",
        "UTC+5",
        "localtime",
        "europe/berlin",
        "A" * 300,
        "Europe/" + "x" * 250,
        "\x00",
        " UTC",
    ],
)
def test_given_a_name_that_is_no_zone_when_validated_then_it_is_a_400_without_a_file_lookup(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from usage_pricing.core import windows

    def no_lookup(key: str) -> ZoneInfo:
        raise AssertionError(f"looked up {key!r}")

    zone("UTC")  # the list of names is read once, before the lookups are watched
    monkeypatch.setattr(windows, "ZoneInfo", no_lookup)
    with pytest.raises(InvalidRequestError) as raised:
        zone(name)
    assert raised.value.errors[0].field == "tz"


@pytest.mark.parametrize("name", [None, "", "UTC", "Europe/Berlin", "Asia/Kathmandu", "Etc/GMT+5"])
def test_given_an_iana_name_when_validated_then_it_is_that_zone(name: str | None) -> None:
    assert zone(name).key == (name or "UTC")
