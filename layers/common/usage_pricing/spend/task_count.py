"""How many tasks the task list's window holds (its first page's `count`, docs/api.md), from the
spend aggregates and never from the records.

Counting records would read every one of them (a Query with Select=COUNT still reads each item
it counts): a 90-day window of a busy team is millions of reads. The aggregates already count
every billed task in the UTC bucket it completed in (storage.aggregates): `calls` counts the
charged ones and `r:calls` the refunded ones (a refund takes its call out of `calls` and adds it
to `r:calls`), so `calls + r:calls` over a window is every record in it, whatever its status,
charged or not (a failed task is a record with a call and nothing charged).

The window is widened outward to whole minutes, or to whole quarter-hours where minute items may
have expired (they live MINUTE_RETENTION, 3 days; MINUTE_MARGIN keeps a window that starts just
inside it from reaching items the TTL is about to drop), and then cut into the coarsest UTC
buckets that tile it: whole days as day items and only the two edges as hour, quarter-hour and
minute items. A 90-day window thus reads about 90 day items plus at most 46 hour, 6 quarter-hour
and 28 minute items per app and shard, in at most 7 ranges (one Query per shard each), however
busy the team. The answer states the widened window it counted (`start`, `end`): when it is the
list's own window (bounds on whole minutes, or whole quarter-hours beyond three days) the count
is exact for it.

No count is a guess: it is None (the answer's `count: null`) when its reads do not fit a budget
of their own, asked before every Query (core.deadline.WorkBudget.within): the aggregate reader's
items (a long window of many apps or hot shards), COUNT_MAX_QUERIES Queries (one per range and
shard at least: a deployment of many AggregateShards, or day items a team made large, which fill
DynamoDB's 1 MB pages with fewer of them) and COUNT_SECONDS of the request's deadline. The count
is an extra of the first page, so it may take only a share of the time: the list's own reads
keep the rest (before, the deadline was asked once per range, after all of its shards' pages,
so a slow count ran on into the list's time). A transient failure of the aggregates (a
throttle) is None as well; any other storage failure fails the page closed (a 503).

What it cannot see: refunds written before the aggregates had `r:calls` (records of aggregate
layout 1 refunded by those releases) left their call in neither counter, so such a task is
missing from the count; recomputing the aggregates from the records restores it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from usage_pricing.core.deadline import WorkBudget
from usage_pricing.core.errors import AnswerTooLargeError, StorageError
from usage_pricing.core.observability import logger
from usage_pricing.storage.aggregates import (
    CALLS,
    COARSEST_FIRST,
    MINUTE_RETENTION,
    REFUNDED_CALLS,
    Granularity,
    bucket_key,
)

if TYPE_CHECKING:
    from usage_pricing.spend.aggregate_reader import AggregateRepository

# A window whose start is older than MINUTE_RETENTION less this is counted in quarter-hours: its
# minute items may already be gone by the time they are read (TTL drops them at expiry or later,
# never earlier; the margin covers the clocks' skew and the request's own time).
MINUTE_MARGIN = timedelta(hours=1)
COUNTERS = (CALLS, REFUNDED_CALLS)
# The count's own read budget (module docstring). 7 ranges × the default 4 shards is 28 Queries;
# the rest are further 1 MB pages. COUNT_SECONDS of the task list's 7.5 s (its 10 s timeout less
# its margin) leave the list's own reads 5 s.
COUNT_MAX_QUERIES = 64
COUNT_SECONDS = 2.5


class Counted(NamedTuple):
    """The tasks completing in [start, end): the list's window widened to whole buckets."""

    tasks: int
    start: datetime
    end: datetime


class Piece(NamedTuple):
    """Buckets of one granularity from `start` (inclusive) to `end` (exclusive)."""

    granularity: Granularity
    start: datetime
    end: datetime


def widened(
    start: datetime, end: datetime, now: datetime
) -> tuple[Granularity, datetime, datetime]:
    """The unit a window is counted in, and the window widened outward to whole units of it."""
    minutes_reach = now - MINUTE_RETENTION + MINUTE_MARGIN
    unit = Granularity.MINUTE if start >= minutes_reach else Granularity.QUARTER
    return unit, unit.floor(start), unit.ceil(end)


def pieces(start: datetime, end: datetime, unit: Granularity) -> list[Piece]:
    """[start, end) (aligned to `unit`) as the coarsest UTC buckets that tile it: the whole days
    inside it, then whole hours inside what is left at each edge, and so on down to `unit`."""
    levels = COARSEST_FIRST[: COARSEST_FIRST.index(unit) + 1]
    out: list[Piece] = []

    def cover(first: datetime, last: datetime, depth: int) -> None:
        if first >= last:
            return
        granularity = levels[depth]
        inner_first, inner_last = granularity.ceil(first), granularity.floor(last)
        if inner_first < inner_last:
            out.append(Piece(granularity, inner_first, inner_last))
            cover(first, inner_first, depth + 1)
            cover(inner_last, last, depth + 1)
        else:
            cover(first, last, depth + 1)

    cover(start, end, 0)
    return out


class TaskCounter:
    def __init__(self, aggregates: AggregateRepository) -> None:
        self.aggregates = aggregates

    def count(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        *,
        now: datetime,
        apps: Sequence[str] = (),
        budget: WorkBudget | None = None,
    ) -> Counted | None:
        """The team's tasks (of `apps`, or all) completing in [start, end) widened; None when
        that cannot be read within the count's budget, a share of the request's `budget`."""
        unit, first, last = widened(start, end, now)
        tasks = 0
        # The reader's item limit holds for the count as a whole, on the items DynamoDB evaluated
        # (an app filter narrows what they return, not what they read): a Query may start while
        # no more than it were read.
        limit = self.aggregates.max_items
        reads = (
            budget.within(COUNT_SECONDS, max_items=limit + 1, max_queries=COUNT_MAX_QUERIES)
            if budget is not None
            else WorkBudget(COUNT_SECONDS, max_items=limit + 1, max_queries=COUNT_MAX_QUERIES)
        )
        for piece in pieces(first, last, unit):
            try:
                cells = self.aggregates.read(
                    team_id,
                    piece.granularity,
                    bucket_key(piece.start),
                    bucket_key(piece.end - piece.granularity.step),
                    counters=COUNTERS,
                    apps=apps or None,
                    budget=reads,
                )
            except AnswerTooLargeError:
                return None
            except StorageError as error:
                # A transient one (the aggregates throttled by a busy breakdown, say) costs the
                # count, not the page: the list's reads are of another table. Any other (a
                # missing table or denied access: the deployment's problem) fails closed, a 503.
                if not error.retryable:
                    raise
                logger.warning("task list count not read", extra={"error": error.detail})
                return None
            if reads.items > limit:
                return None
            tasks += sum(
                c.counters.get(CALLS, 0) + c.counters.get(REFUNDED_CALLS, 0) for c in cells
            )
        return Counted(tasks, first, last)
