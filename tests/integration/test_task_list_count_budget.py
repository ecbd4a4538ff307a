"""The task list's count is bounded like the page it rides on (docs/api.md, "every request is
bounded"): every aggregate Query it makes asks a budget of its own first (a share of the
request's deadline, a number of Queries and the aggregate reader's items), and a count that does
not fit is `count: null` while the list answers."""

from __future__ import annotations

import json

import pytest

from tests.conftest import AwsWorld, LambdaContext

from .billing_helpers import completed
from .task_list_helpers import NOW, Tasks, at

# A window of 3 days 1 hour inside the minute aggregates, bounds off the hour: its count is 7
# ranges (a day piece, and an hour, a quarter and a minute piece at each edge), one Query per
# range and shard.
WINDOW = {"start": "2026-11-19T10:10:00Z", "end": "2026-11-22T08:20:00Z"}


@pytest.fixture
def world(aws: AwsWorld) -> Tasks:
    return Tasks(aws)


def sharded(aws: AwsWorld, shards: int) -> Tasks:
    tasks = Tasks.__new__(Tasks)
    tasks.billing = aws.handler("billing", "BillingFunction", AGGREGATE_SHARDS=str(shards))
    tasks.handler = aws.handler("task_cost", "TaskCostFunction", AGGREGATE_SHARDS=str(shards))
    tasks.handler.tasks.clock = lambda: NOW
    return tasks


def aggregate_queries(world: Tasks) -> int:
    return int(world.handler.wiring.aggregates().stats.queries)


def test_given_the_default_four_shards_when_the_first_page_is_asked_then_its_count_reads_one_query_per_range_and_shard(
    aws: AwsWorld,
) -> None:
    world = sharded(aws, 4)
    world.bill(at(30, "a"), at(60 * 30, "b"))
    body = world.page(WINDOW)
    assert body["count"] == {"tasks": 2, **WINDOW}
    assert aggregate_queries(world) == 7 * 4


def test_given_a_deployment_of_64_shards_when_the_first_page_is_asked_then_the_count_stops_at_its_queries_and_is_null(
    aws: AwsWorld,
) -> None:
    world = sharded(aws, 64)
    world.bill(at(30, "a"), at(60 * 30, "b"))
    body = world.page(WINDOW)
    # 7 ranges × 64 shards would be 448 Queries on every first page, before the list's own.
    assert (body["count"], [t["task_id"] for t in body["data"]]) == (None, ["b", "a"])
    assert aggregate_queries(world) == 64  # task_count.COUNT_MAX_QUERIES


def test_given_aggregate_queries_that_use_up_the_counts_share_of_the_deadline_when_counted_then_no_query_starts_after_it(
    world: Tasks,
) -> None:
    world.bill(at(30, "a"), at(60 * 30, "b"))
    # Each aggregate Query takes a second on this clock; the list's own reads take none.
    world.handler.tasks.budget.clock = lambda: float(aggregate_queries(world))
    body = world.page(WINDOW)
    assert (body["count"], [t["task_id"] for t in body["data"]]) == (None, ["b", "a"])
    # Queries start at 0 s, 1 s and 2 s; none at or after task_count.COUNT_SECONDS, 2.5 s (before, the deadline
    # was asked once per range, after all of its shards: 8 Queries, into the list's time).
    assert aggregate_queries(world) == 3


def test_given_a_request_whose_deadline_has_passed_when_the_first_page_is_asked_then_the_count_reads_nothing(
    world: Tasks,
) -> None:
    world.bill(at(30, "a"))

    class Late(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 1_000  # inside the list's 2.5 s margin

    response = world.call(WINDOW, context=Late())
    body = json.loads(response["body"])
    assert (response["statusCode"], body["count"], aggregate_queries(world)) == (200, None, 0)
    assert [t["task_id"] for t in body["data"]] == ["a"]  # the list's first read is always made


def test_given_the_aggregate_readers_item_limit_when_the_count_passes_it_then_it_is_null(
    world: Tasks,
) -> None:
    world.bill(*(completed(f"t{i}", completed_at=NOW.replace(hour=i)) for i in range(8)))
    world.handler.wiring.aggregates().max_items = 3
    body = world.page(WINDOW)
    assert body["count"] is None
    assert len(body["data"]) == 8
    world.handler.wiring.aggregates().max_items = 20_000
    assert world.page(WINDOW)["count"]["tasks"] == 8


def failing_aggregates(world: Tasks, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    from botocore.exceptions import ClientError

    def query(**_: object) -> None:
        raise ClientError({"Error": {"Code": code, "Message": code}}, "Query")

    monkeypatch.setattr(world.handler.wiring.aggregates().table, "query", query)


def test_given_the_aggregates_throttled_when_the_first_page_is_asked_then_the_count_is_null_and_the_list_answers(
    world: Tasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.bill(at(30, "a"))
    failing_aggregates(world, monkeypatch, "ProvisionedThroughputExceededException")
    body = world.page(WINDOW)
    assert (body["count"], [t["task_id"] for t in body["data"]]) == (None, ["a"])


def test_given_no_aggregates_table_when_the_first_page_is_asked_then_it_fails_closed_with_a_503(
    world: Tasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.bill(at(30, "a"))
    failing_aggregates(world, monkeypatch, "ResourceNotFoundException")
    response = world.call(WINDOW)
    problem = json.loads(response["body"])
    assert (response["statusCode"], "Retry-After" in response["headers"]) == (503, False)
    assert problem["detail"] == "read spend aggregates failed: ResourceNotFoundException"
