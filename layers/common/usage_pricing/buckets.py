"""Time buckets for the spend aggregates.

Billing adds every record to four granularities: minute (the 1h range), quarter-hour and hour
(the 1d range, and local days in zones whose offsets are not whole hours or are whole hours),
and UTC day (7d/30d/90d in UTC). A bucket is named by its UTC start, ISO-8601 with a Z, so
bucket keys sort chronologically as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

RangeName = Literal["1h", "1d", "7d", "30d", "90d"]


class Granularity(StrEnum):
    MINUTE = "M"
    QUARTER = "Q"
    HOUR = "H"
    DAY = "D"

    @property
    def step(self) -> timedelta:
        return {
            "M": timedelta(minutes=1),
            "Q": timedelta(minutes=15),
            "H": timedelta(hours=1),
            "D": timedelta(days=1),
        }[self.value]

    def floor(self, moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        if self is Granularity.DAY:
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self is Granularity.HOUR:
            return moment.replace(minute=0, second=0, microsecond=0)
        if self is Granularity.QUARTER:
            return moment.replace(
                minute=moment.minute - moment.minute % 15, second=0, microsecond=0
            )
        return moment.replace(second=0, microsecond=0)


# Minute aggregates only serve the last hour (and the hour before, for the trend).
MINUTE_RETENTION = timedelta(days=3)


def bucket_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_bucket(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
