"""Properties of breakdowns over any set of billed tasks, through the real aggregate schema and
reader (tests/fakes.py holds the items): days add up in every zone, every grouping adds up to the
total, the CSV adds up to the JSON."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.spend_helpers import (
    DAYS,
    FIRST_DAYS,
    SETTINGS,
    TEAM,
    Task,
    tasks,
    world,
)
from usage_pricing.spend.breakdown import SpendAnalytics
from usage_pricing.spend.query import SpendQuery

# Zones with DST (23- and 25-hour days), and with :30, :45 and half-hour-DST offsets.
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
)


def breakdown(analytics: SpendAnalytics, **query: Any) -> dict[str, Any]:
    answer = analytics.breakdown(TEAM, SpendQuery(**query))
    return answer.model.model_dump(mode="json")


def local_days(billed: list[Task], tz: str) -> dict[str, dict[str, int]]:
    """Charged microcents per local day and app of the tasks not refunded: the ground truth."""
    days: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for task in billed:
        if not task.refunded:
            day = task.record.completed_at.astimezone(ZoneInfo(tz)).date().isoformat()
            days[day][task.record.app] += task.record.charged
    return days


scenario = st.sampled_from(FIRST_DAYS).flatmap(
    lambda first: st.tuples(st.just(first), tasks(first), st.sampled_from(ZONES))
)


@SETTINGS
@given(scenario)
def test_given_any_tasks_when_days_are_asked_one_by_one_then_they_add_up_to_the_multi_day_answer(
    case: tuple[date, list[Task], str],
) -> None:
    first, billed, tz = case
    analytics = world(billed)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    whole = breakdown(
        analytics,
        start=days[0].isoformat(),
        end=(days[-1] + timedelta(days=1)).isoformat(),
        tz=tz,
        bucket="1d",
    )
    assert [b["date"] for b in whole["timeseries"]] == [d.isoformat() for d in days]
    expected = local_days(billed, tz)
    for bucket in whole["timeseries"]:
        assert bucket["per_app"] == {
            k: v for k, v in sorted(expected.get(bucket["date"], {}).items())
        }
    singles = 0
    for day, bucket in zip(days, whole["timeseries"], strict=True):
        # One day alone is answered in hour buckets, from hour or quarter-hour items: another
        # read path than the multi-day answer's day items and slots.
        one = breakdown(
            analytics, start=day.isoformat(), end=(day + timedelta(days=1)).isoformat(), tz=tz
        )
        assert one["bucket"] == "1h"
        assert one["total_cost"] == sum(bucket["per_app"].values())
        singles += one["total_cost"]
    assert singles == whole["total_cost"]
    refunds = sum(
        t.record.charged
        for t in billed
        if t.refunded
        and days[0] <= t.record.completed_at.astimezone(ZoneInfo(tz)).date() <= days[-1]
    )
    assert whole["refunded_cost"] == refunds


@SETTINGS
@given(scenario, st.sampled_from(["app", "fee", "tier"]))
def test_given_any_tasks_when_grouped_then_every_bucket_and_the_total_add_up(
    case: tuple[date, list[Task], str], group_by: str
) -> None:
    first, billed, tz = case
    analytics = world(billed)
    end = (first + timedelta(days=DAYS)).isoformat()
    answer = breakdown(analytics, start=first.isoformat(), end=end, tz=tz, group_by=group_by)
    total = answer["total_cost"]
    assert total == sum(sum(b["per_app"].values()) for b in answer["timeseries"])
    assert total == sum(a["cost"] for a in answer["per_model"])
    if group_by != "app":
        for bucket in answer["timeseries"]:
            assert sum(bucket["per_group"].values()) == sum(bucket["per_app"].values())
        assert sum(g["cost"] for g in answer["per_group"]) == total
        assert "unattributed" not in {g["group"] for g in answer["per_group"]}
    if group_by == "fee":
        shares: dict[str, int] = defaultdict(int)
        for task in billed:
            local = task.record.completed_at.astimezone(ZoneInfo(tz)).date()
            if not task.refunded and first <= local < first + timedelta(days=DAYS):
                for group, share in task.record.shares().items():
                    shares[group] += share
        answered = {g["group"]: g["cost"] for g in answer["per_group"] if g["cost"]}
        assert answered == {group: share for group, share in shares.items() if share}


@SETTINGS
@given(scenario, st.sampled_from(["app", "fee", "tier"]))
def test_given_any_tasks_when_answered_as_csv_then_the_rows_add_up_to_the_json(
    case: tuple[date, list[Task], str], group_by: str
) -> None:
    first, billed, tz = case
    analytics = world(billed)
    query = SpendQuery(
        start=first.isoformat(),
        end=(first + timedelta(days=DAYS)).isoformat(),
        tz=tz,
        group_by=group_by,
    )  # type: ignore[arg-type]
    answer = analytics.breakdown(TEAM, query)
    from usage_pricing.spend.exports import csv_text

    text = csv_text(
        ("bucket_start", "group", "cost_microcents", "cost_usd", "call_count"), answer.csv_rows()
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sum(int(r["cost_microcents"]) for r in rows) == answer.model.total_cost
    assert sum(Decimal(r["cost_usd"]) for r in rows) * 100_000_000 == answer.model.total_cost
    assert all(int(r["cost_microcents"]) or int(r["call_count"]) for r in rows)
    if group_by == "app":
        assert sum(int(r["call_count"]) for r in rows) == sum(
            a["call_count"] or 0 for a in answer.model.model_dump()["per_model"]
        )
        assert {r["bucket_start"] for r in rows} <= set(answer.grid.labels)
