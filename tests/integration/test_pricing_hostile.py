"""Hostile input against the pricing store and the evaluator: price names per
docs/pricing.md, descriptions that look like CEL, and the description limit on the text sent."""

from __future__ import annotations

import pytest

from tests.conftest import AwsWorld
from usage_pricing import AppPricing, OutputMeta, PricingEvaluator, PricingInput, new_engine

from .billing_helpers import Billing


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


@pytest.mark.parametrize("engine", ["cel-expr", "cel-python"])
def test_given_the_seed_idiom_prices_by_resolution_then_both_engines_price_it(engine: str) -> None:
    pricing = AppPricing(
        prices={"480p": 1, "720p": 5, "1080p": 9},
        inference_expression="prices[resolution(first(outputs, 'video').width, 720)]",
    )
    task = PricingInput(output_meta=OutputMeta.model_validate(
        {"outputs": [{"type": "video", "width": 1280, "height": 720}]}
    ))  # fmt: skip
    result = PricingEvaluator(new_engine(engine)).price(pricing, task)
    assert result.inference_fee.value == 5
    assert result.errors == {}


def test_given_a_seed_style_price_name_when_saved_then_it_is_accepted(world: Billing) -> None:
    status, body = world.patch(
        "team_a/vid",
        {"prices": {"720p": 5}, "inference_expression": "prices[resolution(1280, 720)]"},
    )
    assert status == 200
    assert body["draft"]["pricing"]["prices"] == {"720p": 5}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "price name '' must be 1 to 64 characters"),
        ("x" * 65, "must be 1 to 64 characters"),
        ("tab\there", "price name 'tab\\there' must not contain control characters"),
        # Refused at the JSON edge, before the model: the key holds a NUL (jsonsafe).
        ("nul\x00", "string holds a NUL character (\\u0000), which pricing cannot carry"),
    ],
    ids=["empty", "65 characters", "tab", "nul"],
)
def test_given_a_bad_price_name_when_saved_then_400_names_the_field(
    world: Billing, name: str, message: str
) -> None:
    status, body = world.patch("team_a/vid", {"prices": {name: 5}})
    assert status == 400
    assert body["title"] == "Invalid request"
    assert any(message in e["message"] for e in body["errors"])
    assert all(e["field"].startswith("prices") for e in body["errors"])


def test_given_a_3920_byte_description_with_quotes_then_it_is_saved_verbatim(
    world: Billing,
) -> None:
    text = ('He said "ok" ' * 302)[:3920]
    assert len(text.encode()) == 3920

    status, body = world.patch("team_a/vid", {"description": text})

    assert status == 200
    assert body["draft"]["pricing"]["description_rendered"] == text
    assert body["warnings"] == []


def test_given_a_description_over_4kb_then_it_is_refused_on_the_text_sent(world: Billing) -> None:
    status, body = world.patch("team_a/vid", {"description": "x" * 4097})
    assert status == 400
    assert body["errors"][0]["field"] == "description"
    assert "is 4097 bytes; the limit is 4096 bytes" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "text", ["About to_dollars(prices.per_1k) per 1K", "Costs prices.per_image each"]
)
def test_given_plain_text_that_looks_like_cel_then_it_is_verbatim_with_a_warning(
    world: Billing, text: str
) -> None:
    status, body = world.patch("team_a/vid", {"prices": {"per_1k": 5}, "description": text})
    assert status == 200
    assert body["draft"]["pricing"]["description_rendered"] == text
    assert body["warnings"] == [
        {
            "field": "description",
            "message": 'the description is plain text and is shown verbatim; start it with " to'
            " evaluate it as a CEL string expression",
        }
    ]
