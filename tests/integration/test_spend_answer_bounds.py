"""A spend answer has a bounded size and reads a bounded number of items, whatever a team has
stored: the summary shows at most MAX_SUMMARY_VALUES values per dimension (the rest under
`other`, no second lost), and a breakdown, summary or costs page that would read more than the
aggregate read budget is a 422 asking the caller to narrow it (docs/api.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld
from usage_pricing.core.limits import MAX_SUMMARY_VALUES
from usage_pricing.spend.summary import most_seconds
from usage_pricing.storage.aggregates import OTHER

from .analytics_helpers import NOW, Analytics
from .billing_helpers import completed


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    return Analytics(aws)


def test_given_fewer_values_than_the_cap_then_they_are_shown_as_they_are() -> None:
    assert most_seconds({"a": 1, "b": 2}, keep=3) == {"a": 1, "b": 2}


def test_given_more_values_than_the_cap_then_the_most_seconds_stay_and_the_rest_add_up_under_other() -> (
    None
):
    values = {"a": 5, "b": 9, "c": 1, "d": 9, OTHER: 4}
    assert most_seconds(values, keep=3) == {"b": 9, "d": 9, OTHER: 4 + 5 + 1}
    assert sum(most_seconds(values, keep=3).values()) == sum(values.values())


def _resources(models: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": f"r{i}", "type": "gpu", "model": m, "price_per_second": 1}
        for i, m in enumerate(models)
    ]


def test_given_many_apps_with_many_models_then_the_summary_shows_at_most_the_cap_and_loses_no_second(
    world: Analytics,
) -> None:
    # 5 apps × 30 models = 150 distinct models in the window (each item holds at most 32).
    events = [
        completed(
            f"sum-{app}",
            app=f"team_a/app-{app}",
            completed_at=NOW - timedelta(hours=2),
            elapsed_ms=(app + 1) * 1000,
            resources=_resources([f"model-{app}-{m:02d}" for m in range(30)]),
        )
        for app in range(5)
    ]
    world.bill(*events)
    summary = world.summary(range="1d")
    models = summary["model_usage"]
    assert len(models) == MAX_SUMMARY_VALUES
    assert sum(models.values()) == summary["total_usage"] == 30 * (1 + 2 + 3 + 4 + 5)
    # The busiest apps' models are shown by name; the rest of the seconds are under other.
    assert models["model-4-00"] == 5
    assert models[OTHER] == 30 * (1 + 2 + 3 + 4 + 5) - sum(
        v for k, v in models.items() if k != OTHER
    )


@pytest.mark.parametrize(
    ("route", "query"),
    [
        ("/usage/breakdown", {"range": "7d"}),
        ("/usage/summary", {"range": "7d"}),
        ("/v1/organization/costs", {"start_time": str(int((NOW - timedelta(days=3)).timestamp()))}),
    ],
)
def test_given_an_answer_that_would_read_past_the_read_budget_then_it_is_a_422_asking_to_narrow_it(
    world: Analytics, route: str, query: dict[str, str]
) -> None:
    world.bill(
        *(
            completed(f"rb-{i}", app=f"team_a/app-{i}", completed_at=NOW - timedelta(hours=1 + i))
            for i in range(4)
        )
    )
    module = world.summary_fn if route == "/usage/summary" else world.breakdown_fn
    reader = module.summaries.aggregates if route == "/usage/summary" else module.aggregates
    reader.max_items = 3
    status, problem = world.get(module, route, query)
    assert status == 422
    assert problem["title"] == "Answer too large"
    assert problem["detail"] == (
        "this answer would read more than 3 aggregate items (one per bucket, app and shard): "
        "narrow the window, choose a coarser bucket or filter the apps"
    )
    reader.max_items = 4
    status, _ = world.get(module, route, query)
    assert status == 200
