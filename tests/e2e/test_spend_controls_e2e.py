"""Spend controls over the local stack (docs/spend-controls.md): concurrent holds with real
threads, crossings emitted once under redelivery at GET /local/emitted-events, and a 402."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest

from tests.integration.billing_helpers import completed, refunded
from tests.stack import Stack


def emitted(stack: Stack, budget_id: str) -> list[tuple[str, int]]:
    response = stack.request("GET", "/local/emitted-events", key=None)
    assert response.status_code == 200
    return [
        (e["detail-type"], e["detail"]["threshold"])
        for e in response.json()
        if e["detail"]["budget_id"] == budget_id
    ]


class Team(NamedTuple):
    """A team of its own for one test, with a key: the session's stack is shared with other
    tests (the API fuzz among them) whose budgets on the demo team would otherwise refuse or
    count this test's holds and charges."""

    team: str
    key: str


@pytest.fixture
def own(stack: Stack) -> Team:
    team = f"team_e2e{uuid.uuid4().hex[:10]}"
    return Team(team, stack.new_key(team, "*"))


def deliver(stack: Stack, *events: Any) -> None:
    response = stack.request("POST", "/local/events", key=None, json=list(events))
    assert response.status_code == 200 and response.json()["dead_lettered"] == [], response.text


def test_given_room_for_seven_when_fifty_authorize_concurrently_then_exactly_seven_are_granted(
    stack: Stack, own: Team
) -> None:
    app = f"{own.team}/holds-{uuid.uuid4().hex[:8]}"
    budget = {"app": app, "period": "day", "limit": 700_000_000, "action": "block"}
    assert stack.request("PUT", "/budgets/hard-holds", json=budget, key=own.key).status_code in (
        200,
        201,
    )

    def authorize(index: int) -> int:
        body = {"task_id": f"hold-{app[-8:]}-{index}", "app": app, "amount": 100_000_000}
        return stack.request("POST", "/usage/authorizations", json=body, key=own.key).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(authorize, range(50)))
    assert sorted(statuses) == [201] * 7 + [402] * 43
    view = stack.request("GET", "/budgets/hard-holds", key=own.key).json()
    assert view["held"] == {"value": 700_000_000, "dollars": "7.00"}
    assert view["remaining"] == {"value": 0, "dollars": "0.00"}
    refused = stack.request(
        "POST",
        "/usage/authorizations",
        json={"task_id": "one-more", "app": app, "amount": 1},
        key=own.key,
    )
    assert refused.status_code == 402
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["budgets"] == [
        {"budget_id": "hard-holds", "remaining": {"value": 0, "dollars": "0.00"}}
    ]
    assert stack.request("DELETE", "/budgets/hard-holds", key=own.key).status_code == 204


def test_given_a_budget_when_tasks_cross_and_are_redelivered_then_each_event_is_emitted_once(
    stack: Stack, own: Team
) -> None:
    app = f"{own.team}/alerts-{uuid.uuid4().hex[:8]}"
    first = completed(f"{app[-8:]}-0", team=own.team, app=app)
    deliver(stack, first)
    cost = stack.request(
        "GET", f"/usage/tasks/{first['detail']['task_id']}/cost", key=own.key
    ).json()
    c = cost["charged"]["value"]
    budget = {"app": app, "period": "month", "limit": 2 * c, "thresholds": [50, 100]}
    status = stack.request("PUT", "/budgets/alerts-e2e", json=budget, key=own.key)
    assert status.status_code in (200, 201), status.text
    assert status.json()["spent"]["value"] == c and status.json()["crossed"] == [50]
    second = completed(f"{app[-8:]}-1", team=own.team, app=app)
    deliver(stack, second)
    deliver(stack, second, second)
    assert emitted(stack, "alerts-e2e") == [("Budget Threshold Crossed", 100)]
    deliver(stack, refunded(second["detail"]["task_id"], team=own.team))
    assert emitted(stack, "alerts-e2e") == [
        ("Budget Threshold Crossed", 100),
        ("Budget Threshold Cleared", 100),
    ]
    assert stack.request("GET", "/budgets/alerts-e2e", key=own.key).json()["crossed"] == [50]
    assert stack.request("DELETE", "/budgets/alerts-e2e", key=own.key).status_code == 204
