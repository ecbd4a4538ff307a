"""A request's WorkBudget (usage_pricing.core.deadline): Lambda's remaining time less a margin, and a
read budget; and the policies the bounded routes use, held to template.yaml's timeouts."""

from __future__ import annotations

import pytest

from local.template import load_template
from usage_pricing.core.deadline import BudgetPolicy, WorkBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_given_a_lambda_context_when_a_budget_starts_then_its_deadline_is_the_remaining_time_less_the_margin() -> (
    None
):
    clock = Clock()
    policy = BudgetPolicy(
        margin_ms=3_000, max_items=10, max_queries=5, fallback_ms=29_000, clock=clock
    )
    budget = policy.start(Context(8_000))
    assert budget.deadline == 105.0
    clock.now = 104.999
    assert budget.allows(read=False) and budget.stopped is None
    clock.now = 105.0
    assert not budget.allows(read=False) and budget.stopped == "deadline"


@pytest.mark.parametrize(
    ("context", "deadline"), [(None, 126.0), (object(), 126.0), (Context(1_000), 100.0)]
)
def test_given_a_context_that_cannot_tell_or_is_nearly_out_of_time_then_the_timeout_or_no_time_is_budgeted(
    context: object, deadline: float
) -> None:
    policy = BudgetPolicy(
        margin_ms=3_000, max_items=10, max_queries=5, fallback_ms=29_000, clock=Clock()
    )
    assert policy.start(context).deadline == deadline


def test_given_a_read_budget_when_spent_then_it_stops_reads_but_not_the_work_in_hand() -> None:
    clock = Clock()
    budget = WorkBudget(10, max_items=10, max_queries=3, clock=clock)
    assert budget.allows() and budget.items_left() == 10
    budget.spend(items=7)
    budget.spend(items=2)
    assert budget.allows() and budget.items_left() == 1
    budget.spend(items=4)
    assert budget.items_left() == 0
    assert not budget.allows() and budget.stopped == "read_budget"
    assert budget.allows(read=False)  # a task already read may still be priced
    queries = WorkBudget(10, max_items=100, max_queries=2, clock=clock)
    queries.spend(items=0)
    queries.spend(items=0)
    assert not queries.allows() and queries.stopped == "read_budget"


def test_given_a_budget_then_each_check_reads_the_clock_once_and_a_read_budget_refusal_none() -> (
    None
):
    clock = Clock()
    budget = WorkBudget(10, max_items=1, max_queries=5, clock=clock)
    assert clock.reads == 1
    budget.allows()
    budget.expired()
    assert clock.reads == 3
    budget.spend(items=1)
    budget.allows()
    assert clock.reads == 3


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("usage_pricing.spend.tasks", "TaskCostFunction"),
        ("usage_pricing.ledger.backtest", "PricingFunction"),
    ],
)
def test_given_the_bounded_routes_then_their_budget_fits_inside_their_functions_timeout(
    module: str, function: str
) -> None:
    import importlib

    route = importlib.import_module(module)
    # the function's own Timeout, or the template's Globals
    assert load_template().functions()[function].timeout_seconds * 1000 == route.TIMEOUT_MS
    assert 0 < route.MARGIN_MS < route.TIMEOUT_MS // 3
