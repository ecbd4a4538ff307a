"""Breakdown and summary handlers over aggregates maintained by real billing (moto tables from
template.yaml), with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event
from usage_pricing.core.money import INT64_MAX, to_dollars

from .analytics_helpers import CHARGE, NOW, Analytics, at
from .billing_helpers import Billing, completed, refunded


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    return Analytics(aws)


def spent(app: str, calls: int, cost: int | None) -> dict[str, Any]:
    """A per_model row: its cost in microcents and in dollars beside it (null when null)."""
    dollars = None if cost is None else to_dollars(cost)
    return {"app_endpoint": app, "call_count": calls, "cost": cost, "cost_dollars": dollars}


def group(name: str, calls: int, cost: int) -> dict[str, Any]:
    """A per_group row, its dollars beside its cost."""
    return {"group": name, "call_count": calls, "cost": cost, "cost_dollars": to_dollars(cost)}


def spend(body: dict[str, Any]) -> dict[str, int]:
    """Cost per bucket label, buckets without spend left out."""
    return {b["date"]: sum(b["per_app"].values()) for b in body["timeseries"] if b["per_app"]}


def test_given_one_task_when_billed_then_1h_and_1d_totals_move_by_its_charge(
    world: Analytics,
) -> None:
    before = (world.breakdown(range="1h")["total_cost"], world.breakdown(range="1d")["total_cost"])
    world.bill(at(NOW - timedelta(minutes=5), "t1"))
    hour, day = world.breakdown(range="1h"), world.breakdown(range="1d")
    assert (hour["total_cost"] - before[0], day["total_cost"] - before[1]) == (CHARGE, CHARGE)
    assert hour["per_model"] == [spent("team_a/flux", 1, CHARGE)]
    assert hour["models"] == ["team_a/flux"]
    bucket = next(b for b in hour["timeseries"] if b["per_app"])
    assert bucket == {
        "date": "2026-11-22T08:25:00Z",
        "per_app": {"team_a/flux": CHARGE},
        "per_app_dollars": {"team_a/flux": to_dollars(CHARGE)},
    }
    assert "trend_percent" not in hour  # the previous hour had no spend
    assert list(hour) == [
        "timeseries",
        "per_model",
        "models",
        "total_cost",
        "refunded_cost",
        "period_start",
        "period_end",
        "bucket",
        "tz",
        "total_cost_dollars",
        "refunded_cost_dollars",
    ]
    assert (hour["bucket"], hour["tz"], hour["refunded_cost"]) == ("1m", "UTC", 0)


@pytest.mark.parametrize(
    ("range_name", "buckets", "bucket"),
    [("1h", 61, "1m"), ("1d", 25, "1h"), ("7d", 8, "1d"), ("30d", 31, "1d"), ("90d", 91, "1d")],
)
def test_given_a_range_when_asked_then_every_bucket_is_present(
    world: Analytics, range_name: str, buckets: int, bucket: str
) -> None:
    world.bill(at(NOW - timedelta(days=3), "t1"))
    body = world.breakdown(range=range_name)
    assert (len(body["timeseries"]), body["bucket"]) == (buckets, bucket)
    week = world.breakdown(range="7d")
    assert [b["date"] for b in week["timeseries"]] == [f"2026-11-{d}" for d in range(15, 23)]
    assert spend(week) == {"2026-11-19": CHARGE}
    assert (week["period_start"], week["period_end"]) == (
        "2026-11-15T00:00:00Z",
        "2026-11-22T08:30:00Z",
    )
    assert len(world.breakdown()["timeseries"]) == 31  # default 30d


@pytest.mark.parametrize(
    ("moment", "query", "label"),
    [
        (datetime(2026, 11, 22, 8, 10, 0, tzinfo=UTC), {"range": "1h"}, "2026-11-22T08:10:00Z"),
        (
            datetime(2026, 11, 22, 8, 9, 59, 999999, tzinfo=UTC),
            {"range": "1h"},
            "2026-11-22T08:09:00Z",
        ),
        (datetime(2026, 11, 22, 7, 0, 0, tzinfo=UTC), {"range": "1d"}, "2026-11-22T07:00:00Z"),
        (datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC), {"range": "1d"}, "2026-11-21T23:00:00Z"),
        (datetime(2026, 11, 21, 0, 0, 0, tzinfo=UTC), {"range": "7d"}, "2026-11-21"),
        (datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC), {"range": "7d"}, "2026-11-20"),
        # Local midnight in Berlin (UTC+1) and Kolkata (UTC+5:30), on both sides.
        (
            datetime(2026, 11, 20, 23, 0, 0, tzinfo=UTC),
            {"range": "7d", "tz": "Europe/Berlin"},
            "2026-11-21",
        ),
        (
            datetime(2026, 11, 20, 22, 59, 59, tzinfo=UTC),
            {"range": "7d", "tz": "Europe/Berlin"},
            "2026-11-20",
        ),
        (
            datetime(2026, 11, 20, 18, 30, 0, tzinfo=UTC),
            {"range": "7d", "tz": "Asia/Kolkata"},
            "2026-11-21",
        ),
        (
            datetime(2026, 11, 20, 18, 29, 59, tzinfo=UTC),
            {"range": "7d", "tz": "Asia/Kolkata"},
            "2026-11-20",
        ),
        # Local hours in Kolkata run from hh:30 UTC.
        (
            datetime(2026, 11, 22, 6, 30, 0, tzinfo=UTC),
            {"range": "1d", "tz": "Asia/Kolkata"},
            "2026-11-22T12:00:00+05:30",
        ),
        (
            datetime(2026, 11, 22, 6, 29, 59, tzinfo=UTC),
            {"range": "1d", "tz": "Asia/Kolkata"},
            "2026-11-22T11:00:00+05:30",
        ),
        # Explicit windows: an RFC 3339 start is inclusive, the end exclusive.
        (
            datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC),
            {"start": "2026-11-01T10:00:00Z", "end": "2026-11-01T11:00:00Z", "bucket": "1h"},
            "2026-11-01T10:00:00Z",
        ),
    ],
)
def test_given_a_task_on_a_bucket_edge_when_broken_down_then_it_falls_in_the_later_bucket(
    world: Analytics, moment: datetime, query: dict[str, str], label: str
) -> None:
    world.bill(at(moment, "t-edge"))
    assert list(spend(world.breakdown(**query))) == [label]


def test_given_the_exclusive_end_when_a_task_completes_on_it_then_it_is_left_out(
    world: Analytics,
) -> None:
    world.bill(at(datetime(2026, 11, 21, 11, 0, 0, tzinfo=UTC), "t-end"))
    body = world.breakdown(start="2026-11-21T10:00:00Z", end="2026-11-21T11:00:00Z")
    assert (body["total_cost"], len(body["timeseries"]), body["bucket"]) == (0, 60, "1m")
    assert (
        world.breakdown(start="2026-11-21T10:00:00Z", end="2026-11-21T11:00:01Z")["total_cost"]
        == CHARGE
    )


def test_given_the_period_start_when_a_task_completes_on_it_then_it_belongs_to_the_period(
    world: Analytics,
) -> None:
    world.bill(
        at(datetime(2026, 11, 22, 7, 30, 0, tzinfo=UTC), "t-in"),
        at(datetime(2026, 11, 22, 7, 29, 59, tzinfo=UTC), "t-before"),
    )
    hour = world.breakdown(range="1h")
    assert hour["total_cost"] == CHARGE
    assert hour["trend_percent"] == 0.0  # previous hour: the other task, same cost


def test_given_spend_before_the_period_when_broken_down_then_the_trend_compares_equal_lengths(
    world: Analytics,
) -> None:
    world.bill(at(NOW - timedelta(days=8), "p1"), at(NOW - timedelta(days=9), "p2"))
    world.bill(*(at(NOW - timedelta(days=1, minutes=i), f"c{i}") for i in range(3)))
    assert world.breakdown(range="7d")["trend_percent"] == 50.0  # 3 charges against 2
    world.bill(at(NOW - timedelta(hours=30), "p-day"))
    assert world.breakdown(range="1d")["trend_percent"] == 200.0
    world.bill(
        at(NOW - timedelta(hours=40), "p-day-2"),
        at(NOW - timedelta(hours=44), "p-day-3"),
        at(NOW - timedelta(hours=46), "p-day-4"),
    )
    assert world.breakdown(range="1d")["trend_percent"] == -25.0  # 3 charges against 4
    # An explicit window compares with as many buckets before it.
    explicit = world.breakdown(start="2026-11-21", end="2026-11-22")
    assert (explicit["total_cost"], explicit["trend_percent"]) == (4 * CHARGE, 33.33)  # 4 against 3


def test_given_a_refund_when_broken_down_then_it_leaves_the_total_for_refunded_cost(
    world: Analytics,
) -> None:
    world.bill(at(NOW - timedelta(minutes=3), "t1"), at(NOW - timedelta(minutes=2), "t2"))
    world.bill(refunded("t1"))
    for query in ({"range": "1h"}, {"range": "7d"}, {"range": "7d", "tz": "America/New_York"}):
        body = world.breakdown(**query)
        assert (body["total_cost"], body["refunded_cost"]) == (CHARGE, CHARGE), query
        assert body["per_model"][0]["call_count"] == 1
    assert world.summary(range="1h")["total_usage"] == 600


def test_given_several_apps_when_broken_down_then_top_apps_rank_by_cost(world: Analytics) -> None:
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


@pytest.mark.parametrize(
    ("tz", "days"),
    [
        # 23:30 on Oct 25 in Berlin (UTC+1 after the change) and 00:30 (UTC+2 before it)
        ("Europe/Berlin", {"2026-10-25": 2 * CHARGE}),
        ("UTC", {"2026-10-24": CHARGE, "2026-10-25": CHARGE}),
        ("Asia/Kolkata", {"2026-10-25": CHARGE, "2026-10-26": CHARGE}),
        ("Asia/Kathmandu", {"2026-10-25": CHARGE, "2026-10-26": CHARGE}),
        ("America/New_York", {"2026-10-24": CHARGE, "2026-10-25": CHARGE}),
    ],
)
def test_given_tasks_around_a_dst_change_when_broken_down_by_local_day_then_each_falls_on_its_date(
    world: Analytics, tz: str, days: dict[str, int]
) -> None:
    world.bill(
        at(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), "t-late"),
        at(datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "t-early"),
    )
    world.set_now(datetime(2026, 10, 27, 12, tzinfo=UTC))
    for query in (
        {"range": "7d", "tz": tz},
        {"start": "2026-10-23", "end": "2026-10-27", "tz": tz},
    ):
        assert spend(world.breakdown(**query)) == days
        # The fee grouping reads hour or quarter-hour items instead of day slots: same days.
        grouped = world.breakdown(**query, group_by="fee")
        assert {
            b["date"]: b["per_group"]["resource"] for b in grouped["timeseries"] if b["per_group"]
        } == days


def test_given_day_items_without_slots_when_local_days_are_asked_then_finer_items_answer(
    world: Analytics, aws: AwsWorld
) -> None:
    """Items written before the slots existed (aggregate layout 1) still answer local days."""
    world.bill(at(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), "t1"))
    table = aws.dynamodb.Table("AggregatesTable")
    for item in table.scan()["Items"]:
        if item["pk"].split("#")[1] == "D":
            legacy = {
                k: v for k, v in item.items() if k in ("pk", "sk", "cost", "calls", "u:total")
            }
            table.put_item(Item={**legacy, "app": "team_a/flux", "bucket": item["sk"][:20]})
    body = world.breakdown(start="2026-11-20", end="2026-11-23", tz="Europe/Berlin")
    assert spend(body) == {"2026-11-21": CHARGE}


def test_given_resources_of_every_kind_when_summarized_then_each_dimension_adds_up(
    world: Analytics,
) -> None:
    resources = [
        {"name": "gpu0", "type": "gpu", "model": "A100", "count": 2, "meter": "standard/sm"},
        {"name": "cpu0", "type": "cpu", "model": "graviton", "price_per_second": 10},
    ]
    world.bill(
        at(
            NOW - timedelta(hours=2),
            "t1",
            resources=resources,
            elapsed_ms=10_500,
            app="team_a/other",
        )
    )
    private = completed("t2", completed_at=NOW - timedelta(days=2), elapsed_ms=60_000)
    private["detail"]["tier"] = "private"
    world.bill(private)
    summary = world.summary()
    assert summary == {
        "tier_usage": {"cloud": 33, "private": 60},
        "type_usage": {"cpu": 11, "gpu": 82},
        "model_usage": {"A100": 22, "graviton": 11, "llm-micro": 60},
        "total_usage": 93,
        "period_start": "2026-10-23T00:00:00Z",
        "period_end": "2026-11-22T08:30:00Z",
        "tz": "UTC",
    }
    for dimension in ("tier_usage", "type_usage", "model_usage"):
        assert sum(summary[dimension].values()) == summary["total_usage"]
    assert world.summary(range="1d")["total_usage"] == 33
    assert world.summary(app="team_a/flux")["total_usage"] == 60
    assert (
        world.summary(start="2026-11-20", end="2026-11-21", tz="Asia/Kolkata")["total_usage"] == 60
    )
    rows = world.csv(world.summary_fn, "/usage/summary", {"format": "csv"})
    assert [list(r.values()) for r in rows] == [
        ["tier", "cloud", "33"],
        ["tier", "private", "60"],
        ["type", "cpu", "11"],
        ["type", "gpu", "82"],
        ["model", "A100", "22"],
        ["model", "graviton", "11"],
        ["model", "llm-micro", "60"],
    ]


@pytest.mark.parametrize(
    ("query", "period", "usage"),
    [
        # A span of under 2 hours, but beyond the minute items' 3 days: whole hours answer it.
        (
            {"start": "2026-11-15T10:10:00Z", "end": "2026-11-15T10:50:00Z"},
            ("2026-11-15T10:00:00Z", "2026-11-15T11:00:00Z"),
            600,
        ),
        # Years of days: the summary has no buckets to count.
        ({"start": "2020-01-01"}, ("2020-01-01T00:00:00Z", "2026-11-22T08:30:00Z"), 1200),
        (
            {"start": "2026-11-15", "end": "2026-11-16", "tz": "Asia/Kathmandu"},
            ("2026-11-14T18:15:00Z", "2026-11-15T18:15:00Z"),
            600,
        ),
        ({"range": "1h"}, ("2026-11-22T07:30:00Z", "2026-11-22T08:30:00Z"), 600),
    ],
)
def test_given_a_summary_window_when_asked_then_it_widens_to_what_the_aggregates_hold(
    world: Analytics, query: dict[str, str], period: tuple[str, str], usage: int
) -> None:
    world.bill(
        at(datetime(2026, 11, 15, 10, 30, tzinfo=UTC), "old"),
        at(NOW - timedelta(minutes=10), "recent"),
    )
    summary = world.summary(**query)
    assert ((summary["period_start"], summary["period_end"]), summary["total_usage"]) == (
        period,
        usage,
    )


def test_given_a_hot_app_when_its_charges_spread_over_shards_then_readers_sum_them(
    world: Analytics,
) -> None:
    ledger = world.billing.consumer.service.ledger
    ledger.shard_policy.contended("team_a", "team_a/hot")  # as after a contended write
    tasks = [f"task-{i}" for i in range(24)]
    world.bill(*(at(NOW - timedelta(minutes=10), t, app="team_a/hot") for t in tasks[:10]))
    world.bill(*(at(NOW - timedelta(minutes=10), t, app="team_a/hot") for t in tasks[10:20]))
    world.bill(*(at(NOW - timedelta(minutes=10), t, app="team_a/hot") for t in tasks[20:]))
    world.bill(at(NOW - timedelta(minutes=10), "quiet-1", app="team_a/quiet"))
    world.bill(at(NOW - timedelta(minutes=10), "quiet-2", app="team_a/quiet"))
    hour = world.breakdown(range="1h")
    assert hour["total_cost"] == 26 * CHARGE
    assert [(m["app_endpoint"], m["call_count"]) for m in hour["per_model"]] == [
        ("team_a/hot", 24),
        ("team_a/quiet", 2),
    ]
    repository = world.breakdown_fn.analytics.aggregates
    repository.stats.items = repository.stats.queries = 0
    world.breakdown(range="1h")
    # One Query per shard; the hot app's minute is in every shard, the quiet app's in one.
    assert (repository.stats.queries, repository.stats.items) == (4, 5)


def test_given_another_team_when_it_asks_then_it_sees_none_of_this_spend(world: Analytics) -> None:
    world.bill(at(NOW - timedelta(minutes=5), "t1"))
    status, body = world.get(world.breakdown_fn, "/usage/breakdown", {"range": "1h"}, team="team_b")
    assert (status, body["total_cost"], body["models"]) == (200, 0, [])


def publish(aws: AwsWorld, app: str, pricing: dict[str, Any]) -> None:
    store = Billing(aws)
    assert store.patch(app, pricing)[0] == 200
    assert store.publish(app)[0] == 200


def test_given_a_minimum_charge_and_a_failed_task_when_grouped_by_fee_then_groups_add_up(
    world: Analytics, aws: AwsWorld
) -> None:
    publish(
        aws,
        "team_a/flux",
        {
            "prices": {"per_image": 200_000},
            "inference_expression": "image_count(output_meta.outputs) * prices.per_image",
            "total_expression": "max(resource_fee + inference_fee, 10000000)",  # a $0.10 minimum
        },
    )
    now = datetime.now(UTC)
    world.set_now(now + timedelta(minutes=5))
    world.bill(at(now, "t1"), at(now, "t2", status="failed"), at(now, "t3", images=40))
    body = world.breakdown(range="1d", group_by="fee")
    # t1: 5,232,498 resource + 400,000 inference, lifted to 10,000,000; t2 charged 0;
    # t3: 5,232,498 + 8,000,000 = 13,232,498, over the minimum.
    assert body["total_cost"] == 10_000_000 + 13_232_498
    assert body["per_group"] == [
        group("resource", 2, 2 * 5_232_498),
        group("inference", 2, 400_000 + 8_000_000),
        group("adjustment", 1, 10_000_000 - 5_632_498),
    ]
    for bucket in body["timeseries"]:
        assert sum(bucket["per_group"].values()) == sum(bucket["per_app"].values())
    assert body["per_model"] == [spent("team_a/flux", 3, body["total_cost"])]
    rows = world.csv(
        world.breakdown_fn, "/usage/breakdown", {"range": "1d", "group_by": "fee", "format": "csv"}
    )
    assert sum(int(r["cost_microcents"]) for r in rows) == body["total_cost"]
    assert sum(Decimal(r["cost_usd"]) for r in rows) == Decimal(body["total_cost"]) / 100_000_000
    assert {r["group"] for r in rows} == {"resource", "inference", "adjustment"}


def test_given_cloud_and_private_tasks_when_grouped_by_tier_then_each_tier_has_its_spend(
    world: Analytics,
) -> None:
    private = at(NOW - timedelta(hours=3), "t2", elapsed_ms=1_200_000)
    private["detail"]["tier"] = "private"
    world.bill(
        at(NOW - timedelta(hours=2), "t1"),
        private,
        at(NOW - timedelta(hours=2), "t3", status="cancelled"),
    )
    body = world.breakdown(range="7d", group_by="tier", tz="Asia/Kathmandu")
    assert body["per_group"] == [
        group("cloud", 2, CHARGE),
        group("private", 1, 2 * CHARGE),
    ]
    assert sum(g["cost"] for g in body["per_group"]) == body["total_cost"]


def test_given_app_filters_when_broken_down_then_only_those_apps_count(world: Analytics) -> None:
    world.bill(
        *(at(NOW - timedelta(hours=i + 1), f"t{i}", app=f"team_a/app-{i % 4}") for i in range(8))
    )
    for query in (
        {"range": "1d", "app": "team_a/app-1,team_a/app-3"},  # app=a&app=b as API Gateway passes it
        {"range": "90d", "app": "team_a/app-1,team_a/app-3", "tz": "Europe/Berlin"},
    ):
        body = world.breakdown(**query)
        assert body["models"] == ["team_a/app-1", "team_a/app-3"]
        assert body["total_cost"] == 4 * CHARGE
        assert all(
            set(b["per_app"]) <= {"team_a/app-1", "team_a/app-3"} for b in body["timeseries"]
        )
    assert world.breakdown(range="1d", app="team_a/unknown")["total_cost"] == 0


@pytest.mark.parametrize(
    "headers_or_query",
    [
        {"query": {"format": "csv"}},
        {"headers": {"accept": "text/csv"}},
        {"headers": {"Accept": "TEXT/CSV; charset=utf-8"}},
        {"headers": {"accept": "application/json;q=0.5, text/csv"}},
    ],
)
def test_given_csv_is_asked_when_broken_down_then_rows_add_up_to_the_json(
    world: Analytics, headers_or_query: dict[str, dict[str, str]]
) -> None:
    world.bill(
        *(at(NOW - timedelta(hours=5 * i), f"t{i}", app=f"team_a/app-{i % 3}") for i in range(9))
    )
    query = {"range": "7d", "tz": "Europe/Berlin", **headers_or_query.get("query", {})}
    rows = world.csv(
        world.breakdown_fn, "/usage/breakdown", query, headers=headers_or_query.get("headers")
    )
    body = world.breakdown(range="7d", tz="Europe/Berlin")
    assert list(rows[0]) == ["bucket_start", "group", "cost_microcents", "cost_usd", "call_count"]
    assert sum(int(r["cost_microcents"]) for r in rows) == body["total_cost"] == 9 * CHARGE
    assert sum(int(r["call_count"]) for r in rows) == 9
    assert {(r["bucket_start"], r["group"]) for r in rows} == {
        (b["date"], app) for b in body["timeseries"] for app in b["per_app"]
    }


@pytest.mark.parametrize(
    "accept", ["application/json", "*/*", "text/html,*/*;q=0.8", "application/json, text/csv"]
)
def test_given_json_is_preferred_when_broken_down_then_the_answer_is_json(
    world: Analytics, accept: str
) -> None:
    response = world.call(world.breakdown_fn, "/usage/breakdown", {}, headers={"accept": accept})
    assert (response["statusCode"], response["headers"]["Content-Type"]) == (
        200,
        "application/json",
    )


def int64_task(world: Analytics, task_id: str, moment: datetime) -> None:
    from usage_pricing.ledger.records import BillingRecord

    record = BillingRecord(
        task_id=task_id, team_id="team_a", app="team_a/huge", status="completed", billing_status="charged",
        started_at=moment, completed_at=moment, billed_at=moment, elapsed_ms=0, usage_seconds=0, tier="cloud",
        resource_fee=0, inference_fee=INT64_MAX, royalty_fee=0, partner_fee=0, total=INT64_MAX, charged=INT64_MAX,
    )  # fmt: skip
    world.billing.consumer.service.ledger.charge(record)


def test_given_sums_beyond_int64_when_broken_down_then_those_figures_are_errors(
    world: Analytics,
) -> None:
    for index in range(3):
        int64_task(world, f"huge-{index}", NOW - timedelta(hours=index + 1))
    world.bill(at(NOW - timedelta(hours=1), "small"))
    body = world.breakdown(range="1d", group_by="fee")
    assert body["total_cost"] is None
    assert body["per_model"] == [
        spent("team_a/huge", 3, None),
        spent("team_a/flux", 1, CHARGE),
    ]
    fields = {e["field"] for e in body["errors"]}
    assert {"total_cost", "per_model.0.cost", "per_group.1.cost"} <= fields
    assert all("int64" in e["message"] for e in body["errors"])
    # Each bucket holds one task: within int64, answered.
    assert sorted(v for b in body["timeseries"] for v in b["per_app"].values()) == [
        CHARGE,
        *[INT64_MAX] * 3,
    ]
    response = world.call(world.breakdown_fn, "/usage/breakdown", {"range": "1d", "format": "csv"})
    problem = json.loads(response["body"])
    assert (response["statusCode"], response["headers"]["Content-Type"]) == (
        422,
        "application/problem+json",
    )
    assert {"total_cost", "per_model.0.cost"} <= {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/usage/breakdown", {"range": "2h"}, "range"),
        ("/usage/breakdown", {"range": "7d", "tz": "Mars/Olympus"}, "tz"),
        ("/usage/breakdown", {"tz": "Europe"}, "tz"),  # a directory of the zone database
        ("/usage/breakdown", {"tz": "Europe/" + "x" * 300}, "tz"),
        ("/usage/breakdown", {"range": "7d", "start": "2026-11-01"}, "range"),
        ("/usage/breakdown", {"end": "2026-11-01"}, "start"),
        ("/usage/breakdown", {"start": "2026-11-10", "end": "2026-11-09"}, "end"),
        ("/usage/breakdown", {"start": "2026-11-10T10:00:00"}, "start"),
        ("/usage/breakdown", {"start": "2026-01-01", "bucket": "1h"}, "bucket"),
        (
            "/usage/breakdown",
            {"start": "2026-11-15T00:00:00Z", "end": "2026-11-15T01:00:00Z"},
            "bucket",
        ),
        ("/usage/breakdown", {"bucket": "1w"}, "bucket"),
        ("/usage/breakdown", {"group_by": "model"}, "group_by"),
        ("/usage/breakdown", {"app": ",".join(f"team_a/app-{i}" for i in range(21))}, "app"),
        ("/usage/breakdown", {"app": "not an app"}, "app.0"),
        ("/usage/breakdown", {"format": "xml"}, "format"),
        ("/usage/summary", {"range": "1y"}, "range"),
        ("/usage/summary", {"tz": "Nowhere/Land"}, "tz"),
        ("/usage/summary", {"start": "2026-11-10", "end": "2026-11-10"}, "end"),
        ("/usage/summary", {"app": ",".join(f"team_a/app-{i}" for i in range(21))}, "app"),
    ],
)
def test_given_a_bad_parameter_when_asked_then_it_is_a_400_naming_it(
    world: Analytics, path: str, query: dict[str, str], field: str
) -> None:
    module = world.breakdown_fn if path == "/usage/breakdown" else world.summary_fn
    response = world.call(module, path, query)
    problem = json.loads(response["body"])
    assert (response["statusCode"], response["headers"]["Content-Type"]) == (
        400,
        "application/problem+json",
    )
    assert [e["field"] for e in problem["errors"]] == [field]


def test_given_scopes_when_asked_then_billing_read_is_required(world: Analytics) -> None:
    assert world.get(world.breakdown_fn, "/usage/breakdown", {}, scopes="apps:read")[0] == 403
    assert world.get(world.summary_fn, "/usage/summary", {}, scopes="billing")[0] == 200


def test_given_the_sample_events_when_invoked_then_they_answer(world: Analytics) -> None:
    for name, module in (("breakdown", world.breakdown_fn), ("summary", world.summary_fn)):
        response = module.lambda_handler(sample_event(name), LambdaContext())
        assert response["statusCode"] == 200
