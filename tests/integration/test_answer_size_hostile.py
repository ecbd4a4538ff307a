"""Answers whose size grows with what a team has stored (docs/api.md, "every request is
bounded"): Lambda refuses a response over 6 MB, which a client sees as a gateway 502 with no
problem document. A costs page is cut by results, never by bytes that happen to fit; any answer
still too large is a 422 from the edge."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import AwsWorld
from usage_pricing.core.errors import AnswerTooLargeError
from usage_pricing.core.limits import MAX_APP_PATH, MAX_COST_RESULTS, MAX_RESPONSE_BYTES
from usage_pricing.core.money import INT64_MIN
from usage_pricing.spend.costs import (
    MAX_LIMIT,
    CostAmount,
    CostBucket,
    CostResult,
    CostsPage,
    exact_usd,
    render_page,
)

from .analytics_helpers import NOW, Analytics, at
from .costs_helpers import DAY, TODAY, bill_three_days, costs, ok


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    analytics = Analytics(aws)
    analytics.breakdown_fn.costs.clock = lambda: NOW
    return analytics


def test_given_the_largest_costs_page_then_lambda_can_return_it() -> None:
    # Class: an answer bounded in items but not in bytes. The worst page: MAX_LIMIT buckets
    # holding MAX_COST_RESULTS results between them, each with the longest app path, the
    # longest line item and the longest amount, as the proxy result Lambda serializes.
    app = "a" * ((MAX_APP_PATH - 1) // 2) + "/" + "b" * ((MAX_APP_PATH - 1) // 2)
    assert len(app) == MAX_APP_PATH
    amount = Decimal(exact_usd(INT64_MIN))
    result = CostResult(
        amount=CostAmount(value=amount, dollars=exact_usd(INT64_MIN)),
        line_item="unattributed",
        project_id=app,
    )
    per_bucket, extra = divmod(MAX_COST_RESULTS, MAX_LIMIT)
    page = CostsPage(
        data=[
            CostBucket(
                start_time=10**10,
                end_time=10**10,
                results=[result] * (per_bucket + (index < extra)),
            )
            for index in range(MAX_LIMIT)
        ],
        has_more=True,
        next_page="p" * 512,
    )
    proxy = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": render_page(page),
        "isBase64Encoded": False,
    }
    assert sum(len(b.results) for b in page.data) == MAX_COST_RESULTS
    assert len(json.dumps(proxy)) <= MAX_RESPONSE_BYTES


def test_given_more_results_than_a_page_holds_when_paged_then_pages_end_between_buckets_and_add_up(
    world: Analytics,
) -> None:
    bill_three_days(world)  # results by day and app: 1, 2, 1
    query = {
        "start_time": str(TODAY - 2 * DAY),
        "end_time": str(TODAY + DAY),
        "group_by": "project_id",
    }
    whole = ok(world, **query)
    assert [len(b["results"]) for b in whole["data"]] == [1, 2, 1]
    world.breakdown_fn.costs.max_results = 2
    pages = []
    page: dict[str, str] = {}
    while True:
        body = ok(world, **query, **page)
        pages.append(body)
        if not body["has_more"]:
            break
        page = {"page": body["next_page"]}
    assert [[len(b["results"]) for b in p["data"]] for p in pages] == [[1], [2], [1]]
    assert [b for p in pages for b in p["data"]] == whole["data"]


def test_given_one_bucket_with_more_results_than_a_page_holds_then_422_asks_for_fewer(
    world: Analytics,
) -> None:
    bill_three_days(world)
    world.breakdown_fn.costs.max_results = 1
    status, headers, body = costs(
        world,
        start_time=str(TODAY - DAY),
        end_time=str(TODAY),
        group_by="project_id",
    )
    assert status == 422, body
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["detail"] == (
        "one bucket holds more than 1 results (one per app and line item): filter project_ids "
        "or group by fewer fields"
    )


def test_given_an_answer_over_what_lambda_returns_when_asked_then_a_422_problem_not_a_502(
    world: Analytics, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any route: the edge measures what it would return. Here the limit is lowered so a small
    # breakdown stands for a team with 20,000 long app paths (about 11 MB of JSON).
    import usage_pricing.edge.http as edge

    world.bill(at(NOW - timedelta(hours=1), "s1", app="team_a/" + "x" * 120))
    response: dict[str, Any] = world.call(world.breakdown_fn, "/usage/breakdown", {"range": "1d"})
    assert response["statusCode"] == 200
    size = len(json.dumps(response))
    monkeypatch.setattr(edge, "MAX_RESPONSE_BYTES", size - 1)
    monkeypatch.setattr(edge, "_UNMEASURED", 0)
    response = world.call(world.breakdown_fn, "/usage/breakdown", {"range": "1d"})
    assert response["statusCode"] == 422
    problem = json.loads(response["body"])
    assert problem["title"] == "Answer too large"
    assert problem["detail"] == (
        f"this answer would be {size:,} bytes, more than the {size - 1:,} a response may carry: "
        "ask for less (a shorter window, a coarser bucket, fewer apps or a smaller page)"
    )


# ---- an app filter narrows the answer, not the read ------------------------------------------


def test_given_a_read_filtered_to_one_app_then_every_item_it_evaluates_counts_against_the_read_budget(
    world: Analytics,
) -> None:
    # Class: a filter that pages through everything (the aggregates' sort key is bucket#app, so
    # an app filter is a FilterExpression: DynamoDB reads every app's items and returns one's).
    # The read budget counted only the items returned, so a per-app breakdown of a team with
    # thousands of apps read them all, past the function's timeout.
    from usage_pricing.spend.aggregate_reader import AggregateRepository
    from usage_pricing.storage.aggregates import Granularity

    world.bill(*(at(NOW - timedelta(hours=1), f"f{n}", app=f"team_a/app-{n}") for n in range(5)))
    table = world.aws.dynamodb.Table("AggregatesTable")
    first = last = "2026-11-22T00:00:00Z"
    reader = AggregateRepository(table, max_items=5)
    [cell] = reader.read("team_a", Granularity.DAY, first, last, apps=["team_a/app-3"])
    assert cell.app == "team_a/app-3"
    reader = AggregateRepository(table, max_items=4)
    with pytest.raises(AnswerTooLargeError) as raised:
        reader.read("team_a", Granularity.DAY, first, last, apps=["team_a/app-3"])
    assert raised.value.detail == (
        "this answer would read more than 4 aggregate items (one per bucket, app and shard, "
        "whatever the app filter: it narrows the answer, not the read): narrow the window or "
        "choose a coarser bucket"
    )
    with pytest.raises(AnswerTooLargeError) as raised:
        reader.read("team_a", Granularity.DAY, first, last)
    assert raised.value.detail == (
        "this answer would read more than 4 aggregate items (one per bucket, app and shard): "
        "narrow the window, choose a coarser bucket or filter the apps"
    )
