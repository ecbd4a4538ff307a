"""The costs feed read by OpenAI's own Python client (`openai`, client.admin.organization.usage.
costs), pointed at the local stack: what a tool built on that client sees. Skipped where the
client is not installed (it is a dev requirement: requirements-dev.txt)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.billing_helpers import completed
from tests.stack import Stack

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.e2e
CHARGE = 5_232_498  # llm/micro for 600 s, no published pricing
DAY = 86_400


def test_given_a_teams_spend_when_read_by_openais_client_then_the_pages_add_up_to_the_breakdown(
    stack: Stack,
) -> None:
    team = f"team_oai_{uuid.uuid4().hex[:8]}"
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    events = [
        completed(
            f"{team}_t{i}",
            team=team,
            app=f"{team}/app-{i % 2}",
            completed_at=today - timedelta(days=i, seconds=-60),
        )
        for i in range(3)
    ]
    assert stack.request("POST", "/local/events", json=events).status_code == 200
    key = stack.new_key(team, "billing:read")
    client = openai.OpenAI(api_key="unused", admin_api_key=key, base_url=f"{stack.url}/v1")
    start = int(today.timestamp()) - 2 * DAY

    results: list[Any] = []
    buckets = 0
    page = client.admin.organization.usage.costs(
        start_time=start,
        limit=1,
        group_by=["project_id", "line_item"],
        project_ids=[f"{team}/app-0", f"{team}/app-1"],
    )
    while True:
        assert page.object == "page"
        for bucket in page.data:
            assert bucket.object == "bucket"
            assert bucket.start_time == start + buckets * DAY
            assert bucket.end_time == bucket.start_time + DAY
            buckets += 1
            results += bucket.results
        if not page.has_more:
            break
        page = client.admin.organization.usage.costs(
            start_time=start,
            limit=1,
            group_by=["project_id", "line_item"],
            project_ids=[f"{team}/app-0", f"{team}/app-1"],
            page=page.next_page,
        )
    assert buckets == 3
    assert [(r.object, r.project_id, r.line_item, r.amount.currency) for r in results] == [
        ("organization.costs.result", f"{team}/app-0", "resource", "usd"),
        ("organization.costs.result", f"{team}/app-1", "resource", "usd"),
        ("organization.costs.result", f"{team}/app-0", "resource", "usd"),
    ]
    total = sum(Decimal(repr(r.amount.value)) for r in results)
    breakdown = stack.request(
        "GET",
        f"/usage/breakdown?start={today.date() - timedelta(days=2)}&end={today.date() + timedelta(days=1)}&bucket=1d",
        key=key,
    ).json()
    assert total * 100_000_000 == breakdown["total_cost"] == 3 * CHARGE
