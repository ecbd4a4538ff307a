"""A cheap work budget (docs/pricing.md, the work budget): the coefficients prepared
once per formula, the values measured once per task and the formulas skipped because they
cannot exceed their budget give exactly the answers of the full bound."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usage_pricing import (
    AppPricing,
    OutputMeta,
    PricingEvaluator,
    PricingInput,
    Resource,
    new_engine,
)
from usage_pricing.core.limits import MAX_RESOURCES
from usage_pricing.pricing.cel.budget import (
    BUDGET_EXCEEDED,
    ENGINE_ITERATION_LIMIT,
    SHARED_ARENA_COPIES,
    FeeBudgets,
    estimate,
    fits,
    plan_of,
)
from usage_pricing.pricing.cel.budget_shape import shape_of
from usage_pricing.pricing.cel.budget_sizes import DataSizes
from usage_pricing.pricing.evaluator import _most_units

FORMULAS = (
    "usage_seconds * resources[0].price_per_hour / 3600",
    "text_tokens(inputs) * prices.per_1k_input / 1000 + text_tokens(outputs) * prices.a"
    " + image_count(outputs) * prices.per_image",
    "inference_fee / 10",
    "max(resource_fee + inference_fee, prices.min_charge)",
    "size(task_inputs.s + task_inputs.s)",
    "task_inputs.s.contains(task_inputs.t) ? 1 : 2",
    "task_inputs.s.matches('a+b') ? 1 : 0",
    "size(output_meta) + size(prices) + size(string(task_inputs))",
    "get(task_inputs, 'l', []) == [1, 2] ? 3 : 4",
    "size(" + " + ".join(["resources"] * 10) + ")",
    "size(outputs.filter(o, o.type == 'image'))",
    "task_inputs.l.exists(x, x == 3) ? 1 : 0",
    "size(task_inputs.l.map(x, task_inputs.s))",
)
# bench/pricing.py's realistic pricing (the README example's five formulas).
PRICING = AppPricing(
    prices={
        "per_1k_input": 15_000,
        "per_1k_output": 60_000,
        "per_image": 200_000,
        "min_charge": 50_000,
    },
    resource_expression="usage_seconds * resources[0].price_per_hour / 3600",
    inference_expression=(
        "text_tokens(inputs) * prices.per_1k_input / 1000"
        " + text_tokens(outputs) * prices.per_1k_output / 1000"
        " + image_count(outputs) * prices.per_image"
    ),
    royalty_expression="inference_fee / 10",
    partner_expression="double(inference_fee) * 0.05",
    total_expression="max(resource_fee + inference_fee + royalty_fee + partner_fee, prices.min_charge)",
)
WIDEST = {"name": "n" * 128, "model": "m" * 128, "tier": "private", "price_per_hour": 1}


def _task(text: int, outputs: int, extra: int, items: int, resources: int) -> PricingInput:
    meta = {
        "inputs": [{"type": "text", "tokens": 10}],
        "outputs": [{"type": "image", "extra": {"k": "x" * extra} if extra else {}}] * outputs,
    }
    return PricingInput(
        output_meta=OutputMeta.model_validate(meta),
        resources=tuple(Resource.model_validate(WIDEST) for _ in range(resources)),
        elapsed_ms=1000,
        task_inputs={"s": "a" * text, "t": "ab" * (text // 4), "l": [1] * items},
    )


tasks = st.builds(
    _task,
    text=st.sampled_from([0, 10, 3_000, 300_000, 700_000]),
    outputs=st.sampled_from([0, 1, 100, 1000]),
    extra=st.sampled_from([0, 11, 12, 300]),
    items=st.sampled_from([0, 5, 2_000, 9_500]),
    resources=st.sampled_from([0, 1, MAX_RESOURCES, 400]),
)
PRICES = {"per_1k_input": 1, "a": 2, "per_image": 3, "min_charge": 4, "x" * 64: 5}


def _reference(sources: list[str | None], variables: dict[str, Any]) -> set[int] | None:
    """The check as it was before it was prepared per formula: the full bound of every formula, one after another."""
    sizes = DataSizes(variables)
    over: set[int] = set()
    iterations = copies = 0
    for index, source in enumerate(sources):
        if source is None:
            continue
        cost = estimate(shape_of(source), sizes)
        if fits(cost):
            iterations += cost.iterations
            copies += cost.copies
        else:
            over.add(index)
    if not over and iterations < ENGINE_ITERATION_LIMIT and copies <= SHARED_ARENA_COPIES:
        return None
    return over


@settings(max_examples=60, deadline=None)
@given(task=tasks, source=st.sampled_from(FORMULAS))
def test_property_given_a_formula_and_a_task_then_its_plan_costs_exactly_its_full_bound(
    task: PricingInput, source: str
) -> None:
    variables = task.cel_variables(PRICES)

    planned = plan_of(source).cost(DataSizes(variables))
    full = estimate(shape_of(source), DataSizes(variables))

    assert (planned.work, planned.iterations, planned.copies) == (
        full.work,
        full.iterations,
        full.copies,
    )


@settings(max_examples=60, deadline=None)
@given(
    task=tasks,
    sources=st.lists(st.sampled_from([None, *FORMULAS]), min_size=5, max_size=5),
)
def test_property_given_five_formulas_then_the_prepared_budgets_answer_as_the_full_check(
    task: PricingInput, sources: list[str | None]
) -> None:
    variables = task.cel_variables(PRICES)
    budgets = FeeBudgets(sources, [True] * 5, _most_units())

    answer = budgets.over(variables, len(variables["resources"]) <= MAX_RESOURCES)

    assert answer == _reference(sources, variables)


def test_given_the_realistic_pricing_when_prepared_then_only_the_inference_formula_is_measured() -> (
    None
):
    budgets = FeeBudgets(PRICING.fee_sources(), [True] * 5, _most_units())

    assert [index for index, _plan, _quick in budgets.checked] == [1]
    assert [index for index, _plan, _quick in budgets.every] == [0, 1, 2, 3, 4]


def test_given_a_formula_that_does_not_compile_then_its_neighbours_are_checked_but_not_fused() -> (
    None
):
    sources = [None, "size(task_inputs.s + task_inputs.s)", None, None, None]
    budgets = FeeBudgets(sources, [True, False, True, True, True], _most_units())

    assert budgets.over(_task(0, 0, 0, 0, 0).cel_variables(PRICES)) == set()


@pytest.mark.parametrize("engine", ["cel-expr", "cel-python"])
def test_given_more_resources_than_the_input_limits_then_a_formula_over_them_is_still_checked(
    engine: str,
) -> None:
    # With at most MAX_RESOURCES resources this formula cannot exceed its budget, so it is not
    # checked per task; a PricingInput built with more (not through an event) is checked.
    pricing = AppPricing(inference_expression="size(" + " + ".join(["resources"] * 10) + ")")
    evaluator = PricingEvaluator(new_engine(engine))

    within = evaluator.price(pricing, _task(0, 0, 0, 0, MAX_RESOURCES))
    beyond = evaluator.price(pricing, _task(0, 0, 0, 0, 400))

    assert (within.inference_fee.value, within.inference_fee.error) == (10 * MAX_RESOURCES, None)
    assert (beyond.inference_fee.value, beyond.inference_fee.error) == (0, BUDGET_EXCEEDED)


@pytest.mark.parametrize("engine", ["cel-expr", "cel-python"])
def test_given_extras_that_tip_a_linear_formula_over_then_only_it_is_an_error(engine: str) -> None:
    # The realistic inference formula over 1,000 outputs: with 11-character extras its bound
    # fits (19,939,156 units of 20,000,000; the quick bound, which takes the prices at their
    # most, is 20,202,116, so the exact bound decides), with 12-character extras it does not
    # (20,151,156).
    evaluator = PricingEvaluator(new_engine(engine))
    fits_ = evaluator.price(PRICING, _task(0, 1000, 11, 0, 1))
    over = evaluator.price(PRICING, _task(0, 1000, 12, 0, 1))

    assert fits_.errors == {}
    assert fits_.inference_fee.value == 10 * 15 + 1000 * 200_000
    assert over.errors == {"inference_fee": BUDGET_EXCEEDED}
    assert [fee.value for fee in over.fees] == [0, 0, 0, 0, 50_000]
