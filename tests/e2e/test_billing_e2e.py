"""Billing through the local stack: pricing published over HTTP, events posted to
/local/events (the queue path), costs read over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.billing_helpers import completed, refunded
from tests.stack import Stack

pytestmark = pytest.mark.e2e


def publish(stack: Stack, app: str) -> None:
    pricing = {
        "prices": {"per_image": 200_000},
        "inference_expression": "image_count(output_meta.outputs) * prices.per_image",
    }
    assert stack.request("PATCH", f"/apps/{app}/pricing", json=pricing).status_code == 200
    assert stack.request("POST", f"/apps/{app}/pricing/publish").status_code == 200


def post_events(stack: Stack, events: object) -> dict[str, object]:
    response = stack.request("POST", "/local/events", key=None, json=events)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_task_completed_then_cost_over_http(stack: Stack) -> None:
    app = f"team_local/e2e-{uuid.uuid4().hex[:8]}"
    publish(stack, app)
    task = f"e2e_{uuid.uuid4().hex[:12]}"
    event = completed(
        task, team="team_local", app=app, completed_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    report = post_events(stack, event)
    assert (report["accepted"], report["unmatched"], report["dead_lettered"]) == (1, 0, [])
    response = stack.request("GET", f"/usage/tasks/{task}/cost")
    assert response.status_code == 200
    cost = response.json()
    assert cost["resource_fee"] == {"value": 5_232_498, "dollars": "0.05232498"}
    assert cost["inference_fee"] == {"value": 400_000, "dollars": "0.004"}
    assert cost["total"] == {"value": 5_632_498, "dollars": "0.05632498"}
    assert cost["charged"] == {"value": 5_632_498, "dollars": "0.05632498"}

    post_events(stack, [event, event])  # redelivered twice more
    assert stack.request("GET", f"/usage/tasks/{task}/cost").json()["charged"]["value"] == 5_632_498

    post_events(stack, [refunded(task, team="team_local"), refunded(task, team="team_local")])
    after = stack.request("GET", f"/usage/tasks/{task}/cost").json()
    assert (after["refunded"], after["billing_status"]) == (True, "refunded")


def test_another_teams_task_is_404_over_http(stack: Stack) -> None:
    task = f"e2e_{uuid.uuid4().hex[:12]}"
    post_events(stack, completed(task, team="team_local", app="team_local/other"))
    other = stack.new_key("team_other", "billing:read")
    response = stack.request("GET", f"/usage/tasks/{task}/cost", key=other)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_poison_event_is_dead_lettered_and_the_rest_billed(stack: Stack) -> None:
    good = f"e2e_{uuid.uuid4().hex[:12]}"
    bad = completed(f"e2e_{uuid.uuid4().hex[:12]}", team="team_local", app="team_local/other")
    bad["detail"]["status"] = "exploded"
    report = post_events(stack, [bad, completed(good, team="team_local", app="team_local/other")])
    # The consumer dead-letters it directly; the report names it with its reason.
    assert report["accepted"] == 2
    [letter] = report["dead_lettered"]
    assert letter["task_id"] == bad["detail"]["task_id"]
    assert letter["reason"].startswith("invalid event: detail.status: Input should be ")
    assert stack.request("GET", f"/usage/tasks/{good}/cost").status_code == 200
    letters = stack.request("GET", "/local/dead-letters", key=None).json()["BillingDeadLetterQueue"]
    assert any(
        bad["detail"]["task_id"] in m["body"] and "detail.status" in (m["reason"] or "")
        for m in letters
    )


def test_events_endpoint_rejects_non_events(stack: Stack) -> None:
    response = stack.request(
        "POST",
        "/local/events",
        key=None,
        data="[1, 2]",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert (
        post_events(
            stack, {"source": "somewhere.else", "detail-type": "Task Completed", "detail": {}}
        )["unmatched"]
        == 1
    )


def test_demo_data_answers(stack: Stack) -> None:
    demo = stack.request("GET", "/usage/tasks/demo_0041/cost").json()
    assert demo["app"].startswith("team_local/")
    assert stack.request("GET", "/usage/tasks/demo_0042/cost").json()["refunded"] is True


def test_billing_moves_1h_and_1d_totals_by_the_charge(stack: Stack) -> None:
    app = f"team_local/e2e-{uuid.uuid4().hex[:8]}"
    publish(stack, app)

    def spend(range_name: str) -> tuple[int, int]:
        body = stack.request("GET", f"/usage/breakdown?range={range_name}").json()
        calls = next((p["call_count"] for p in body["per_model"] if p["app_endpoint"] == app), 0)
        return body["total_cost"], calls

    before = {r: spend(r) for r in ("1h", "1d")}
    summary_before = stack.request("GET", "/usage/summary?range=1h").json()["total_usage"]
    task = f"e2e_{uuid.uuid4().hex[:12]}"
    post_events(stack, completed(task, team="team_local", app=app, completed_at=datetime.now(UTC)))
    charge = stack.request("GET", f"/usage/tasks/{task}/cost").json()["charged"]["value"]
    assert charge == 5_632_498
    for range_name in ("1h", "1d"):
        total, calls = spend(range_name)
        assert (total - before[range_name][0], calls - before[range_name][1]) == (charge, 1)
    assert (
        stack.request("GET", "/usage/summary?range=1h").json()["total_usage"] - summary_before
        == 600
    )


def test_breakdown_problems_over_http(stack: Stack) -> None:
    response = stack.request("GET", "/usage/breakdown?range=2w")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "range"
    assert stack.request("GET", "/usage/breakdown?range=7d&tz=Asia/Kolkata").status_code == 200
