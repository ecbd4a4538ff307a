"""usage-pricing: output metadata, integer money, CEL pricing, storage.

App code imports the metadata models from here:
    from usage_pricing import BaseAppOutput, OutputMeta, TextMeta, ImageMeta
"""

from .cel import CelEngine, Scope, new_engine
from .config import Settings
from .errors import (
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
from .meta import (
    AudioMeta,
    BaseAppOutput,
    ImageMeta,
    MetaItem,
    OutputMeta,
    RawMeta,
    TextMeta,
    VideoMeta,
)
from .meters import METER_CATALOGUE, Resource, default_resource_fee, usage_seconds_from_ms
from .money import (
    INT64_MAX,
    MICROCENTS_PER_CENT,
    MICROCENTS_PER_DOLLAR,
    FeeValueError,
    fee_from_result,
    round_half_away,
    to_cents,
    to_dollars,
)
from .pricing import (
    AppPricing,
    DescriptionResult,
    EvaluateRequest,
    FeeResult,
    PlatformDefaults,
    PricingEvaluator,
    PricingInput,
    PricingResult,
    cel_string_literal,
    description_source,
    validate_pricing,
)
from .scopes import Caller, has_scope, scope_grants

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
    "DescriptionResult",
    "EvaluateRequest",
    "FeeResult",
    "FeeValueError",
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
