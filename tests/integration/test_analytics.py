"""Breakdown and summary from aggregates maintained by real billing, with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event

from .billing_helpers import completed, refunded, sqs_batch

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)
# llm/micro for 600 s with no published pricing: the resource fee only.
CHARGE = 5_232_498


class Analytics:
    def __init__(self, aws: AwsWorld) -> None:
        self.billing = aws.handler("billing", "BillingFunction")
        self.breakdown_fn = aws.handler("breakdown", "BreakdownFunction")
        self.summary_fn = aws.handler("summary", "SummaryFunction")
        for module in (self.breakdown_fn, self.summary_fn):
            module.analytics.clock = lambda: NOW

    def bill(self, *events: Any) -> None:
        result = self.billing.lambda_handler(sqs_batch(*events), LambdaContext())
        assert result == {"batchItemFailures": []}

    def get(
        self,
        module: ModuleType,
        path: str,
        query: dict[str, str],
        team: str = "team_a",
        scopes: str = "billing:read",
    ) -> tuple[int, Any]:
        event = sample_event("breakdown")
        route = f"GET {path}"
        event.update(
            routeKey=route,
            rawPath=path,
            queryStringParameters=query or None,
            rawQueryString="&".join(f"{k}={v}" for k, v in query.items()),
        )
        event["requestContext"].update(routeKey=route)
        event["requestContext"]["http"].update(path=path)
        event["requestContext"]["authorizer"]["lambda"] = {"team_id": team, "scopes": scopes}
        response = module.lambda_handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def breakdown(self, **query: str) -> Any:
        status, body = self.get(self.breakdown_fn, "/usage/breakdown", query)
        assert status == 200, body
        return body

    def summary(self, **query: str) -> Any:
        status, body = self.get(self.summary_fn, "/usage/summary", query)
        assert status == 200, body
        return body


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    return Analytics(aws)


def at(moment: datetime, task: str, **kwargs: Any) -> dict[str, Any]:
    return completed(task, completed_at=moment, **kwargs)


def test_one_event_moves_1h_and_1d_totals_by_its_charge(world: Analytics) -> None:
    before = (world.breakdown(range="1h")["total_cost"], world.breakdown(range="1d")["total_cost"])
    world.bill(at(NOW - timedelta(minutes=5), "t1"))
    hour, day = world.breakdown(range="1h"), world.breakdown(range="1d")
    assert (hour["total_cost"] - before[0], day["total_cost"] - before[1]) == (CHARGE, CHARGE)
    assert hour["per_model"] == [{"app_endpoint": "team_a/flux", "call_count": 1, "cost": CHARGE}]
    assert hour["models"] == ["team_a/flux"]
    bucket = next(b for b in hour["timeseries"] if b["per_app"])
    assert bucket == {"date": "2026-11-22T08:25:00Z", "per_app": {"team_a/flux": CHARGE}}
    assert "trend_percent" not in hour  # the previous hour had no spend


def test_series_is_dense_with_zero_buckets(world: Analytics) -> None:
    world.bill(at(NOW - timedelta(days=3), "t1"))
    week = world.breakdown(range="7d")
    assert [b["date"] for b in week["timeseries"]] == [f"2026-11-{d}" for d in range(15, 23)]
    assert [bool(b["per_app"]) for b in week["timeseries"]] == [
        False,
        False,
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert (week["period_start"], week["period_end"]) == (
        "2026-11-15T00:00:00Z",
        "2026-11-22T08:30:00Z",
    )
    assert len(world.breakdown(range="90d")["timeseries"]) == 91
    assert len(world.breakdown()["timeseries"]) == 31  # default 30d


@pytest.mark.parametrize(
    ("moment", "range_name", "label"),
    [
        (datetime(2026, 11, 22, 8, 10, 0, tzinfo=UTC), "1h", "2026-11-22T08:10:00Z"),
        (datetime(2026, 11, 22, 8, 9, 59, 999999, tzinfo=UTC), "1h", "2026-11-22T08:09:00Z"),
        (datetime(2026, 11, 22, 7, 0, 0, tzinfo=UTC), "1d", "2026-11-22T07:00:00Z"),
        (datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC), "1d", "2026-11-21T23:00:00Z"),
        (datetime(2026, 11, 21, 0, 0, 0, tzinfo=UTC), "7d", "2026-11-21"),
        (datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC), "7d", "2026-11-20"),
    ],
)
def test_bucket_edges(world: Analytics, moment: datetime, range_name: str, label: str) -> None:
    world.bill(at(moment, "t-edge"))
    series = world.breakdown(range=range_name)["timeseries"]
    assert [b["date"] for b in series if b["per_app"]] == [label]


def test_period_start_edge_belongs_to_the_period(world: Analytics) -> None:
    world.bill(
        at(datetime(2026, 11, 22, 7, 30, 0, tzinfo=UTC), "t-in"),
        at(datetime(2026, 11, 22, 7, 29, 59, tzinfo=UTC), "t-before"),
    )
    hour = world.breakdown(range="1h")
    assert hour["total_cost"] == CHARGE
    assert hour["trend_percent"] == 0.0  # previous hour: the other task, same cost


def test_trend_arithmetic(world: Analytics) -> None:
    world.bill(at(NOW - timedelta(days=8), "p1"), at(NOW - timedelta(days=9), "p2"))
    world.bill(*(at(NOW - timedelta(days=1, minutes=i), f"c{i}") for i in range(3)))
    assert world.breakdown(range="7d")["trend_percent"] == 50.0  # 3 charges against 2
    world.bill(at(NOW - timedelta(hours=30), "p-day"))
    # period_start is floor_hour(now - 1d) = 08:00 yesterday: c0..c2 (08:28-08:30) are in it,
    # p-day (02:30 yesterday) is in the day before.
    assert world.breakdown(range="1d")["trend_percent"] == 200.0
    world.bill(
        at(NOW - timedelta(hours=40), "p-day-2"),
        at(NOW - timedelta(hours=44), "p-day-3"),
        at(NOW - timedelta(hours=46), "p-day-4"),
    )
    assert world.breakdown(range="1d")["trend_percent"] == -25.0  # 3 charges against 4


def test_refunds_are_excluded(world: Analytics) -> None:
    world.bill(at(NOW - timedelta(minutes=3), "t1"), at(NOW - timedelta(minutes=2), "t2"))
    world.bill(refunded("t1"))
    hour = world.breakdown(range="1h")
    assert hour["total_cost"] == CHARGE
    assert hour["per_model"][0]["call_count"] == 1
    assert world.summary(range="1h")["total_usage"] == 600


def test_top_apps_by_cost(world: Analytics) -> None:
    world.bill(
        at(NOW - timedelta(hours=1), "a1", app="team_a/alpha"),
        at(NOW - timedelta(hours=1), "b1", app="team_a/beta", elapsed_ms=1_200_000),
        at(NOW - timedelta(hours=2), "b2", app="team_a/beta"),
    )
    per_model = world.breakdown(range="1d")["per_model"]
    assert [(p["app_endpoint"], p["call_count"]) for p in per_model] == [
        ("team_a/beta", 2),
        ("team_a/alpha", 1),
    ]
    assert per_model[0]["cost"] == 2 * CHARGE + CHARGE


def test_local_days_across_dst(world: Analytics) -> None:
    late = datetime(
        2026, 10, 25, 22, 30, tzinfo=UTC
    )  # 23:30 on Oct 25 in Berlin (UTC+1 after the change)
    early = datetime(
        2026, 10, 24, 22, 30, tzinfo=UTC
    )  # 00:30 on Oct 25 in Berlin (UTC+2 before it)
    world.bill(at(late, "t-late"), at(early, "t-early"))
    for module in (world.breakdown_fn,):
        module.analytics.clock = lambda: datetime(2026, 10, 27, 12, tzinfo=UTC)
    berlin = world.breakdown(range="7d", tz="Europe/Berlin")
    assert {
        b["date"]: b["per_app"].get("team_a/flux", 0) for b in berlin["timeseries"] if b["per_app"]
    } == {"2026-10-25": 2 * CHARGE}
    utc = world.breakdown(range="7d")
    assert {b["date"] for b in utc["timeseries"] if b["per_app"]} == {"2026-10-24", "2026-10-25"}
    kolkata = world.breakdown(range="7d", tz="Asia/Kolkata")
    assert {b["date"] for b in kolkata["timeseries"] if b["per_app"]} == {
        "2026-10-25",
        "2026-10-26",
    }


def test_summary_is_consistent(world: Analytics) -> None:
    resources = [
        {"name": "gpu0", "type": "gpu", "model": "A100", "count": 2, "meter": "standard/sm"},
        {"name": "cpu0", "type": "cpu", "model": "graviton", "price_per_second": 10},
    ]
    world.bill(at(NOW - timedelta(hours=2), "t1", resources=resources, elapsed_ms=10_500))
    private = completed("t2", completed_at=NOW - timedelta(days=2), elapsed_ms=60_000)
    private["detail"]["tier"] = "private"
    world.bill(private)
    summary = world.summary()
    assert summary == {
        "tier_usage": {"cloud": 33, "private": 60},
        "type_usage": {"cpu": 11, "gpu": 82},
        "model_usage": {"A100": 22, "graviton": 11, "llm-micro": 60},
        "total_usage": 93,
    }
    for dimension in ("tier_usage", "type_usage", "model_usage"):
        assert sum(summary[dimension].values()) == summary["total_usage"]
    assert world.summary(range="1d")["total_usage"] == 33


def test_shards_are_summed(world: Analytics, aws: AwsWorld) -> None:
    from usage_pricing.storage.ledger import shard_for

    tasks = [f"task-{i}" for i in range(24)]
    assert len({shard_for(t, 4) for t in tasks}) == 4  # spread over every shard
    world.bill(*(at(NOW - timedelta(minutes=10), t) for t in tasks[:10]))
    world.bill(*(at(NOW - timedelta(minutes=10), t) for t in tasks[10:20]))
    world.bill(*(at(NOW - timedelta(minutes=10), t) for t in tasks[20:]))
    hour = world.breakdown(range="1h")
    assert hour["total_cost"] == 24 * CHARGE
    assert hour["per_model"][0]["call_count"] == 24
    repository = world.breakdown_fn.analytics.aggregates
    repository.stats.items = repository.stats.queries = 0
    world.breakdown(range="1h")
    assert (repository.stats.queries, repository.stats.items) == (4, 4)  # one item per shard


def test_other_teams_spend_is_invisible(world: Analytics) -> None:
    world.bill(at(NOW - timedelta(minutes=5), "t1"))
    status, body = world.get(world.breakdown_fn, "/usage/breakdown", {"range": "1h"}, team="team_b")
    assert (status, body["total_cost"], body["models"]) == (200, 0, [])


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/usage/breakdown", {"range": "2h"}, "range"),
        ("/usage/breakdown", {"range": "7d", "tz": "Mars/Olympus"}, "tz"),
        ("/usage/summary", {"range": "1y"}, "range"),
        ("/usage/summary", {"tz": "Nowhere/Land"}, "tz"),
    ],
)
def test_bad_range_or_tz_is_400(
    world: Analytics, path: str, query: dict[str, str], field: str
) -> None:
    module = world.breakdown_fn if path == "/usage/breakdown" else world.summary_fn
    status, problem = world.get(module, path, query)
    assert status == 400
    assert [e["field"] for e in problem["errors"]] == [field]


def test_scope_is_billing_read(world: Analytics) -> None:
    assert world.get(world.breakdown_fn, "/usage/breakdown", {}, scopes="apps:read")[0] == 403
    assert world.get(world.summary_fn, "/usage/summary", {}, scopes="billing")[0] == 200


def test_sample_events(world: Analytics) -> None:
    for name, module in (("breakdown", world.breakdown_fn), ("summary", world.summary_fn)):
        response = module.lambda_handler(sample_event(name), LambdaContext())
        assert response["statusCode"] == 200
