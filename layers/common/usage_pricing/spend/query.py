"""What the spend routes (breakdown, usage summary, their CSV) share: the query, and the message
of a figure outside int64 (collected by core.views.Figures as an error on that figure, the same
{field, message} shape as a problem's errors). Apart from both, so each function imports only its
own answer's models (docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from usage_pricing.core.windows import BucketSize, RangeName, Span, resolve_span
from usage_pricing.storage.aggregates import COARSEST_FIRST, Granularity

if TYPE_CHECKING:
    from usage_pricing.spend.aggregate_reader import AggregateRepository

GroupBy = Literal["app", "fee", "tier"]
OVERFLOW = "the sum lies outside int64: narrow the window or filter the apps"


class SpendQuery(NamedTuple):
    """What a spend request asks for, as the handler received it (validated further here)."""

    range: RangeName | None = None
    start: str | None = None
    end: str | None = None
    tz: str | None = None
    bucket: BucketSize | None = None
    group_by: GroupBy = "app"
    apps: tuple[str, ...] = ()


class SpendReader:
    """Reads a team's spend from the aggregates, as of `clock` (the breakdown, the summary)."""

    def __init__(
        self,
        aggregates: AggregateRepository,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.aggregates = aggregates
        self.clock = clock

    def span(self, query: SpendQuery, default_range: str) -> Span:
        """The window the query asks for, as of now (each violation a 400 naming its field)."""
        return resolve_span(
            range_name=query.range,
            start=query.start,
            end=query.end,
            tz_name=query.tz,
            now=self.clock(),
            default_range=default_range,
        )


def source_granularity(moments: Iterable[datetime]) -> Granularity:
    """The coarsest aggregate granularity every boundary is aligned to."""
    points = list(moments)
    for granularity in COARSEST_FIRST:
        if all(granularity.aligned(m) for m in points):
            return granularity
    raise AssertionError("every boundary is a whole minute")  # pragma: no cover


__all__ = [
    "OVERFLOW",
    "GroupBy",
    "SpendQuery",
    "SpendReader",
    "source_granularity",
]
