"""GET /usage/tasks: newest first (order=desc) and the first page's count of the window's tasks,
read from the spend aggregates (docs/api.md)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import AwsWorld
from tests.problems import assert_problem

from .billing_helpers import completed, refunded
from .task_list_helpers import Tasks, at, bounded_history, fill


@pytest.fixture
def world(aws: AwsWorld) -> Tasks:
    return Tasks(aws)


def ids(body: dict[str, Any]) -> list[str]:
    return [t["task_id"] for t in body["data"]]


def answer(response: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return response["statusCode"], response["headers"], response["body"]


# ---- order ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["1", "2", "5", "17", "100"])
def test_given_records_when_paged_newest_first_at_any_size_then_the_pages_are_the_window_reversed(
    world: Tasks, limit: str
) -> None:
    expected = fill(world)
    world.bill(at(60 * 24 * 8, "too-old"), at(-5, "future"))  # outside the default 7 days
    assert world.walk({"limit": limit, "order": "desc"}) == expected[::-1]
    assert world.walk({"limit": limit, "order": "asc"}) == expected


@pytest.mark.parametrize(
    "query",
    [
        [("app", "team_a/app-1")],
        [("app", "team_a/app-0"), ("app", "team_a/app-2")],
        [("app", "team_a/app-0"), ("app", "team_a/app-1"), ("app", "team_a/app-2")],
    ],
)
def test_given_an_app_filter_over_several_partitions_when_paged_newest_first_then_they_merge_by_the_largest_key(
    world: Tasks, query: list[tuple[str, str]]
) -> None:
    fill(world)
    walks: dict[str, list[str]] = {"asc": [], "desc": []}
    for order, out in walks.items():
        cursor = None
        while True:
            params = [*query, ("limit", "2"), ("order", order)]
            response = world.call(params + ([("cursor", cursor)] if cursor else []))
            body = json.loads(response["body"])
            assert response["statusCode"] == 200, body
            out.extend(ids(body))
            if not body["has_more"]:
                break
            cursor = body["next_cursor"]
    oldest_first, newest_first = walks["asc"], walks["desc"]
    assert newest_first == oldest_first[::-1]
    assert len(set(newest_first)) == len(newest_first) > 2


@pytest.mark.parametrize("order", ["newest", "DESC", "", "asc,desc"])
def test_given_an_order_that_is_not_asc_or_desc_when_listed_then_it_is_a_400_naming_order(
    world: Tasks, order: str
) -> None:
    assert_problem(answer(world.call({"order": order})), 400, fields=["order"])


def test_given_a_cursor_of_one_order_when_used_with_the_other_then_it_is_a_400_and_with_its_own_it_goes_on(
    world: Tasks,
) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(5)))  # t4 oldest … t0 newest
    oldest = world.page({"limit": "2"})
    newest = world.page({"limit": "2", "order": "desc"})
    assert (ids(oldest), ids(newest)) == (["t4", "t3"], ["t0", "t1"])
    for cursor, order in ((oldest["next_cursor"], "desc"), (newest["next_cursor"], "asc")):
        problem = assert_problem(
            answer(world.call({"limit": "2", "order": order, "cursor": cursor})),
            400,
            fields=["cursor"],
        )
        assert problem["errors"][0]["message"] == (
            "is not a cursor of this query and team: pass next_cursor back unchanged, with the "
            "same query"
        )
    # asc is the default: naming it or not is the same query
    following = world.page({"limit": "2", "order": "asc", "cursor": oldest["next_cursor"]})
    assert ids(following) == ["t2", "t1"]
    following = world.page({"limit": "2", "order": "desc", "cursor": newest["next_cursor"]})
    assert ids(following) == ["t2", "t3"]


def test_given_csv_newest_first_when_listed_then_rows_and_the_link_follow_the_order(
    world: Tasks,
) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(5)))
    response = world.call({"limit": "3", "format": "csv", "order": "desc"})
    assert response["statusCode"] == 200
    assert [r["task_id"] for r in csv.DictReader(io.StringIO(response["body"]))] == [
        "t0",
        "t1",
        "t2",
    ]
    link = response["headers"]["Link"]
    following = dict(parse_qsl(urlsplit(link[1 : link.index(">")]).query))
    assert (following["order"], following["format"], following["limit"]) == ("desc", "csv", "3")
    last = world.call(following)
    assert [r["task_id"] for r in csv.DictReader(io.StringIO(last["body"]))] == ["t3", "t4"]
    assert "Link" not in last["headers"]


def test_given_a_read_budget_when_a_status_filter_is_walked_newest_first_then_it_is_the_oldest_first_walk_reversed(
    world: Tasks,
) -> None:

    truth = bounded_history(world)
    world.handler.tasks.budget.max_items = 8
    world.handler.tasks.budget.max_queries = 4
    query = [("status", "failed"), ("app", "team_a/app-0"), ("app", "team_a/app-1")]
    walks: dict[str, list[str]] = {}
    for order in ("asc", "desc"):
        walks[order], cursor, pages = [], None, 0
        while True:
            params = [*query, ("limit", "1000"), ("order", order)]
            response = world.call(params + ([("cursor", cursor)] if cursor else []))
            body = json.loads(response["body"])
            assert response["statusCode"] == 200, body
            walks[order] += ids(body)
            pages += 1
            if not body["has_more"]:
                break
            cursor = body["next_cursor"]
        assert pages > 30 // 8  # the budget, not the limit, ended the pages
    assert walks["asc"] == [task for task, _, status in truth if status == "failed"]
    assert walks["desc"] == walks["asc"][::-1]


# ---- count ---------------------------------------------------------------------------------------

# A window inside the minute aggregates' three days whose bounds are not on whole minutes: its
# count is of the window widened to 10:10:00 … 08:21:00.
START, END = "2026-11-20T10:10:30Z", "2026-11-22T08:20:15Z"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def billed_history(world: Tasks) -> None:
    """Tasks at every edge of START … END and its widening, over two apps: one failed, three
    refunded; each name says where it lies."""
    sdxl = "team_a/sdxl"  # the others are team_a/flux
    events = [
        completed("before-widened", completed_at=utc("2026-11-20T10:09:59.999Z")),
        completed("widened-start", completed_at=utc("2026-11-20T10:10:00Z"), app=sdxl),
        completed("first", completed_at=utc("2026-11-20T10:10:30Z")),
        completed("quarter", completed_at=utc("2026-11-20T10:20:00Z"), app=sdxl),
        completed("hour", completed_at=utc("2026-11-20T15:00:00Z"), status="failed"),
        completed("day-1", completed_at=utc("2026-11-21T00:00:00Z")),
        completed("day-2", completed_at=utc("2026-11-21T12:34:56Z"), app=sdxl),
        completed("day-3", completed_at=utc("2026-11-21T23:59:59.999Z")),
        completed("late-hour", completed_at=utc("2026-11-22T03:00:00Z"), app=sdxl),
        completed("late-quarter", completed_at=utc("2026-11-22T08:05:00Z")),
        completed("last", completed_at=utc("2026-11-22T08:20:14.999Z"), app=sdxl),
        completed("end", completed_at=utc("2026-11-22T08:20:15Z")),
        completed("after-widened", completed_at=utc("2026-11-22T08:21:00Z")),
    ]
    world.bill(*events)
    world.bill(refunded("day-2"), refunded("late-hour"), refunded("quarter"))


LISTED = [
    "first",
    "quarter",
    "hour",
    "day-1",
    "day-2",
    "day-3",
    "late-hour",
    "late-quarter",
    "last",
]
LISTED_SDXL = ["quarter", "day-2", "late-hour", "last"]


def test_given_a_billed_history_when_the_first_page_is_asked_then_it_counts_the_widened_window_charged_refunded_and_failed_alike(
    world: Tasks,
) -> None:
    billed_history(world)
    body = world.page({"start": START, "end": END, "limit": "2"})
    assert ids(body) == ["first", "quarter"]
    # the listed nine, and widened-start and end, which the widening takes in
    assert body["count"] == {
        "tasks": 11,
        "start": "2026-11-20T10:10:00Z",
        "end": "2026-11-22T08:21:00Z",
    }
    assert world.walk({"start": START, "end": END}) == LISTED
    newest = world.page({"start": START, "end": END, "order": "desc"})
    assert (ids(newest), newest["count"]) == (LISTED[::-1], body["count"])


def test_given_a_window_of_whole_minutes_when_counted_then_the_count_is_exact_for_the_list(
    world: Tasks,
) -> None:
    billed_history(world)
    query = {"start": "2026-11-20T10:10:00Z", "end": "2026-11-22T08:21:00Z", "limit": "3"}
    body = world.page(query)
    listed = world.walk(query)
    assert body["count"] == {"tasks": len(listed), "start": query["start"], "end": query["end"]}
    assert len(listed) == 11  # before-widened and after-widened lie outside


def test_given_an_app_filter_when_counted_then_only_those_apps_tasks_are_counted(
    world: Tasks,
) -> None:
    billed_history(world)
    body = world.page({"start": START, "end": END, "app": "team_a/sdxl"})
    assert ids(body) == LISTED_SDXL
    assert body["count"]["tasks"] == 5  # and widened-start
    both = world.call(
        [("start", START), ("end", END), ("app", "team_a/sdxl"), ("app", "team_a/flux")]
    )
    assert json.loads(both["body"])["count"]["tasks"] == 11
    nothing = world.page({"start": START, "end": END, "app": "team_a/none"})
    assert (nothing["data"], nothing["count"]["tasks"]) == ([], 0)


def test_given_another_teams_tasks_when_counted_then_they_are_not_in_the_count(
    world: Tasks,
) -> None:
    world.bill(at(10, "mine"), at(10, "theirs", team="team_b", app="team_b/x"))
    body = world.page({"range": "1h"})
    assert body["count"] == {
        "tasks": 1,
        "start": "2026-11-22T07:30:00Z",
        "end": "2026-11-22T08:30:00Z",
    }


def test_given_a_window_older_than_three_days_when_counted_then_it_is_widened_to_quarter_hours(
    world: Tasks,
) -> None:
    world.bill(
        completed("before", completed_at=utc("2026-11-12T09:59:59Z")),
        completed("widened-start", completed_at=utc("2026-11-12T10:01:00Z")),
        completed("first", completed_at=utc("2026-11-12T10:07:00Z")),
        completed("night", completed_at=utc("2026-11-13T03:00:00Z"), status="failed"),
        completed("refunded", completed_at=utc("2026-11-13T03:30:00Z")),
        completed("last", completed_at=utc("2026-11-13T13:51:59Z")),
        completed("widened-end", completed_at=utc("2026-11-13T13:59:59.999Z")),
        completed("after", completed_at=utc("2026-11-13T14:00:00Z")),
    )
    world.bill(refunded("refunded"))
    body = world.page({"start": "2026-11-12T10:07:00Z", "end": "2026-11-13T13:52:00Z"})
    assert ids(body) == ["first", "night", "refunded", "last"]
    assert body["count"] == {
        "tasks": 6,
        "start": "2026-11-12T10:00:00Z",
        "end": "2026-11-13T14:00:00Z",
    }


def test_given_a_status_filter_or_a_later_page_when_listed_then_the_count_is_null(
    world: Tasks,
) -> None:
    billed_history(world)
    assert world.page({"start": START, "end": END, "status": "completed"})["count"] is None
    first = world.page({"start": START, "end": END, "limit": "2", "order": "desc"})
    assert first["count"]["tasks"] == 11
    later = world.page(
        {"start": START, "end": END, "limit": "2", "order": "desc", "cursor": first["next_cursor"]}
    )
    assert (ids(later), later["count"]) == (["late-hour", "day-3"], None)


def test_given_a_reader_item_limit_when_counting_would_pass_it_then_the_count_is_null_and_the_list_answers(
    world: Tasks,
) -> None:
    from usage_pricing.spend.aggregate_reader import AggregateRepository
    from usage_pricing.spend.task_count import TaskCounter

    billed_history(world)

    def count_with(max_items: int) -> Any:
        table = world.handler.wiring.aggregates().table
        world.handler.tasks.counter = TaskCounter(AggregateRepository(table, max_items=max_items))
        body = world.page({"start": START, "end": END})
        assert ids(body) == LISTED
        return body["count"]

    # Items per range read: the day 2 (one per app); left of it hours 1, quarters 1, minutes 2
    # (both apps at 10:10); right of it hours 1, quarters 1, minutes 2 (both apps at 08:20): 10
    # in all, none above 2.
    assert count_with(10) == {
        "tasks": 11,
        "start": "2026-11-20T10:10:00Z",
        "end": "2026-11-22T08:21:00Z",
    }
    assert count_with(9) is None  # every read within the limit, the count as a whole over it
    assert count_with(1) is None  # a read over it (the reader's AnswerTooLargeError)
