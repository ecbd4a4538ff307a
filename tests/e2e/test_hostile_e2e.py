"""The hostile corpus over the local stack: 0 responses ≥ 500, and every task either
billed exactly once or dead-lettered with its reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.hostile_pricing import CORPUS, FIVE_FILTERS, HostileCase
from tests.integration.billing_helpers import completed
from tests.stack import Stack

pytestmark = pytest.mark.e2e
COMPONENTS = ("resource_fee", "inference_fee", "royalty_fee", "partner_fee", "total")


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_given_a_hostile_pricing_when_previewed_over_http_then_heavy_components_are_errors(
    stack: Stack, case: HostileCase
) -> None:
    body = {
        "pricing": case.pricing,
        "output_meta": case.output_meta(),
        "task_inputs": case.task_inputs,
        "usage_seconds": 1,
    }

    response = stack.request("POST", "/usage/cel/evaluate", json=body)

    assert response.status_code == 200, response.text
    preview = response.json()
    expected = {"total" if c == "total" else f"{c}_fee" for c in case.expect}
    assert {c for c in COMPONENTS if preview[c].get("error")} == expected
    for component in expected:
        assert preview[component] == {
            "value": 0,
            "dollars": "0.00",
            "error": "evaluation budget exceeded",
        }


def _dead_letter_reasons(stack: Stack) -> list[tuple[str, str]]:
    response = stack.request("GET", "/local/dead-letters", key=None)
    assert response.status_code == 200
    return [
        (json.loads(message["body"]).get("detail", {}).get("task_id"), message["reason"])
        for messages in response.json().values()
        for message in messages
    ]


def test_given_hostile_task_events_then_each_is_billed_once_or_dead_lettered_with_a_reason(
    stack: Stack,
) -> None:
    app = f"team_local/hostile-{uuid.uuid4().hex[:8]}"
    heavy = {"inference_expression": FIVE_FILTERS, "royalty_expression": FIVE_FILTERS}
    assert stack.request("PATCH", f"/apps/{app}/pricing", json=heavy).status_code == 200
    assert stack.request("POST", f"/apps/{app}/pricing/publish").status_code == 200
    run = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)

    def event(name: str, **kwargs: Any) -> dict[str, Any]:
        return completed(f"h_{run}_{name}", team="team_local", app=app, **kwargs)

    many_images = event("images")
    many_images["detail"]["output_meta"]["outputs"] = [{"type": "image"}] * 1000
    conflict = event("plain")
    conflict_other_team = json.loads(json.dumps(conflict))
    conflict_other_team["detail"]["team_id"] = "team_other"
    conflict_more_usage = json.loads(json.dumps(conflict))
    conflict_more_usage["detail"]["output_meta"]["outputs"][0]["count"] = 50
    backwards = event("backwards", completed_at=now - timedelta(hours=1))
    backwards["detail"]["started_at"] = now.isoformat()
    events = [
        many_images,
        conflict,
        conflict,  # a true duplicate: silent
        conflict_other_team,
        conflict_more_usage,
        event("future", completed_at=now + timedelta(days=2)),
        event("year9999", completed_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        event("year999", completed_at=datetime(999, 1, 1, tzinfo=UTC)),
        backwards,
    ]

    response = stack.request("POST", "/local/events", key=None, json=events)

    assert response.status_code == 200, response.text
    reported = response.json()["dead_lettered"]
    # The report lists every message the delivery dead-lettered, each with its reason, and none
    # reached the dead-letter queue by exhausting its receives.
    assert all(r["reason"] and "maxReceiveCount" not in r["reason"] for r in reported)
    dead = _dead_letter_reasons(stack)
    assert sorted((r["task_id"], r["reason"]) for r in reported) == sorted(
        (t, r) for t, r in dead if t and t.startswith(f"h_{run}_")
    )
    reasons = dict(dead)
    expected_reasons = {
        "plain": f"conflicting duplicate of task h_{run}_plain",
        "future": "is more than 15 minutes in the future",
        "year9999": "is more than 15 minutes in the future",
        "year999": "is before 2000-01-01T00:00:00Z",
        "backwards": "started_at is after completed_at",
    }
    for name in ("images", "plain"):
        cost = stack.request("GET", f"/usage/tasks/h_{run}_{name}/cost")
        assert cost.status_code == 200, cost.text
    assert stack.request("GET", f"/usage/tasks/h_{run}_images/cost").json()["billing_status"] == (
        "needs_review"
    )
    for name in ("future", "year9999", "year999", "backwards"):
        assert stack.request("GET", f"/usage/tasks/h_{run}_{name}/cost").status_code == 404
        assert expected_reasons[name] in reasons[f"h_{run}_{name}"]
    conflicts = [r for t, r in dead if t == f"h_{run}_plain"]
    assert conflicts == [expected_reasons["plain"]] * 2  # another team, and other usage
