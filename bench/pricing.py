"""Pricing benchmarks: one task priced per engine, compile time per formula, list sizes."""

from __future__ import annotations

from typing import Any

from usage_pricing import (
    AppPricing,
    ImageMeta,
    OutputMeta,
    PricingEvaluator,
    PricingInput,
    Resource,
    TextMeta,
    new_engine,
)
from usage_pricing.pricing.cel import FEE_SCOPES

from .common import sample, summary

# A realistic store app: all five formulas and a CEL description.
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
    description='"$" + to_dollars(prices.per_1k_output) + " per 1K output tokens"',
)


def task(outputs: int) -> PricingInput:
    items: list[Any] = [TextMeta(tokens=400)]
    items += [ImageMeta(width=1024, height=1024, resolution_mp=1.05, steps=20, count=1)] * (
        outputs - 1
    )
    return PricingInput(
        output_meta=OutputMeta(inputs=[TextMeta(tokens=1_200)], outputs=items),
        resources=(Resource(name="gpu0", model="A100", meter="llm/micro"),),
        elapsed_ms=12_345,
        task_inputs={"steps": 20, "quality": "hd"},
    )


def price_one_task(engine_name: str, outputs: int, runs: int) -> dict[str, float]:
    evaluator = PricingEvaluator(new_engine(engine_name))
    one = task(outputs)
    result = evaluator.price(PRICING, one)
    assert not result.errors, result.errors
    return summary(sample(lambda: evaluator.price(PRICING, one), runs=runs, warmup=min(runs, 200)))


def compile_times(engine_name: str, runs: int) -> dict[str, dict[str, float]]:
    engine = new_engine(engine_name)
    compile_uncached = engine._compile  # type: ignore[attr-defined]
    figures = {}
    for scope, source in zip(FEE_SCOPES, PRICING.fee_sources(), strict=True):
        assert source is not None
        figures[scope.value] = summary(
            sample(lambda s=source, sc=scope: compile_uncached(s, sc), runs=runs, warmup=5)
        )
    return figures
