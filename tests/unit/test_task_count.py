"""The task list's count (spend.task_count): how a window is widened and cut into the coarsest UTC
aggregate buckets, so that a long window reads about one item per day per app and shard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from usage_pricing.spend.task_count import MINUTE_MARGIN, Piece, pieces, widened
from usage_pricing.storage.aggregates import MINUTE_RETENTION, Granularity

NOW = datetime(2026, 11, 22, 8, 30, 17, tzinfo=UTC)
D, H, Q, M = Granularity.DAY, Granularity.HOUR, Granularity.QUARTER, Granularity.MINUTE


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # within the minute retention: whole minutes, outward
        (NOW - timedelta(hours=1), NOW, (M, "2026-11-22 07:30:00", "2026-11-22 08:31:00")),
        ("2026-11-20T10:10:00", "2026-11-20T10:11:00", (M, "2026-11-20 10:10:00", "2026-11-20 10:11:00")),
        # the last minute before the margin, and the first past it: quarter-hours, outward
        (NOW - MINUTE_RETENTION + MINUTE_MARGIN, NOW, (M, "2026-11-19 09:30:00", "2026-11-22 08:31:00")),
        (NOW - MINUTE_RETENTION + MINUTE_MARGIN - timedelta(microseconds=1), NOW, (Q, "2026-11-19 09:30:00", "2026-11-22 08:45:00")),
        ("2026-08-24T10:07:00", "2026-11-22T08:30:17", (Q, "2026-08-24 10:00:00", "2026-11-22 08:45:00")),
    ],
)  # fmt: skip
def test_given_a_window_when_widened_then_it_is_whole_minutes_within_the_retention_else_quarters(
    start: datetime | str, end: datetime | str, expected: tuple[Granularity, str, str]
) -> None:
    first = utc(start) if isinstance(start, str) else start
    last = utc(end) if isinstance(end, str) else end
    unit, low, high = widened(first, last, NOW)
    assert (unit, str(low.replace(tzinfo=None)), str(high.replace(tzinfo=None))) == expected


def tiles(found: list[Piece], start: datetime, end: datetime) -> bool:
    """The pieces cover [start, end) once: each aligned to its granularity, end to end."""
    spans = sorted((p.start, p.end) for p in found)
    joined = all(a[1] == b[0] for a, b in pairwise(spans))
    aligned = all(
        p.granularity.aligned(p.start) and p.granularity.aligned(p.end) and p.start < p.end
        for p in found
    )
    return joined and aligned and spans[0][0] == start and spans[-1][1] == end


def buckets(found: list[Piece], granularity: Granularity) -> int:
    return sum((p.end - p.start) // granularity.step for p in found if p.granularity is granularity)


def test_given_a_90_day_window_of_awkward_bounds_when_cut_then_whole_days_are_day_items_and_only_the_edges_are_finer() -> (
    None
):
    start, end = utc("2026-08-24T10:15:00"), utc("2026-11-22T13:45:00")
    found = pieces(start, end, Q)
    assert tiles(found, start, end)
    # days Aug 25 … Nov 21; hours 11:00-24:00 and 00:00-13:00; quarters 10:15-11:00, 13:00-13:45:
    # 121 items per app and shard, where about 8,600 quarter-hour items would tile it
    assert [buckets(found, g) for g in (D, H, Q, M)] == [89, 26, 6, 0]
    assert len(found) == 5  # range reads: one Query per shard each


def test_given_the_worst_edges_when_cut_to_minutes_then_a_window_reads_at_most_a_few_dozen_finer_items() -> (
    None
):
    start, end = utc("2026-11-19T00:01:00"), utc("2026-11-21T23:59:00")
    found = pieces(start, end, M)
    assert tiles(found, start, end)
    # day Nov 20; 23 + 23 hours; 3 + 3 quarters; 14 + 14 minutes: 81 items per app and shard
    assert [buckets(found, g) for g in (D, H, Q, M)] == [1, 46, 6, 28]
    assert len(found) == 7


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-20T10:10:00", "2026-11-20T10:14:00", [(M, 4)]),
        ("2026-11-20T10:00:00", "2026-11-20T11:00:00", [(H, 1)]),
        ("2026-11-20T00:00:00", "2026-11-22T00:00:00", [(D, 2)]),
        ("2026-11-20T23:45:00", "2026-11-21T00:15:00", [(Q, 2)]),
        ("2026-11-20T23:59:00", "2026-11-21T00:01:00", [(M, 2)]),
    ],
)
def test_given_aligned_or_short_windows_when_cut_then_they_read_the_coarsest_buckets_that_fit(
    start: str, end: str, expected: list[tuple[Granularity, int]]
) -> None:
    found = pieces(utc(start), utc(end), M)
    assert tiles(found, utc(start), utc(end))
    assert [(p.granularity, (p.end - p.start) // p.granularity.step) for p in found] == expected
