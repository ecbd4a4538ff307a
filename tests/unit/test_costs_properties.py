"""Properties of the OpenAI-shaped costs feed over any set of billed tasks, through the real
aggregate schema and reader (tests/fakes.py holds the items): paged one bucket at a time, its
amounts add up, exactly, to the breakdown's figures for the same window and filters."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.spend_helpers import (
    APPS,
    FIRST_DAYS,
    NOW,
    SETTINGS,
    TEAM,
    Task,
    tasks,
    world,
)
from usage_pricing.core.cursors import CursorSigner
from usage_pricing.spend.costs import CostsFeed, CostsQuery, render_page
from usage_pricing.spend.query import SpendQuery

SIGNER = CursorSigner("a test deployment's cursor secret, 32+ characters")

GROUPINGS = (
    (),
    ("project_id",),
    ("line_item",),
    ("project_id", "line_item"),
    ("line_item", "project_id"),
)


def microcents(value: Any) -> int:
    """A JSON amount (parsed as Decimal, as written) back to microcents; it must be exact."""
    scaled = Decimal(value) * 100_000_000
    assert scaled == scaled.to_integral_value(), value
    return int(scaled)


def all_pages(feed: CostsFeed, query: CostsQuery) -> list[dict[str, Any]]:
    """Every bucket of the query, fetched `limit` at a time through next_page."""
    buckets: list[dict[str, Any]] = []
    page: str | None = None
    for _ in range(1_000):
        text = render_page(feed.page(TEAM, query._replace(page=page)))
        body = json.loads(text, parse_float=Decimal)
        assert len(body["data"]) <= query.limit
        buckets += body["data"]
        if not body["has_more"]:
            assert body["next_page"] is None
            return buckets
        page = body["next_page"]
    raise AssertionError("paging did not end")


window = st.tuples(
    st.sampled_from(FIRST_DAYS),
    st.integers(-1, 5),  # first day offset
    st.integers(1, 3),  # days
    st.integers(0, 86_399),  # seconds into the first day the start_time lies
)


@SETTINGS
@given(
    st.sampled_from(FIRST_DAYS).flatmap(lambda first: st.tuples(st.just(first), tasks(first))),
    window,
    st.sampled_from(["1d", "1h"]),
    st.sampled_from(GROUPINGS),
    st.lists(st.sampled_from(APPS), max_size=2, unique=True),
)
def test_given_any_tasks_when_paged_one_bucket_at_a_time_then_the_sums_are_the_breakdowns(
    case: tuple[date, list[Task]],
    span: tuple[date, int, int, int],
    width: str,
    group_by: tuple[str, ...],
    apps: list[str],
) -> None:
    first, billed = case
    _, offset, days, into = span
    day = datetime.combine(first + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
    start_time = int(day.timestamp()) + (into if width == "1d" else into - into % 3600)
    end = day + timedelta(days=days)
    analytics = world(billed)
    feed = CostsFeed(analytics.aggregates, SIGNER, clock=lambda: NOW)
    query = CostsQuery(
        start_time=start_time,
        end_time=int(end.timestamp()),
        bucket_width=width,  # type: ignore[arg-type]
        group_by=group_by,  # type: ignore[arg-type]
        project_ids=tuple(apps),
        limit=1,
    )
    buckets = all_pages(feed, query)

    # The window widened down to a bucket: the breakdown of exactly those buckets.
    width_seconds = 86_400 if width == "1d" else 3_600
    first_bucket = start_time - start_time % width_seconds
    assert [b["start_time"] for b in buckets] == list(
        range(first_bucket, int(end.timestamp()), width_seconds)
    )
    assert all(b["end_time"] == b["start_time"] + width_seconds for b in buckets)
    start_iso = datetime.fromtimestamp(first_bucket, UTC).isoformat()
    by_app = analytics.breakdown(
        TEAM, SpendQuery(start=start_iso, end=end.isoformat(), bucket=width, apps=tuple(apps))
    ).model
    by_fee = analytics.breakdown(
        TEAM,
        SpendQuery(
            start=start_iso, end=end.isoformat(), bucket=width, group_by="fee", apps=tuple(apps)
        ),
    ).model
    assert len(by_app.timeseries) == len(buckets)

    total = 0
    per_app: dict[str, int] = defaultdict(int)
    per_fee: dict[str, int] = defaultdict(int)
    for bucket, app_bucket, fee_bucket in zip(
        buckets, by_app.timeseries, by_fee.timeseries, strict=True
    ):
        amounts = {
            (r["project_id"], r["line_item"]): microcents(r["amount"]["value"])
            for r in bucket["results"]
        }
        assert len(amounts) == len(bucket["results"])  # one result per group
        assert 0 not in amounts.values()  # no result for an empty group
        assert sum(amounts.values()) == sum(v or 0 for v in app_bucket.per_app.values())
        if group_by == ():
            assert set(amounts) <= {(None, None)}
        if "project_id" in group_by:
            bucket_apps: dict[str, int] = defaultdict(int)
            for (app, _), value in amounts.items():
                bucket_apps[app] += value
            assert {a: v for a, v in bucket_apps.items() if v} == {
                a: v for a, v in app_bucket.per_app.items() if v
            }
        if "line_item" in group_by:
            bucket_fees: dict[str, int] = defaultdict(int)
            for (_, fee), value in amounts.items():
                bucket_fees[fee] += value
            assert {g: v for g, v in bucket_fees.items() if v} == {
                g: v for g, v in (fee_bucket.per_group or {}).items() if v
            }
        for (app, fee), value in amounts.items():
            total += value
            per_app[app] += value
            per_fee[fee] += value
        for result in bucket["results"]:
            assert result["object"] == "organization.costs.result"
            assert result["amount"]["currency"] == "usd"
            assert set(result) == {"object", "amount", "line_item", "project_id"}
            if "project_id" not in group_by:
                assert result["project_id"] is None
            elif apps:
                assert result["project_id"] in apps
            if "line_item" not in group_by:
                assert result["line_item"] is None
    assert total == by_app.total_cost
    if "project_id" in group_by:
        assert {a: v for a, v in per_app.items() if v} == {
            m.app_endpoint: m.cost for m in by_app.per_model if m.cost
        }
    if "line_item" in group_by:
        assert {g: v for g, v in per_fee.items() if v} == {
            g.group: g.cost for g in by_fee.per_group or [] if g.cost
        }


@SETTINGS
@given(
    st.sampled_from(FIRST_DAYS).flatmap(lambda first: st.tuples(st.just(first), tasks(first))),
    st.integers(1, 9),
)
def test_given_any_tasks_when_paged_with_any_limit_then_the_pages_are_the_one_page_answer(
    case: tuple[date, list[Task]], limit: int
) -> None:
    first, billed = case
    feed = CostsFeed(world(billed).aggregates, SIGNER, clock=lambda: NOW)
    start = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    query = CostsQuery(
        start_time=int(start.timestamp()),
        end_time=int((start + timedelta(days=9)).timestamp()),
        group_by=("project_id", "line_item"),
        limit=limit,
    )
    assert all_pages(feed, query) == all_pages(feed, query._replace(limit=9))
