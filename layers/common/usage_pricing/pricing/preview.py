"""The evaluate function's request and answer (POST /usage/cel/evaluate, docs/api.md): draft pricing
priced against sample usage; and the quote's (POST /apps/{namespace}/{name}/pricing/quote), the
same body without `pricing` priced with a published version, the same answer plus that version.
Apart from pricing so that billing, which prices without previewing, never builds these models
(docs/operations.md: nothing on a handler's import path is there only for another handler); the
pricing function imports them for its quote route."""

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


class TaskSample(BaseModel):
    """A hypothetical task's usage, as the formulas see it: the quote's body, and the evaluate
    body without its `pricing`. One definition, so a sample the evaluate route prices is priced
    the same way by a quote."""

    model_config = ConfigDict(extra="forbid")

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


class EvaluateRequest(TaskSample):
    """POST /usage/cel/evaluate: preview draft pricing against sample usage."""

    pricing: AppPricing


class QuoteRequest(TaskSample):
    """POST /apps/{namespace}/{name}/pricing/quote: price a sample with a published version.
    There is no `pricing` field (extra fields are refused): a quote prices only what is published,
    never the caller's own formulas or the owner's draft."""

    at: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="RFC 3339 date-time with an offset: quote the version live then (a task "
        "completing then is billed with it). Default now.",
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


class Quote(PricingPreview):
    """POST …/pricing/quote response: the evaluate answer, the version that priced it, and
    until when that version is live."""

    pricing_version: int = Field(description="The published version that priced the sample.")
    valid_until: str | None = Field(
        description="When the next published version takes effect (RFC 3339, UTC), after which "
        "the same sample may be priced differently; null when none is scheduled after `at`."
    )


__all__ = ["EvaluateRequest", "PricingPreview", "Quote", "QuoteRequest", "TaskSample"]
