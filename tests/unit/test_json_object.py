"""jsonsafe.JsonObject (meta items' `extra`, `task_inputs`) holds a field to JSON values "as
pydantic's JsonValue did". JsonValue validated into fresh plain containers and plain types; these
pin the two properties pricing relied on: what was validated is what is priced, and a value
accepted in Python is one both engines can price."""

from __future__ import annotations

from enum import StrEnum

import pytest

from usage_pricing import (
    EvaluateRequest,
    Fee,
    ImageMeta,
    OutputMeta,
    PricingEvaluator,
    new_engine,
)


def test_given_a_reused_extra_dict_when_changed_after_validation_then_the_item_keeps_its_value() -> (
    None
):
    factors = {"multiplier": 1}
    first = ImageMeta(extra={"factors": factors})

    # The app reuses its dict for the next item.
    factors["multiplier"] = 3
    second = ImageMeta(extra={"factors": factors})

    assert first.extra == {"factors": {"multiplier": 1}}
    assert second.extra == {"factors": {"multiplier": 3}}


def test_given_a_reused_extra_dict_when_the_first_item_is_priced_then_it_pays_its_own_rate() -> (
    None
):
    factors = {"multiplier": 1}
    first = ImageMeta(extra={"factors": factors})
    factors["multiplier"] = 3
    request = EvaluateRequest(
        pricing={"inference_expression": "outputs[0].extra.factors.multiplier * 100"},
        output_meta=OutputMeta(outputs=[first, ImageMeta(extra={"factors": factors})]),
    )

    result = PricingEvaluator(new_engine("cel-expr")).price(
        request.pricing, request.pricing_input()
    )

    assert result.inference_fee == Fee(100)


def test_given_a_task_inputs_list_when_appended_to_after_validation_then_the_request_keeps_it() -> (
    None
):
    sizes = [1024]
    request = EvaluateRequest(pricing={}, task_inputs={"sizes": sizes})

    sizes.append(4096)

    assert request.task_inputs == {"sizes": [1024]}


class Quality(StrEnum):
    HD = "hd"


class Ratio(float):
    pass


@pytest.mark.parametrize(
    ("value", "formula", "fee"),
    [
        (Quality.HD, 'task_inputs.v == "hd" ? 500 : 1', 500),
        (Ratio(2.5), "int(task_inputs.v * 100.0)", 250),
    ],
    ids=["StrEnum", "float subclass"],
)
def test_given_a_str_or_float_subclass_in_task_inputs_when_cel_expr_prices_it_then_as_plain(
    value: object, formula: str, fee: int
) -> None:
    request = EvaluateRequest(pricing={"inference_expression": formula}, task_inputs={"v": value})

    result = PricingEvaluator(new_engine("cel-expr")).price(
        request.pricing, request.pricing_input()
    )

    assert result.errors == {}
    assert result.inference_fee == Fee(fee)
