"""The per-formula work budget (docs/pricing.md, the work budget): a heavy formula is an
error on its own component, never an exception, and never changes what its neighbours price."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile_pricing import CORPUS, FIVE_FILTERS, ONE_FILTER, ONE_FILTER_FITS, HostileCase
from usage_pricing import AppPricing, PricingEvaluator, new_engine
from usage_pricing.pricing.cel.budget import BUDGET_EXCEEDED, MAX_ITERATIONS, W_ACCUMULATE, estimate
from usage_pricing.pricing.cel.budget_shape import shape_of
from usage_pricing.pricing.cel.budget_sizes import DataSizes, units

ENGINES = ("cel-expr", "cel-python")
COMPONENTS = ("resource", "inference", "royalty", "partner", "total")
EVALUATORS = {name: PricingEvaluator(new_engine(name)) for name in ENGINES}


def _fee(result: object, component: str) -> object:
    return getattr(result, "total" if component == "total" else f"{component}_fee")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_given_a_hostile_case_when_priced_then_only_its_heavy_components_exceed_the_budget(
    engine: str, case: HostileCase
) -> None:
    result = EVALUATORS[engine].price(case.app_pricing(), case.task())

    exceeded = {c for c in COMPONENTS if _fee(result, c).error == BUDGET_EXCEEDED}  # type: ignore[attr-defined]
    assert exceeded == set(case.expect)
    other_errors = {k: v for k, v in result.errors.items() if v != BUDGET_EXCEEDED}
    assert other_errors == {}
    for component in case.expect:
        assert _fee(result, component).value == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_given_a_hostile_case_when_each_formula_is_priced_alone_then_it_prices_the_same(
    case: HostileCase,
) -> None:
    evaluator = EVALUATORS["cel-expr"]
    pricing = case.app_pricing()
    together = evaluator.price(pricing, case.task())
    for component in ("resource", "inference", "royalty", "partner"):
        source = getattr(pricing, f"{component}_expression")
        if not source:
            continue
        alone = evaluator.price(AppPricing(**{f"{component}_expression": source}), case.task())
        assert _fee(alone, component) == _fee(together, component)


def test_given_five_filters_over_999_and_1000_images_then_both_answer_alike() -> None:
    # The first version billed 999 and lost 1,000 (a shared cel-expr iteration budget).
    pricing = AppPricing(inference_expression=FIVE_FILTERS, royalty_expression=FIVE_FILTERS)
    answers = []
    for outputs in (999, 1000):
        task = HostileCase("", {}, outputs=outputs).task()
        result = EVALUATORS["cel-expr"].price(pricing, task)
        answers.append((result.inference_fee, result.royalty_fee))
    assert answers[0] == answers[1]
    assert answers[0][0].error == BUDGET_EXCEEDED


@settings(max_examples=40, deadline=None)
@given(
    # Up to the most outputs one filter fits (computed from the budget: ~610 of the 1,000 the
    # input limits allow, since building a list costs quadratically in cel-expr).
    outputs=st.integers(0, ONE_FILTER_FITS),
    heavy=st.sampled_from(["inference", "royalty", "partner"]),
)
def test_property_a_heavy_neighbour_never_changes_a_formula_that_fits(
    outputs: int, heavy: str
) -> None:
    task = HostileCase("", {}, outputs=outputs).task()
    light = {"resource_expression": ONE_FILTER, "total_expression": "resource_fee + 1"}
    alone = EVALUATORS["cel-expr"].price(AppPricing(**light), task)
    crowded = EVALUATORS["cel-expr"].price(
        AppPricing(**light, **{f"{heavy}_expression": FIVE_FILTERS}), task
    )
    assert crowded.resource_fee == alone.resource_fee
    assert crowded.resource_fee.value == outputs


@pytest.mark.parametrize("outputs", [1, 100, ONE_FILTER_FITS, 1000])
def test_given_a_filter_over_n_outputs_then_its_bound_counts_every_copy_of_the_growing_list(
    outputs: int,
) -> None:
    variables = HostileCase("", {}, outputs=outputs).task().cel_variables({})
    built = estimate(shape_of(ONE_FILTER), DataSizes(variables))
    walked = estimate(
        shape_of("outputs.exists(o, o.type == 'image') ? 1 : 0"), DataSizes(variables)
    )

    assert built.copies == outputs * (outputs + 1) // 2
    assert walked.copies == 0
    assert built.work - walked.work >= W_ACCUMULATE * built.copies


@pytest.mark.parametrize(
    ("source", "loops", "names"),
    [
        ("size(outputs.filter(o, o.type == 'image'))", ["filter"], {"outputs"}),
        ("outputs.map(o, o.count).filter(c, c > 1 && true)", ["map", "filter"], {"outputs"}),
        ("prices.a + task_inputs.b.c", [], {"prices", "task_inputs"}),
    ],
)
def test_given_a_formula_when_shaped_then_its_comprehensions_and_names_are_found(
    source: str, loops: list[str], names: set[str]
) -> None:
    shape = shape_of(source)
    assert [loop.macro for loop in shape.loops] == loops
    assert shape.names == names  # variables only: no helpers, literals or iteration variables


def test_given_a_chained_receiver_then_the_iterations_are_those_of_the_data() -> None:
    sizes = DataSizes({"task_inputs": {"l": list(range(2000))}})
    cost = estimate(shape_of("task_inputs.l.exists(x, x == 3)"), sizes)
    assert cost.iterations == 2000
    chained = estimate(shape_of("size(task_inputs.l.map(x, x).filter(y, y > 1))"), sizes)
    assert chained.iterations == 4000


def test_given_more_iterations_than_the_budget_then_the_formula_exceeds_it() -> None:
    pricing = AppPricing(inference_expression="task_inputs.l.exists(x, x < 0) ? 1 : 2")
    fits = HostileCase("", {}, task_inputs={"l": [1] * MAX_ITERATIONS}).task()
    over = HostileCase("", {}, task_inputs={"l": [1] * (MAX_ITERATIONS + 1)}).task()
    for engine in ENGINES:
        assert EVALUATORS[engine].price(pricing, fits).inference_fee.value == 2
        assert EVALUATORS[engine].price(pricing, over).inference_fee.error == BUDGET_EXCEEDED


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("abc", 4), ([1, 2], 3), ({"ab": [1]}, 5), ({"a": {"b": "cd"}}, 7)],
)
def test_given_a_value_when_measured_then_units_count_scalars_characters_and_keys(
    value: object, expected: int
) -> None:
    assert units(value) == expected


def test_given_data_nested_deeper_than_python_recursion_then_it_is_measured() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    assert units(deep) == 5001
