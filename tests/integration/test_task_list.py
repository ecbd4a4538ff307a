"""GET /usage/tasks: the team's billing records from the record GSIs, a page at a time."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event

from .billing_helpers import completed, refunded, sqs_batch

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)


class Tasks:
    def __init__(self, aws: AwsWorld) -> None:
        self.billing = aws.handler("billing", "BillingFunction")
        self.handler = aws.handler("task_cost", "TaskCostFunction")
        self.handler.tasks.clock = lambda: NOW

    def bill(self, *events: Any) -> None:
        assert self.billing.lambda_handler(sqs_batch(*events), LambdaContext()) == {
            "batchItemFailures": []
        }

    def call(
        self,
        query: dict[str, str] | list[tuple[str, str]],
        *,
        team: str = "team_a",
        scopes: str = "billing:read",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        pairs = list(query.items()) if isinstance(query, dict) else query
        joined: dict[str, str] = {}
        for key, value in pairs:  # API Gateway joins a repeated parameter with commas
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        event = sample_event("task_cost")
        event.update(
            routeKey="GET /usage/tasks",
            rawPath="/usage/tasks",
            queryStringParameters=joined or None,
            rawQueryString="&".join(f"{k}={v}" for k, v in pairs),
        )
        event.pop("pathParameters", None)
        event["headers"].update(headers or {})
        event["requestContext"].update(routeKey="GET /usage/tasks")
        event["requestContext"]["http"].update(path="/usage/tasks", method="GET")
        event["requestContext"]["authorizer"]["lambda"] = {"team_id": team, "scopes": scopes}
        return self.handler.lambda_handler(event, LambdaContext())  # type: ignore[no-any-return]

    def page(self, query: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        response = self.call(query, **kwargs)
        assert response["statusCode"] == 200, response["body"]
        return json.loads(response["body"])  # type: ignore[no-any-return]

    def walk(self, query: dict[str, str], between: Any = None) -> list[str]:
        """Task ids of every page, following next_cursor; `between(page_number)` runs after each."""
        ids: list[str] = []
        cursor = None
        for number in range(1000):
            body = self.page({**query, **({"cursor": cursor} if cursor else {})})
            ids += [t["task_id"] for t in body["data"]]
            assert body["has_more"] == (body["next_cursor"] is not None)
            if between:
                between(number)
            if not body["has_more"]:
                return ids
            cursor = body["next_cursor"]
        raise AssertionError("the pages never ended")


@pytest.fixture
def world(aws: AwsWorld) -> Tasks:
    return Tasks(aws)


def at(minutes_ago: float, task: str, **kwargs: Any) -> dict[str, Any]:
    return completed(task, completed_at=NOW - timedelta(minutes=minutes_ago), **kwargs)


def fill(world: Tasks) -> list[str]:
    """17 tasks over three apps, with ties on completed_at and sub-second times; oldest first."""
    events = [at(60 * 24 * 3 - i * 37.5, f"t{i:02d}", app=f"team_a/app-{i % 3}") for i in range(12)]
    events += [at(30, tie, app="team_a/app-1") for tie in ("tie-b", "tie-a", "tie-c")]
    events += [at(20 + 0.5 / 60, "half-second"), at(20, "whole-second")]
    world.bill(*events)
    return [f"t{i:02d}" for i in range(12)] + [
        "tie-a",
        "tie-b",
        "tie-c",
        "half-second",
        "whole-second",
    ]


@pytest.mark.parametrize("limit", ["1", "2", "5", "16", "17", "100"])
def test_given_records_when_paged_at_any_size_then_the_pages_concatenate_to_the_window_in_order(
    world: Tasks, limit: str
) -> None:
    expected = fill(world)
    world.bill(at(60 * 24 * 8, "too-old"), at(-5, "future"))  # outside the default 7 days
    assert world.walk({"limit": limit}) == expected


def test_given_tasks_arriving_between_pages_when_paged_then_no_record_is_missed_or_repeated(
    world: Tasks,
) -> None:
    world.bill(*(at(100 - i, f"a{i:02d}") for i in range(10)))
    world.handler.tasks.clock = lambda: NOW + timedelta(minutes=5)
    arrivals = iter(range(100))

    def arrive(_page: int) -> None:
        n = next(arrivals)
        # one inside the window after every position, one after the window's end
        world.bill(at(-1 - n / 100, f"new{n:02d}"), at(-10 - n, f"later{n:02d}"))

    ids = world.walk({"limit": "3"}, between=arrive)
    assert len(ids) == len(set(ids))
    assert ids[:10] == [f"a{i:02d}" for i in range(10)]
    assert all(i.startswith("new") for i in ids[10:])
    assert not any(i.startswith("later") for i in ids)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("app", "team_a/app-1")], {"t01", "t04", "t07", "t10", "tie-a", "tie-b", "tie-c"}),
        (
            [("app", "team_a/app-0"), ("app", "team_a/app-2")],
            {"t00", "t02", "t03", "t05", "t06", "t08", "t09", "t11"},
        ),
        ([("status", "failed")], {"t03"}),
        ([("status", "refunded")], {"t05"}),
        ([("status", "needs_review")], set()),
        ([("status", "failed"), ("status", "refunded")], {"t03", "t05"}),
        ([("status", "cancelled"), ("app", "team_a/app-0")], set()),
        ([("status", "completed"), ("app", "team_a/app-2")], {"t02", "t05", "t08", "t11"}),
    ],
)
def test_given_filters_when_paged_then_only_matching_records_come_in_order(
    world: Tasks, query: list[tuple[str, str]], expected: set[str]
) -> None:
    events = [at(60 * 24 * 3 - i * 37.5, f"t{i:02d}", app=f"team_a/app-{i % 3}") for i in range(12)]
    events[3]["detail"]["status"] = "failed"
    events += [at(30, tie, app="team_a/app-1") for tie in ("tie-b", "tie-a", "tie-c")]
    world.bill(*events)
    world.bill(refunded("t05"))
    ids, cursor = [], None
    while True:
        response = world.call(query + [("limit", "2")] + ([("cursor", cursor)] if cursor else []))
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, body
        ids += [t["task_id"] for t in body["data"]]
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert set(ids) == expected
    assert ids == sorted(ids, key=lambda i: (i.startswith("tie"), i))


def test_given_a_record_when_listed_then_it_is_its_task_cost(world: Tasks) -> None:
    world.bill(at(10, "t1"))
    [task] = world.page({})["data"]
    assert task["task_id"] == "t1"
    assert task["charged"] == {"value": 5_232_498, "dollars": "0.05232498"}
    assert "output_meta" not in task and "task_inputs" not in task
    assert set(task) >= {
        "resource_fee",
        "inference_fee",
        "royalty_fee",
        "partner_fee",
        "total",
        "discount",
        "pricing_version",
        "billing_status",
    }


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-1"])
def test_given_a_limit_out_of_bounds_when_listed_then_it_is_a_400(world: Tasks, limit: str) -> None:
    response = world.call({"limit": limit})
    assert response["statusCode"] == 400
    assert [e["field"] for e in json.loads(response["body"])["errors"]] == ["limit"]


def tamper(cursor: str, position: int) -> str:
    flipped = "A" if cursor[position] != "A" else "B"
    return cursor[:position] + flipped + cursor[position + 1 :]


def test_given_an_altered_or_foreign_cursor_when_listed_then_it_is_a_400(world: Tasks) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(5)))
    world.bill(*(at(10 + i, f"b{i}", team="team_b", app="team_b/x") for i in range(5)))
    cursor = world.page({"limit": "2"})["next_cursor"]
    foreign = world.page({"limit": "2"}, team="team_b")["next_cursor"]
    dot = cursor.index(".")
    cases: list[tuple[dict[str, str], str]] = [
        ({"cursor": tamper(cursor, 5)}, "team_a"),  # the position
        ({"cursor": tamper(cursor, dot + 3)}, "team_a"),  # the digest
        ({"cursor": cursor[:-2]}, "team_a"),
        ({"cursor": "not-a-cursor"}, "team_a"),
        ({"cursor": "e30.AAAA"}, "team_a"),
        ({"cursor": foreign}, "team_a"),  # another team's cursor
        ({"cursor": cursor}, "team_b"),  # this team's cursor, shown to another
        ({"cursor": cursor, "app": "team_a/flux"}, "team_a"),  # another query
        ({"cursor": cursor, "range": "30d"}, "team_a"),
        ({"cursor": cursor, "status": "completed"}, "team_a"),
    ]
    for query, team in cases:
        response = world.call({"limit": "2", **query}, team=team)
        body = json.loads(response["body"])
        assert (response["statusCode"], [e["field"] for e in body.get("errors", [])]) == (
            400,
            ["cursor"],
        ), query
    # The page size may change between pages; the query may not.
    assert [t["task_id"] for t in world.page({"limit": "3", "cursor": cursor})["data"]] == [
        "t2",
        "t1",
        "t0",
    ]


def test_given_csv_when_listed_then_rows_carry_every_fee_and_a_link_names_the_next_page(
    world: Tasks,
) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(3)), at(9, "f1", status="failed"))
    response = world.call({"limit": "3", "format": "csv", "app": "team_a/flux"})
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert response["headers"]["Content-Disposition"] == 'attachment; filename="tasks.csv"'
    rows = list(csv.DictReader(io.StringIO(response["body"])))
    assert [r["task_id"] for r in rows] == ["t2", "t1", "t0"]
    assert rows[0]["charged_microcents"] == "5232498" and rows[0]["charged_usd"] == "0.05232498"
    assert list(rows[0]) == [
        "task_id", "app", "app_version", "status", "billing_status", "completed_at",
        "resource_fee_microcents", "resource_fee_usd", "inference_fee_microcents", "inference_fee_usd",
        "royalty_fee_microcents", "royalty_fee_usd", "partner_fee_microcents", "partner_fee_usd",
        "total_microcents", "total_usd", "discount_microcents", "discount_usd",
        "charged_microcents", "charged_usd", "refunded", "pricing_version",
    ]  # fmt: skip
    link = response["headers"]["Link"]
    assert link.startswith("</usage/tasks?") and link.endswith('>; rel="next"')
    following = dict(parse_qsl(urlsplit(link[1 : link.index(">")]).query))
    assert (
        following["format"] == "csv"
        and following["app"] == "team_a/flux"
        and following["limit"] == "3"
    )
    last = world.call(following)
    assert "Link" not in last["headers"]
    [row] = list(csv.DictReader(io.StringIO(last["body"])))
    assert (
        row["task_id"],
        row["status"],
        row["charged_microcents"],
        row["discount_microcents"],
    ) == (
        "f1",
        "failed",
        "0",
        "5232498",
    )
    json_page = world.call({"limit": "3"}, headers={"Accept": "application/json"})
    assert json_page["headers"]["Link"].endswith('rel="next"')


def test_given_windows_when_listed_then_only_their_records_come(world: Tasks) -> None:
    world.bill(
        completed(
            "d1", completed_at=datetime(2026, 11, 20, 22, 59, 59, tzinfo=UTC)
        ),  # Nov 20 in Berlin
        completed(
            "d2", completed_at=datetime(2026, 11, 20, 23, 0, 0, tzinfo=UTC)
        ),  # Nov 21 in Berlin
        completed("d3", completed_at=datetime(2026, 11, 21, 22, 59, 59, 999_000, tzinfo=UTC)),
        completed("d4", completed_at=datetime(2026, 11, 21, 23, 0, 0, tzinfo=UTC)),
    )
    berlin = world.page({"start": "2026-11-21", "end": "2026-11-22", "tz": "Europe/Berlin"})
    assert [t["task_id"] for t in berlin["data"]] == ["d2", "d3"]
    exact = world.page({"start": "2026-11-20T22:59:59Z", "end": "2026-11-21T23:00:00Z"})
    assert [t["task_id"] for t in exact["data"]] == ["d1", "d2", "d3"]
    assert [t["task_id"] for t in world.page({"range": "1d"})["data"]] == ["d3", "d4"]
    problem = world.call({"start": "2026-11-22", "end": "2026-11-21"})
    assert problem["statusCode"] == 400


def test_given_another_teams_records_when_listed_then_they_never_appear(world: Tasks) -> None:
    world.bill(at(10, "mine"), at(10, "theirs", team="team_b", app="team_b/x"))
    assert [t["task_id"] for t in world.page({})["data"]] == ["mine"]
    assert [t["task_id"] for t in world.page({}, team="team_b")["data"]] == ["theirs"]
    assert world.page({"app": "team_b/x"})["data"] == []


@pytest.mark.parametrize(
    ("scopes", "status"), [("apps:read", 403), ("billing:read", 200), ("billing", 200), ("*", 200)]
)
def test_given_scopes_when_listed_then_billing_read_is_required(
    world: Tasks, scopes: str, status: int
) -> None:
    assert world.call({}, scopes=scopes)["statusCode"] == status


def test_given_the_sample_event_when_invoked_then_it_answers(world: Tasks) -> None:
    response = world.handler.lambda_handler(sample_event("task_list"), LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])["data"]) == (200, [])
