from typing import Any

import pytest
from pydantic import ValidationError

from usage_pricing import (
    INT64_MAX,
    AppPricing,
    ImageMeta,
    OutputMeta,
    PlatformDefaults,
    PricingEvaluator,
    PricingInput,
    PricingPreview,
    Resource,
    TextMeta,
    cel_string_literal,
    description_source,
    validate_pricing,
)
from usage_pricing.edge.http import field_path
from usage_pricing.pricing.cel import CelEngine

from .celcases import TASK

SEED_TASK = PricingInput(
    output_meta=OutputMeta(outputs=[ImageMeta(width=1024, height=1024, count=2)]),
    resources=(Resource(name="gpu0", meter="llm/micro"),),
    elapsed_ms=600_000,
)
SEED_PRICING = AppPricing(
    prices={"per_image": 200_000},
    inference_expression="image_count(output_meta.outputs) * prices.per_image",
)


def fees(result: Any) -> list[int]:
    return [f.value for f in result.fees]


def test_seed_meter_example_plus_two_images(evaluator: PricingEvaluator) -> None:
    result = evaluator.price(SEED_PRICING, SEED_TASK)
    assert fees(result) == [5_232_498, 400_000, 0, 0, 5_632_498]
    assert PricingPreview.of(result).total.dollars == "0.05632498"
    assert result.errors == {}


def test_empty_pricing_charges_resources_and_platform_defaults(engine: CelEngine) -> None:
    evaluator = PricingEvaluator(
        engine, PlatformDefaults(inference_fee=11, royalty_fee=22, partner_fee=33)
    )
    assert fees(evaluator.price(AppPricing(), SEED_TASK)) == [5_232_498, 11, 22, 33, 5_232_564]


def test_whitespace_formula_means_default(evaluator: PricingEvaluator) -> None:
    pricing = AppPricing(resource_expression="  \n ", total_expression=" ")
    assert fees(evaluator.price(pricing, SEED_TASK)) == [5_232_498, 0, 0, 0, 5_232_498]


def test_every_formula_sees_the_earlier_fees(evaluator: PricingEvaluator) -> None:
    pricing = AppPricing(
        prices={"base": 1_000},
        resource_expression="prices.base",
        inference_expression="resource_fee * 2",
        royalty_expression="(resource_fee + inference_fee) / 10",
        partner_expression="royalty_fee + 1",
        total_expression="resource_fee + inference_fee + royalty_fee + partner_fee + 5",
    )
    assert fees(evaluator.price(pricing, SEED_TASK)) == [1_000, 2_000, 300, 301, 3_606]


def test_a_failing_formula_is_charged_zero_and_never_aborts_the_others(
    evaluator: PricingEvaluator,
) -> None:
    pricing = AppPricing(
        prices={"per_image": 200_000},
        inference_expression="prices.per_image / (image_count(outputs) - 2)",
        royalty_expression="inference_fee + 10",
    )
    result = evaluator.price(pricing, SEED_TASK)
    assert fees(result) == [5_232_498, 0, 10, 0, 5_232_508]
    assert set(result.errors) == {"inference_fee"}
    assert "divide by zero" in result.errors["inference_fee"]


def test_compile_errors_carry_their_position(evaluator: PricingEvaluator) -> None:
    result = evaluator.price(AppPricing(inference_expression="1 +\n  * 2"), SEED_TASK)
    error = result.inference_fee.error or ""
    assert error.startswith("2:3: ")


@pytest.mark.parametrize(
    ("formula", "value", "error"),
    [
        ("double(prices.per_image) * 0.0000025", 1, None),  # 0.5 rounds away from zero
        ("double(prices.per_image) * 0.0000075", 2, None),  # 1.5 → 2
        ("double(prices.per_image) / 3.0", 66_667, None),
        ("prices.per_image - 300000", 0, "a fee cannot be negative, got -100000"),
        ("-0.25", 0, "a fee cannot be negative, got -0.25"),
        ("'lots'", 0, "a fee must be a number, got string"),
        ("true", 0, "a fee must be a number, got bool"),
        ("null", 0, "a fee must be a number, got null"),
        ("1.0 / 0.0", 0, "a fee must be finite, got inf"),
        ("1e19", 0, "a fee must fit in int64, got 1e+19"),
    ],
)
def test_formula_results_become_fees_by_the_money_rules(
    evaluator: PricingEvaluator, formula: str, value: int, error: str | None
) -> None:
    result = evaluator.price(
        AppPricing(prices={"per_image": 200_000}, inference_expression=formula), SEED_TASK
    )
    assert result.inference_fee.value == value
    assert result.inference_fee.error == error


def test_default_total_that_overflows_is_an_error(evaluator: PricingEvaluator) -> None:
    pricing = AppPricing(
        prices={"max": INT64_MAX},
        inference_expression="prices.max",
        royalty_expression="prices.max",
    )
    result = evaluator.price(pricing, SEED_TASK)
    assert result.total.value == 0
    assert result.total.error == "the sum of the fees overflows int64"


def test_fast_path_equals_staged_path() -> None:
    from tests.conftest import engine_named

    evaluator = PricingEvaluator(engine_named("cel-expr"), PlatformDefaults(royalty_fee=3))
    pricings = [
        AppPricing(),
        SEED_PRICING,
        AppPricing(
            prices={"per_1k_tokens": 50_000, "per_image": 200_000, "per_second": 1_000},
            resource_expression="usage_seconds * prices.per_second",
            inference_expression="text_tokens(inputs) * prices.per_1k_tokens / 1000 + image_count(outputs) * prices.per_image",
            partner_expression="double(inference_fee) * 0.125",
            total_expression="resource_fee + inference_fee + royalty_fee + partner_fee // the sum\n",
        ),
        AppPricing(inference_expression="1 / 0"),  # falls back to the staged path
    ]
    for pricing in pricings:
        for task in (SEED_TASK, TASK):
            variables = task.cel_variables(pricing.prices)
            from usage_pricing import default_resource_fee

            defaults = [default_resource_fee(list(task.resources), task.usage_seconds), 0, 3, 0]
            staged = evaluator._price_staged(pricing.fee_sources(), variables, defaults)
            assert evaluator.price(pricing, task).fees == tuple(staged)


@pytest.mark.parametrize(
    ("description", "rendered"),
    [
        ("", ""),
        ("Flat fee per run", "Flat fee per run"),
        # The seed's example is not CEL-quoted, so it is plain text and renders verbatim.
        (
            "About to_dollars(prices.per_1k_tokens) per 1K output tokens plus to_dollars(prices.per_image) per image",
            "About to_dollars(prices.per_1k_tokens) per 1K output tokens plus to_dollars(prices.per_image) per image",
        ),
        ('"$" + to_dollars(prices.per_image) + " per image"', "$0.002 per image"),
        (
            'It\'s "quoted", \\ back\\slashed,\nmulti-line\tand \x01 odd',
            'It\'s "quoted", \\ back\\slashed,\nmulti-line\tand \x01 odd',
        ),
        ("Ünïcødé — 画像 🎨", "Ünïcødé — 画像 🎨"),
    ],
)
def test_description_rendering(
    evaluator: PricingEvaluator, description: str, rendered: str
) -> None:
    pricing = AppPricing(
        prices={"per_image": 200_000, "per_1k_tokens": 50_000}, description=description
    )
    result = evaluator.render_description(pricing)
    assert (result.value, result.error) == (rendered, None)


@pytest.mark.parametrize(
    "description", ['"a" + 1', '"" + string(usage_seconds)', '"x" + string(prices.nope)']
)
def test_description_errors_are_reported_not_raised(
    evaluator: PricingEvaluator, description: str
) -> None:
    result = evaluator.render_description(AppPricing(description=description))
    assert result.value == ""
    assert result.error


def test_description_must_be_a_string(evaluator: PricingEvaluator) -> None:
    result = evaluator.render_description(AppPricing(description='"x".size()'))
    assert (result.value, result.error) == ("", "description must evaluate to a string, got int")


def test_plain_text_is_stored_as_a_literal() -> None:
    assert description_source("Per image") == '"Per image"'
    assert description_source('"x" + "y"') == '"x" + "y"'
    assert cel_string_literal('a"b\\c\n') == '"a\\"b\\\\c\\n"'


def test_validation_reports_every_bad_formula_with_line_and_column() -> None:
    from tests.conftest import engine_named

    pricing = AppPricing(
        prices={"per_image": 1},
        resource_expression="resource_fee",
        inference_expression="prices.per_image *\n  1.5",
        total_expression="inference_fee + ",
        description='"a" + 1',
    )
    issues = {i.field: i.message for i in validate_pricing(pricing, engine_named("cel-expr"))}
    assert issues == {
        "resource_expression": "1:1: undeclared reference to 'resource_fee' (in container '')",
        "inference_expression": "1:18: found no matching overload for '_*_' applied to '(int, double)'",
        "total_expression": issues["total_expression"],
        "description": "1:5: found no matching overload for '_+_' applied to '(string, int)'",
    }
    assert issues["total_expression"].startswith("1:17: Syntax error")
    assert validate_pricing(SEED_PRICING, engine_named("cel-expr")) == []


def _pricing_rejection(payload: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as raised:
        AppPricing.model_validate(payload)
    return [(field_path(e["loc"]), e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"prices": {"per_image": -1}},
            "prices.per_image",
            "Input should be greater than or equal to 0",
        ),
        ({"prices": {"per_image": 1.5}}, "prices.per_image", "Input should be a valid integer"),
        ({"prices": {"per_image": "5"}}, "prices.per_image", "Input should be a valid integer"),
        (
            {"prices": {"per\nimage": 5}},
            "prices",
            "Value error, price name 'per\\nimage' must not contain control characters",
        ),
        (
            {"prices": {f"p{i}": 1 for i in range(201)}},
            "prices",
            "Dictionary should have at most 200 items after validation, not more",
        ),
        (
            {"inference_expression": "1+" * 2048 + "1"},
            "inference_expression",
            "Value error, is 4097 bytes; the limit is 4096 bytes",
        ),
        ({"inference_expresion": "1"}, "inference_expresion", "Extra inputs are not permitted"),
    ],
)
def test_bad_pricing_is_rejected_naming_the_field(
    payload: dict[str, Any], field: str, message: str
) -> None:
    assert _pricing_rejection(payload) == [(field, message)]


def test_limits_are_inclusive() -> None:
    AppPricing(prices={f"p{i}": 1 for i in range(200)}, inference_expression="1+" * 2047 + "11")
    assert len(("1+" * 2047 + "11").encode()) == 4096


def test_text_pricing_from_the_seed(evaluator: PricingEvaluator) -> None:
    pricing = AppPricing(
        prices={"per_1k_tokens": 50_000},
        inference_expression="text_tokens(output_meta.outputs) * prices.per_1k_tokens / 1000",
    )
    task = PricingInput(output_meta=OutputMeta(outputs=[TextMeta(tokens=2_500)]))
    assert fees(evaluator.price(pricing, task)) == [0, 125_000, 0, 0, 125_000]
