"""The AppPricing model (docs/pricing.md): named prices, one CEL formula per fee component and a
description, with every rule a saved pricing must meet (formula sizes, price names, the
description's limits and warnings) and the compile check that shows authors line/column errors
before they publish. Evaluating it is usage_pricing.pricing.evaluator."""

from __future__ import annotations

import operator
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from usage_pricing.core.errors import FieldIssue, FormulaError
from usage_pricing.core.factories import empty_dict
from usage_pricing.core.fees import (
    COMPONENTS,
    PLATFORM_FEES,
    FeeComponent,
    declare_fields,
)
from usage_pricing.core.limits import (
    CONTROL_CHARACTERS,
    MAX_FORMULA_BYTES,
    MAX_PRICE_NAME,
    MAX_PRICES,
)
from usage_pricing.core.money import INT64_MAX
from usage_pricing.pricing.cel import FEE_SCOPES, CelEngine, Scope
from usage_pricing.pricing.cel.guard import max_source_bytes

# docs/pricing.md: a price name is 1–64 characters without control characters. Identifier names
# read as
# prices.per_image, any name as prices["720p"], so prices[resolution(w, h)] works as the seed
# intends.
# A plain-text description that mentions a helper call or a price reads like a formula that was
# meant to be evaluated: it is still stored verbatim, with a warning.
_LOOKS_LIKE_CEL = re.compile(r"\bprices\.|\b[a-z_][a-z0-9_]*\(")


def _within_formula_limit(source: str) -> str:
    size = len(source.encode("utf-8"))
    if size > MAX_FORMULA_BYTES:
        raise ValueError(f"is {size} bytes; the limit is {MAX_FORMULA_BYTES} bytes")
    return source


def _price_names(prices: dict[str, int]) -> dict[str, int]:
    for name in prices:
        if not 1 <= len(name) <= MAX_PRICE_NAME:
            raise ValueError(f"price name {name[:80]!r} must be 1 to {MAX_PRICE_NAME} characters")
        if CONTROL_CHARACTERS.search(name):
            raise ValueError(f"price name {name!r} must not contain control characters")
    return prices


def _description_limit(source: str) -> str:
    """The limit applies to the text the author sent: plain text up to 4 KB, or the CEL literal
    the store saves it as (which escaping can make up to 6× longer)."""
    limit = max_source_bytes("description") if source.startswith('"') else MAX_FORMULA_BYTES
    size = len(source.encode("utf-8"))
    if size > limit:
        raise ValueError(f"is {size} bytes; the limit is {limit} bytes")
    return source


def description_warnings(description: str) -> list[str]:
    """Advice for a plain-text description that looks like it was meant as CEL."""
    if description and not description.startswith('"') and _LOOKS_LIKE_CEL.search(description):
        return [
            'the description is plain text and is shown verbatim; start it with " to evaluate'
            " it as a CEL string expression"
        ]
    return []


Formula = Annotated[str, AfterValidator(_within_formula_limit)]
# Every component's formula field at once (one C call per task, not one getattr per component).
_FORMULAS = operator.attrgetter(*(component.expression for component in COMPONENTS))
Microcents = Annotated[int, Field(ge=0, le=INT64_MAX, strict=True)]


class AppPricing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prices: Annotated[
        dict[str, Microcents], Field(max_length=MAX_PRICES), AfterValidator(_price_names)
    ] = Field(
        default_factory=empty_dict, description="Named prices in microcents, read as prices.<name>."
    )
    upstream_pricing: Annotated[str, Field(max_length=MAX_FORMULA_BYTES)] = ""
    # resource_expression … total_expression: one CEL formula per fee component (fees.COMPONENTS).
    declare_fields(vars(), Formula, "", components=COMPONENTS, attribute=lambda c: c.expression)
    description: Annotated[str, AfterValidator(_description_limit)] = ""
    description_rendered: str | None = Field(
        default=None, description="Read-only: set when the pricing is saved."
    )

    def fee_sources(self) -> list[str | None]:
        """Every component's formula in evaluation order; None where empty (the default
        applies)."""
        sources: tuple[str, ...] = _FORMULAS(self)
        return [source if source.strip() else None for source in sources]


class PlatformDefaults(BaseModel):
    """Fees charged when a formula is empty; configurable per deployment, shipped as 0. One
    field per component with a platform default (inference_fee, royalty_fee, partner_fee)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    declare_fields(vars(), Microcents, 0, components=PLATFORM_FEES)

    def value(self, component: FeeComponent) -> int:
        fee: int = getattr(self, component.field)
        return fee

    def nonzero(self) -> dict[str, int]:
        """The defaults that are not 0, by field: what a billing record keeps of them."""
        values = {fee.field: self.value(fee) for fee in PLATFORM_FEES}
        return {name: value for name, value in values.items() if value}


def cel_string_literal(text: str) -> str:
    """Quote plain text as a CEL string literal that evaluates back to exactly `text`."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def description_source(description: str) -> str:
    """Plain text (not starting with a double quote) is wrapped as a literal so it renders
    verbatim; otherwise it is a CEL string expression over prices."""
    if not description or description.startswith('"'):
        return description
    return cel_string_literal(description)


def validate_pricing(pricing: AppPricing, checker: CelEngine) -> list[FieldIssue]:
    """Compile and type-check every formula as it will run, so authors see line/column errors
    before publishing. `checker` should be the type-checking engine (cel-expr)."""
    issues = []
    for component, scope, source in zip(COMPONENTS, FEE_SCOPES, pricing.fee_sources(), strict=True):
        if source is None:
            continue
        try:
            checker.compile(source, scope)
        except FormulaError as failure:
            issues.append(FieldIssue(component.expression, str(failure)))
    source = description_source(pricing.description)
    if source:
        try:
            checker.compile(source, Scope.DESCRIPTION)
        except FormulaError as failure:
            issues.append(FieldIssue("description", str(failure)))
    return issues


__all__ = [
    "AppPricing",
    "PlatformDefaults",
    "cel_string_literal",
    "description_source",
    "description_warnings",
    "validate_pricing",
]
