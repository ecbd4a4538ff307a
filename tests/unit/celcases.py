"""Shared task variables and the evaluation shim used by the helper and formula tables."""

from __future__ import annotations

from typing import Any

from usage_pricing import (
    AudioMeta,
    FormulaError,
    ImageMeta,
    OutputMeta,
    PricingInput,
    Resource,
    TextMeta,
    VideoMeta,
)
from usage_pricing.pricing.cel import CelEngine, Scope


class Err:
    """Expected: the formula fails (compile or evaluate) on every engine; message contains `part`."""

    def __init__(self, part: str = "") -> None:
        self.part = part

    def __repr__(self) -> str:
        return f"Err({self.part!r})"


TASK = PricingInput(
    output_meta=OutputMeta(
        inputs=[TextMeta(tokens=120), TextMeta(tokens=30)],
        outputs=[
            TextMeta(tokens=400),
            ImageMeta(
                width=1024,
                height=768,
                resolution_mp=0.79,
                steps=20,
                count=2,
                extra={"draft": True, "model": "sdxl"},
            ),
            ImageMeta(width=512, height=512, count=1),
            VideoMeta(width=1920, height=1080, resolution="1080p", seconds=5.5, fps=24),
            VideoMeta(width=1280, height=720, seconds=2.25),
            AudioMeta(seconds=30.0, sample_rate=44100),
        ],
    ),
    resources=(Resource(name="gpu0", model="A100", meter="llm/micro"),),
    elapsed_ms=45_250,
    task_inputs={"steps": 30, "quality": "hd", "nested": {"flag": True, "name": "x"}, "ratio": 1.5},
)
PRICES = {"per_image": 200_000, "per_1k_tokens": 50_000, "per_second": 1_000, "base": 7}
FEES = {"resource_fee": 5_000, "inference_fee": 1_000_000, "royalty_fee": 30, "partner_fee": 4}


def run(engine: CelEngine, source: str, scope: Scope = Scope.TOTAL) -> Any:
    """The formula's plain value, or a FormulaError instance (returned, not raised)."""
    try:
        program = engine.compile(source, scope)
        return engine.evaluate(program, scope, engine.bind(TASK.cel_variables(PRICES)), FEES)
    except FormulaError as error:
        return error


def matches(result: Any, expected: Any) -> bool:
    if isinstance(expected, Err):
        return isinstance(result, FormulaError) and expected.part in str(result)
    if isinstance(result, FormulaError):
        return False
    if isinstance(expected, float) or isinstance(result, float):
        return type(result) is type(expected) and result == expected
    return type(result) is type(expected) and result == expected
