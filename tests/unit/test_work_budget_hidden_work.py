"""The work budget finds work hidden in a formula's shape (docs/pricing.md, the work budget):
receivers that are not plain paths, map bodies that return long lists, strings built or measured
in every iteration, long map keys, costly regular expressions. Each case once priced past its
budget; measurements are cel-expr, fresh process."""

from __future__ import annotations

import pytest

from usage_pricing import AppPricing, PricingEvaluator, PricingInput, new_engine
from usage_pricing.pricing.cel.budget import BudgetExceededError, check_budget, estimate
from usage_pricing.pricing.cel.budget_shape import shape_of
from usage_pricing.pricing.cel.budget_sizes import DataSizes

# A map() whose *body* returns a long list: the result's `deepest` is taken as its own length
# (1), so a comprehension over `result[0]` is bounded at 1 iteration instead of len(big).
HIDDEN = "size([1].map(x, task_inputs.big)[0].map(y, task_inputs.s + task_inputs.s))"


LONG = [1] * 20_000
LITERAL = "[" + ",".join(["1"] * 1990) + "]"


def test_given_a_map_body_returning_a_long_list_then_iterations_are_counted() -> None:
    # Estimated 3 iterations. cel-expr runs 12,001 and stops at its own limit after 2.8 s and
    # +1.5 GB; cel-python prices 12,000 without error: the engines disagree.
    source = "size([1].map(x, task_inputs.big)[0].map(y, y))"
    cost = estimate(shape_of(source), DataSizes({"task_inputs": {"big": [0] * 12_000}}))
    assert cost.iterations >= 12_000


def test_given_hidden_iterations_in_a_map_body_then_the_budget_is_exceeded() -> None:
    # 124 KB of task_inputs: priced without error after 10.4 s and +3.0 GB RSS.
    variables = {"task_inputs": {"big": [0] * 9000, "s": "a" * 100_000}}
    with pytest.raises(BudgetExceededError):
        check_budget(HIDDEN, DataSizes(variables))


def test_given_map_keys_much_longer_than_values_then_the_budget_is_exceeded() -> None:
    # The iteration variable of a map comprehension is a *key*, bounded today by the largest
    # *value* (1 unit): 8 such maps over one 240 KB key price after 190 ms and +383 MB.
    body = "+".join(["k"] * 20)
    source = " + ".join([f"size(task_inputs.m.map(k, {body})[0])"] * 8)
    with pytest.raises(BudgetExceededError):
        check_budget(source, DataSizes({"task_inputs": {"m": {"a" * 240_000: 0}}}))


def test_given_size_of_a_long_string_in_every_iteration_then_the_budget_is_exceeded() -> None:
    # size() of a string counts code points, O(n), but is costed as O(1): 8,500 x 230 KB
    # prices after ~950 ms with no error.
    source = "task_inputs.l.exists_one(x, [true][size(task_inputs.s) * 0]) ? 1 : 0"
    variables = {"task_inputs": {"l": [0] * 8500, "s": "a" * 230_000}}
    with pytest.raises(BudgetExceededError):
        check_budget(source, DataSizes(variables))


@pytest.mark.parametrize("engine", ["cel-expr", "cel-python"])
@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (
            r"task_inputs.l.exists(x, 'a'.matches('\\pL{300}')) ? 1 : 0",
            "the regular expression is too complex (estimated 120,400 > 5,000)",
        ),
        (r"'a'.matches('(a{100}){100}') ? 1 : 0", "the regular expression is too complex"),
        (
            "task_inputs.s.matches(task_inputs.r) ? 1 : 0",
            "matches() needs a string literal pattern",
        ),
        (
            "matches(task_inputs.s, task_inputs.r) ? 1 : 0",
            "matches() needs a string literal pattern",
        ),
    ],
    ids=["unicode class repeated", "nested repeats", "data pattern", "data pattern, function form"],
)
def test_given_a_costly_or_data_driven_regex_then_the_formula_is_a_compile_error(
    engine: str, formula: str, message: str
) -> None:
    # RE2 compiles '\pL{300}' in ~220 ms with no data at all, and cel-expr compiles on every
    # call: 100 iterations priced after 26.5 s. Patterns are literals of bounded cost instead.
    result = PricingEvaluator(new_engine(engine)).price(
        AppPricing(inference_expression=formula),
        PricingInput(task_inputs={"l": [0] * 10, "s": "a", "r": "a"}),
    )
    assert result.inference_fee.value == 0
    assert message in (result.inference_fee.error or "")


def test_given_a_bounded_literal_pattern_in_a_loop_then_it_is_charged_per_call() -> None:
    source = r"task_inputs.l.exists(x, 'a'.matches('[a-z]{3}[0-9]+')) ? 1 : 0"
    few = estimate(shape_of(source), DataSizes({"task_inputs": {"l": [0] * 10}}))
    many = estimate(shape_of(source), DataSizes({"task_inputs": {"l": [0] * 1000}}))
    assert many.work > 50 * few.work


@pytest.mark.parametrize(
    ("source", "task_inputs", "length"),
    [
        ('size(task_inputs["l"].map(x, x * 2))', {"l": LONG}, 20_000),
        ("size(get(task_inputs, 'l', []).map(x, x * 2))", {"l": LONG}, 20_000),
        ("size(dyn(task_inputs).l.map(x, x * 2))", {"l": LONG}, 20_000),
        (f"size({LITERAL}.map(x, task_inputs.s + task_inputs.s))", {"s": "a"}, 1990),
    ],
    ids=["index", "get", "dyn", "list-literal"],
)
def test_given_a_receiver_that_is_not_a_plain_path_then_its_iterations_are_not_underestimated(
    source: str, task_inputs: dict[str, object], length: int
) -> None:
    # Today the bound takes the number of *keys of task_inputs* (1) as the iteration count, so
    # cel-expr runs 10,000 map steps (6 s, 1.5 GB) and cel-python prices 20,000.
    cost = estimate(shape_of(source), DataSizes({"task_inputs": task_inputs}))
    assert cost.iterations >= length


def test_given_an_indexed_receiver_over_20000_items_then_the_budget_is_exceeded() -> None:
    with pytest.raises(BudgetExceededError):
        check_budget(
            'size(task_inputs["l"].map(x, x * 2))', DataSizes({"task_inputs": {"l": LONG}})
        )


def test_given_hidden_iterations_building_strings_then_the_budget_is_exceeded() -> None:
    # 85 KB event: 9,000 steps each building 120 KB; priced today after ~2 s and +1.6 GB RSS
    # (17 s / 4.7 GB with a 200 KB string): OOM on the 512 MB billing Lambda.
    variables = {"task_inputs": {"l": [1] * 9000, "s": "a" * 60_000}}
    with pytest.raises(BudgetExceededError):
        check_budget(
            'size(task_inputs["l"].map(x, task_inputs.s + task_inputs.s))', DataSizes(variables)
        )
