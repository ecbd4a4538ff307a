"""GET /v1/organization/costs through the breakdown function's handler, over aggregates written by
real billing (moto tables from template.yaml): OpenAI's documented shape field by field, exact
amounts, paging, and every rejection a problem naming its field (docs/costs-feed.md)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import AwsWorld
from tests.integration.costs_helpers import (
    DAY,
    PATH,
    TODAY,
    bill_three_days,
    costs,
    ok,
)

from .analytics_helpers import CHARGE, NOW, Analytics, at


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    analytics = Analytics(aws)
    analytics.breakdown_fn.costs.clock = lambda: NOW
    return analytics


def test_given_spend_when_asked_by_project_and_line_item_then_every_field_is_openais(
    world: Analytics,
) -> None:
    bill_three_days(world)
    body = ok(
        world,
        start_time=str(TODAY - 2 * DAY),
        end_time=str(TODAY + DAY),
        group_by="project_id,line_item",
    )
    resource = {"currency": "usd", "value": Decimal("0.05232498"), "dollars": "0.05232498"}

    def result(app: str) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": resource,
            "line_item": "resource",
            "project_id": app,
        }

    assert body == {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": TODAY - 2 * DAY,
                "end_time": TODAY - DAY,
                "results": [result("team_a/flux")],
            },
            {
                "object": "bucket",
                "start_time": TODAY - DAY,
                "end_time": TODAY,
                "results": [result("team_a/chat"), result("team_a/flux")],
            },
            {
                "object": "bucket",
                "start_time": TODAY,
                "end_time": TODAY + DAY,
                "results": [result("team_a/chat")],  # the refunded task is out
            },
        ],
        "has_more": False,
        "next_page": None,
    }
    breakdown = world.breakdown(
        start="2026-11-20T00:00:00Z", end="2026-11-23T00:00:00Z", bucket="1d"
    )
    assert breakdown["total_cost"] == 4 * CHARGE


def test_given_spend_when_answered_then_the_amount_is_the_exact_decimal_in_the_json_text(
    world: Analytics,
) -> None:
    world.bill(at(NOW - timedelta(hours=1), "t1"), at(NOW - timedelta(hours=1), "t2"))
    status, _, text = costs(world, start_time=str(TODAY))
    assert status == 200
    assert (
        '"results":[{"object":"organization.costs.result","amount":{"value":0.10464996,'
        '"currency":"usd","dollars":"0.10464996"},"line_item":null,"project_id":null}]'
    ) in text


def test_given_no_end_time_when_asked_then_seven_buckets_up_to_the_one_holding_now(
    world: Analytics,
) -> None:
    body = ok(world, start_time=str(TODAY - 10 * DAY + 5))
    assert [b["start_time"] for b in body["data"]] == [TODAY - (10 - i) * DAY for i in range(7)]
    assert all(b["results"] == [] for b in body["data"])  # every bucket present, empty or not
    assert body["has_more"] is True
    rest = ok(world, start_time=str(TODAY - 10 * DAY + 5), page=body["next_page"])
    assert [b["start_time"] for b in rest["data"]] == [TODAY - 3 * DAY + i * DAY for i in range(4)]
    assert (rest["has_more"], rest["next_page"]) == (False, None)


def test_given_hour_buckets_when_paged_by_one_then_the_pages_add_up_to_the_breakdown(
    world: Analytics,
) -> None:
    bill_three_days(world)
    query = {"start_time": str(TODAY), "end_time": str(TODAY + 9 * 3600), "bucket_width": "1h"}
    total, page, pages = Decimal(0), None, 0
    while True:
        body = ok(world, **query, limit="1", **({"page": page} if page else {}))
        pages += 1
        total += sum(r["amount"]["value"] for b in body["data"] for r in b["results"])
        if not body["has_more"]:
            break
        page = body["next_page"]
    assert pages == 9
    assert total * 100_000_000 == CHARGE  # one task at 07:30 UTC; the refunded one is out
    breakdown = world.breakdown(start="2026-11-22T00:00:00Z", end="2026-11-22T09:00:00Z")
    assert breakdown["total_cost"] == CHARGE


def test_given_a_project_filter_when_asked_then_only_those_apps_count(world: Analytics) -> None:
    bill_three_days(world)
    body = ok(
        world,
        start_time=str(TODAY - 2 * DAY),
        end_time=str(TODAY + DAY),
        project_ids="team_a/flux",
        group_by="project_id",
    )
    found = [(r["project_id"], r["line_item"]) for b in body["data"] for r in b["results"]]
    assert found == [("team_a/flux", None), ("team_a/flux", None)]


def test_given_openais_bracketed_arrays_when_asked_then_they_are_the_plain_parameters(
    world: Analytics,
) -> None:
    bill_three_days(world)
    query = {"start_time": str(TODAY - DAY), "end_time": str(TODAY)}
    plain = ok(world, **query, group_by="project_id,line_item", project_ids="team_a/chat")
    bracketed = ok(
        world, **query, **{"group_by[]": "line_item,project_id", "project_ids[]": "team_a/chat"}
    )
    assert bracketed == plain
    assert [r["project_id"] for r in plain["data"][0]["results"]] == ["team_a/chat"]


def test_given_another_query_or_team_when_its_page_is_passed_then_it_is_a_400(
    world: Analytics,
) -> None:
    page = ok(world, start_time=str(TODAY - 10 * DAY))["next_page"]
    for query, team in (
        ({"start_time": str(TODAY - 9 * DAY)}, "team_a"),  # another window
        ({"start_time": str(TODAY - 10 * DAY), "group_by": "line_item"}, "team_a"),
        ({"start_time": str(TODAY - 10 * DAY)}, "team_b"),
    ):
        response = world.call(world.breakdown_fn, PATH, {**query, "page": page}, team=team)
        assert response["statusCode"] == 400
        problem = json.loads(response["body"])
        assert [e["field"] for e in problem["errors"]] == ["page"]
    # the same query with another page size keeps its page
    assert ok(world, start_time=str(TODAY - 10 * DAY), page=page, limit="2")["has_more"] is True


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "start_time"),
        ({"start_time": "soon"}, "start_time"),
        ({"start_time": "1"}, "start_time"),  # before 2000
        ({"start_time": str(TODAY), "end_time": str(TODAY)}, "end_time"),
        ({"start_time": str(TODAY), "end_time": "99999999999"}, "end_time"),
        ({"start_time": str(TODAY), "bucket_width": "1m"}, "bucket_width"),
        ({"start_time": str(TODAY), "group_by": "user_id"}, "group_by"),
        ({"start_time": str(TODAY), "limit": "0"}, "limit"),
        ({"start_time": str(TODAY), "limit": "181"}, "limit"),
        ({"start_time": str(TODAY), "project_ids": "Not An App"}, "project_ids"),
        (
            {"start_time": str(TODAY), "project_ids": ",".join(f"a/b{i}" for i in range(21))},
            "project_ids",
        ),
        ({"start_time": str(TODAY), "page": "1.0.AAAAAAAAAAAAAAAA"}, "page"),
        ({"start_time": str(TODAY), "page": "x" * 65}, "page"),
        ({"start_time": str(TODAY), "api_key_ids": "key_1"}, "api_key_ids"),
        ({"start_time": str(TODAY), "line_items[]": "resource"}, "line_items"),
    ],
)
def test_given_a_bad_parameter_when_asked_then_a_problem_names_the_field(
    world: Analytics, query: dict[str, str], field: str
) -> None:
    status, headers, text = costs(world, **query)
    assert status == 400, text
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(text)
    assert problem["status"] == 400
    assert field in {e["field"].split(".")[0] for e in problem["errors"]}, problem


def test_given_no_billing_scope_when_asked_then_403(world: Analytics) -> None:
    response = world.call(world.breakdown_fn, PATH, {"start_time": str(TODAY)}, scopes="apps:read")
    assert response["statusCode"] == 403
