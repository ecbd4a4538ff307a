"""usage-pricing: output metadata, integer money, CEL pricing, storage.

App code imports the metadata models from here:
    from usage_pricing import BaseAppOutput, OutputMeta, TextMeta, ImageMeta

The names are loaded on first use (PEP 562 `__getattr__`), so a handler pays only for the
submodules it uses: the evaluate function never imports storage, the breakdown function never
imports the CEL engines (docs/operations.md, cold start). `_LAZY` maps each submodule to the names
it
exports; tests/unit/test_cold_import.py keeps it equal to `__all__`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from usage_pricing.core.errors import (
        ConflictError,
        FieldIssue,
        ForbiddenError,
        FormulaError,
        InvalidRequestError,
        NotFoundError,
        PayloadTooLargeError,
        StorageError,
        UnauthorizedError,
        UsagePricingError,
    )
    from usage_pricing.core.money import (
        INT64_MAX,
        MICROCENTS_PER_CENT,
        MICROCENTS_PER_DOLLAR,
        FeeValueError,
        fee_from_result,
        round_half_away,
        to_cents,
        to_dollars,
    )
    from usage_pricing.core.scopes import Caller, has_scope, scope_grants
    from usage_pricing.core.views import Description, DescriptionView, Fee, FeeView
    from usage_pricing.pricing.cel import CelEngine, Scope, new_engine
    from usage_pricing.pricing.evaluator import PricingEvaluator, PricingInput, PricingResult
    from usage_pricing.pricing.model import (
        AppPricing,
        PlatformDefaults,
        cel_string_literal,
        description_source,
        validate_pricing,
    )
    from usage_pricing.pricing.preview import EvaluateRequest, PricingPreview
    from usage_pricing.runtime.config import Settings
    from usage_pricing.usage.meta import (
        AudioMeta,
        BaseAppOutput,
        ImageMeta,
        MetaItem,
        OutputMeta,
        RawMeta,
        TextMeta,
        VideoMeta,
    )
    from usage_pricing.usage.meters import (
        METER_CATALOGUE,
        Resource,
        default_resource_fee,
        usage_seconds_from_ms,
    )

__all__ = [
    "INT64_MAX",
    "METER_CATALOGUE",
    "MICROCENTS_PER_CENT",
    "MICROCENTS_PER_DOLLAR",
    "AppPricing",
    "AudioMeta",
    "BaseAppOutput",
    "Caller",
    "CelEngine",
    "ConflictError",
    "Description",
    "DescriptionView",
    "EvaluateRequest",
    "Fee",
    "FeeValueError",
    "FeeView",
    "FieldIssue",
    "ForbiddenError",
    "FormulaError",
    "ImageMeta",
    "InvalidRequestError",
    "MetaItem",
    "NotFoundError",
    "OutputMeta",
    "PayloadTooLargeError",
    "PlatformDefaults",
    "PricingEvaluator",
    "PricingInput",
    "PricingPreview",
    "PricingResult",
    "RawMeta",
    "Resource",
    "Scope",
    "Settings",
    "StorageError",
    "TextMeta",
    "UnauthorizedError",
    "UsagePricingError",
    "VideoMeta",
    "cel_string_literal",
    "default_resource_fee",
    "description_source",
    "fee_from_result",
    "has_scope",
    "new_engine",
    "round_half_away",
    "scope_grants",
    "to_cents",
    "to_dollars",
    "usage_seconds_from_ms",
    "validate_pricing",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "pricing.cel": ("CelEngine", "Scope", "new_engine"),
    "runtime.config": ("Settings",),
    "core.errors": (
        "ConflictError",
        "FieldIssue",
        "ForbiddenError",
        "FormulaError",
        "InvalidRequestError",
        "NotFoundError",
        "PayloadTooLargeError",
        "StorageError",
        "UnauthorizedError",
        "UsagePricingError",
    ),
    "usage.meta": (
        "AudioMeta",
        "BaseAppOutput",
        "ImageMeta",
        "MetaItem",
        "OutputMeta",
        "RawMeta",
        "TextMeta",
        "VideoMeta",
    ),
    "usage.meters": (
        "METER_CATALOGUE",
        "Resource",
        "default_resource_fee",
        "usage_seconds_from_ms",
    ),
    "core.money": (
        "INT64_MAX",
        "MICROCENTS_PER_CENT",
        "MICROCENTS_PER_DOLLAR",
        "FeeValueError",
        "fee_from_result",
        "round_half_away",
        "to_cents",
        "to_dollars",
    ),
    "pricing.evaluator": ("PricingEvaluator", "PricingInput", "PricingResult"),
    "pricing.model": (
        "AppPricing",
        "PlatformDefaults",
        "cel_string_literal",
        "description_source",
        "validate_pricing",
    ),
    "pricing.preview": ("EvaluateRequest", "PricingPreview"),
    "core.scopes": ("Caller", "has_scope", "scope_grants"),
    "core.views": ("Description", "DescriptionView", "Fee", "FeeView"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
