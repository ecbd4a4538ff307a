"""The task list's test world: billing and the task list function on moto, a fixed clock, hand-made histories, and a walk through every page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import AwsWorld, LambdaContext
from tests.events import http_event

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
        context: Any = None,
    ) -> dict[str, Any]:
        # a list of pairs repeats a parameter; API Gateway joins the repeats with commas
        event = http_event(
            "GET /usage/tasks", team=team, scopes=scopes, query=query, headers=headers
        )
        return self.handler.lambda_handler(event, context or LambdaContext())  # type: ignore[no-any-return]

    def page(self, query: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        response = self.call(query, **kwargs)
        assert response["statusCode"] == 200, response["body"]
        return json.loads(response["body"])  # type: ignore[no-any-return]

    def walk(
        self, query: dict[str, str], between: Any = None, sizes: list[int] | None = None
    ) -> list[str]:
        """Task ids of every page, following next_cursor; `between(page_number)` runs after each;
        `sizes` collects each page's row count."""
        ids: list[str] = []
        cursor = None
        for number in range(1000):
            body = self.page({**query, **({"cursor": cursor} if cursor else {})})
            ids += [t["task_id"] for t in body["data"]]
            if sizes is not None:
                sizes.append(len(body["data"]))
            assert body["has_more"] == (body["next_cursor"] is not None)
            if between:
                between(number)
            if not body["has_more"]:
                return ids
            cursor = body["next_cursor"]
        raise AssertionError("the pages never ended")


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


def bounded_history(world: Tasks) -> list[tuple[str, str, str]]:
    """30 tasks over two apps in turns of five (t00…t04 app-0, t05…t09 app-1, …), every third
    failed (t02, t05, …), t07 and t19 refunded; the unfiltered list's (task, app, status) oldest
    first, as the list itself reports it. The turns put the two partitions' reads at different
    positions when a page's budget runs out."""
    events = [at(300 - i * 7, f"t{i:02d}", app=f"team_a/app-{i // 5 % 2}") for i in range(30)]
    for event in events[2::3]:
        event["detail"]["status"] = "failed"
    world.bill(*events)
    world.bill(refunded("t07"), refunded("t19"))
    rows = world.page({"limit": "1000"})["data"]
    assert len(rows) == 30
    return [
        (r["task_id"], r["app"], r["billing_status"] if r["refunded"] else r["status"])
        for r in rows
    ]


SECRET = "a test deployment's cursor secret, 32+ characters"


def walk(tasks: Any, query: Any) -> tuple[list[str], list[Any]]:
    """Task ids of every page of `query`, following next_cursor; and each page's count."""
    ids: list[str] = []
    counts: list[Any] = []
    while True:
        answer = tasks.page("team_a", query)
        ids += [view.task_id for view in answer.model.data]
        counts.append(answer.model.count)
        assert answer.model.has_more == (answer.next_cursor is not None)
        if answer.next_cursor is None:
            return ids, counts
        query = query._replace(cursor=answer.next_cursor)
        assert len(counts) < 500, "the pages never ended"
