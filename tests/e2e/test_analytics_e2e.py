"""Spend analytics through the local stack over HTTP: breakdown, summary and the task list, as JSON
and as CSV, for a team of its own (events posted to /local/events, the queue path)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.integration.billing_helpers import completed, refunded
from tests.stack import Stack
from usage_pricing.core.money import to_dollars

pytestmark = pytest.mark.e2e
CHARGE = 5_232_498  # llm/micro for 600 s, no published pricing


@pytest.fixture(scope="module")
def team(stack: Stack) -> tuple[str, str]:
    """A team with 10 tasks over three apps in the last 3 days (one failed, one refunded, one on
    the private tier), and its key."""
    name = f"team_e2e_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    events = [
        completed(
            f"{name}_t{i}",
            team=name,
            app=f"{name}/app-{i % 3}",
            completed_at=now - timedelta(hours=9 * i),
        )
        for i in range(9)
    ]
    events[4]["detail"]["status"] = "failed"
    private = completed(
        f"{name}_p", team=name, app=f"{name}/app-0", completed_at=now - timedelta(minutes=3)
    )
    private["detail"]["tier"] = "private"
    report = stack.request("POST", "/local/events", key=None, json=[*events, private]).json()
    assert report["dead_lettered"] == [] and report["accepted"] == 10
    stack.request("POST", "/local/events", key=None, json=refunded(f"{name}_t1", team=name))
    return name, stack.new_key(name, "billing:read")


def get(stack: Stack, key: str, path: str, **kwargs: Any) -> requests.Response:
    return stack.request("GET", path, key=key, **kwargs)


def test_given_a_team_when_it_asks_for_local_days_by_fee_then_the_groups_add_up(
    stack: Stack, team: tuple[str, str]
) -> None:
    name, key = team
    for tz in ("Europe/Berlin", "Asia/Kolkata", "America/New_York"):
        today = datetime.now(ZoneInfo(tz)).date()  # the zone's own calendar
        start, end = (
            (today - timedelta(days=5)).isoformat(),
            (today + timedelta(days=1)).isoformat(),
        )
        response = get(stack, key, f"/usage/breakdown?start={start}&end={end}&tz={tz}&group_by=fee")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["bucket"], body["tz"], body["total_cost"], body["refunded_cost"]) == (
            "1d",
            tz,
            8 * CHARGE,
            CHARGE,
        )
        assert body["per_group"] == [
            {
                "group": "resource",
                "call_count": 8,
                "cost": 8 * CHARGE,
                "cost_dollars": to_dollars(8 * CHARGE),
            }
        ]
        for bucket in body["timeseries"]:
            assert sum(bucket["per_group"].values()) == sum(bucket["per_app"].values())
    tiers = get(stack, key, f"/usage/breakdown?range=7d&group_by=tier&app={name}/app-0").json()
    assert {g["group"]: g["cost"] for g in tiers["per_group"]} == {
        "cloud": 3 * CHARGE,
        "private": CHARGE,
    }


@pytest.mark.parametrize(
    "ask", [{"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}]
)
def test_given_csv_when_a_breakdown_is_downloaded_then_its_rows_sum_to_the_total(
    stack: Stack, team: tuple[str, str], ask: dict[str, Any]
) -> None:
    _, key = team
    response = get(stack, key, "/usage/breakdown?range=7d&tz=Asia/Kathmandu", **ask)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="breakdown.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    total = get(stack, key, "/usage/breakdown?range=7d&tz=Asia/Kathmandu").json()["total_cost"]
    assert sum(Decimal(r["cost_usd"]) for r in rows) * 100_000_000 == total == 8 * CHARGE
    assert sum(int(r["call_count"]) for r in rows) == 9  # the failed task is a call too


def test_given_a_team_when_it_asks_for_the_summary_then_json_and_csv_agree(
    stack: Stack, team: tuple[str, str]
) -> None:
    _, key = team
    summary = get(stack, key, "/usage/summary?range=7d").json()
    assert summary["total_usage"] == 9 * 600  # the refunded task's seconds are out
    rows = list(
        csv.DictReader(io.StringIO(get(stack, key, "/usage/summary?range=7d&format=csv").text))
    )
    for dimension in ("tier", "type", "model"):
        assert (
            sum(int(r["seconds"]) for r in rows if r["dimension"] == dimension)
            == summary["total_usage"]
        )


def test_given_the_task_list_when_paged_over_http_then_two_pages_and_the_csv_link_agree(
    stack: Stack, team: tuple[str, str]
) -> None:
    name, key = team
    first = get(stack, key, "/usage/tasks?limit=4").json()
    second = get(stack, key, f"/usage/tasks?limit=4&cursor={first['next_cursor']}").json()
    third = get(stack, key, f"/usage/tasks?limit=4&cursor={second['next_cursor']}").json()
    ids = [t["task_id"] for page in (first, second, third) for t in page["data"]]
    assert ids == [f"{name}_t{i}" for i in range(8, 0, -1)] + [f"{name}_p", f"{name}_t0"]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert {t["billing_status"] for t in first["data"] + second["data"]} >= {
        "not_charged",
        "refunded",
    }
    response = get(stack, key, "/usage/tasks?limit=4&format=csv")
    link = response.headers["Link"]
    assert link.endswith('>; rel="next"')
    following = get(stack, key, link[1 : link.index(">")])
    assert [r["task_id"] for r in csv.DictReader(io.StringIO(following.text))] == [
        t["task_id"] for t in second["data"]
    ]
    assert urlsplit(link[1 : link.index(">")]).path == "/usage/tasks"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/usage/breakdown?tz=Europe", "tz"),
        ("/usage/breakdown?start=2026-01-01&bucket=1m", "bucket"),
        ("/usage/breakdown?range=7d&start=2026-11-01", "range"),
        ("/usage/summary?group_by=fee&tz=UTC%2B5", "tz"),
        ("/usage/tasks?cursor=forged.cursor", "cursor"),
        ("/usage/tasks?limit=5000", "limit"),
    ],
)
def test_given_bad_parameters_over_http_then_they_are_problems_naming_the_field(
    stack: Stack, team: tuple[str, str], path: str, field: str
) -> None:
    response = get(stack, team[1], path)
    assert (response.status_code, response.headers["Content-Type"]) == (
        400,
        "application/problem+json",
    )
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_given_another_teams_cursor_over_http_then_it_is_a_400(
    stack: Stack, team: tuple[str, str]
) -> None:
    cursor = get(stack, team[1], "/usage/tasks?limit=1").json()["next_cursor"]
    response = stack.request("GET", f"/usage/tasks?limit=1&cursor={cursor}")  # the dev key's team
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
