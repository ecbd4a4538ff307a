"""The evaluate function's request and answer (POST /usage/cel/evaluate, docs/api.md): draft pricing
priced against sample usage. Apart from pricing so that the functions which price without
previewing (billing, the pricing store) never build these models (docs/operations.md: nothing on a
handler's import path is there only for another handler)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from usage_pricing.core.factories import empty_dict, empty_list
from usage_pricing.core.fees import COMPONENTS, declare_fields
from usage_pricing.core.jsonsafe import JsonObject
from usage_pricing.core.limits import MAX_RESOURCES
from usage_pricing.core.views import DescriptionView, FeeView
from usage_pricing.pricing.evaluator import PricingInput, PricingResult
from usage_pricing.pricing.model import AppPricing
from usage_pricing.usage.meta import OutputMeta
from usage_pricing.usage.meters import Resource


class EvaluateRequest(BaseModel):
    """POST /usage/cel/evaluate: preview draft pricing against sample usage."""

    model_config = ConfigDict(extra="forbid")

    pricing: AppPricing
    output_meta: OutputMeta = Field(default_factory=OutputMeta)
    resources: Annotated[list[Resource], Field(max_length=MAX_RESOURCES)] = Field(
        default_factory=empty_list
    )
    usage_seconds: Annotated[int, Field(ge=0, le=10**9, strict=True)] = 0
    task_inputs: JsonObject = Field(default_factory=empty_dict)

    def pricing_input(self) -> PricingInput:
        return PricingInput(
            output_meta=self.output_meta,
            resources=tuple(self.resources),
            elapsed_ms=self.usage_seconds * 1000,
            task_inputs=self.task_inputs,
        )


class PricingPreview(BaseModel):
    """POST /usage/cel/evaluate response: every component with its dollars and error."""

    declare_fields(vars(), FeeView, components=COMPONENTS)
    description: DescriptionView

    @classmethod
    def of(cls, result: PricingResult) -> PricingPreview:
        return cls(
            **{c.field: FeeView.of(fee) for c, fee in zip(COMPONENTS, result.fees, strict=True)},
            description=DescriptionView(
                value=result.description.value, error=result.description.error
            ),
        )


__all__ = ["EvaluateRequest", "PricingPreview"]
