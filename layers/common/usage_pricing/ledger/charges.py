"""What a priced task is charged, and pricing a billed record again (docs/billing.md: reproducible
charges). Billing, the backtest and the audit share these rules, so a record re-priced with its
own pricing version gives back exactly the microcents it was charged.

A record keeps what it was priced from: its resources, elapsed_ms, pricing_version and
platform_fees as fields, and its output_meta and task_inputs as `priced_from`, the canonical JSON
below (compressed by the ledger when large)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from usage_pricing.core.fees import FEES, charged_shares
from usage_pricing.ledger.records import BillingRecord, BillingStatus
from usage_pricing.pricing.evaluator import PricingEvaluator, PricingInput, PricingResult
from usage_pricing.pricing.model import AppPricing, PlatformDefaults
from usage_pricing.usage.meta import OutputMeta
from usage_pricing.usage.meters import METER_CATALOGUE, at_rates

TASK_FAILED = "task_failed"


# A NamedTuple, not a dataclass: a dataclass's generated methods are exec'd at every cold start.
class Charge(NamedTuple):
    """The charge of one priced task: a failed or cancelled task is discounted in full; a
    formula error (that fee charged 0) needs review."""

    result: PricingResult
    status: Literal["completed", "failed", "cancelled"]

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def total(self) -> int:
        return self.result.total.value

    @property
    def discount(self) -> int:
        return 0 if self.completed else self.total

    @property
    def discount_reason(self) -> str | None:
        return None if self.completed else TASK_FAILED

    @property
    def charged(self) -> int:
        return self.total if self.completed else 0

    @property
    def errors(self) -> dict[str, str]:
        """Formula errors by component field; the description's is not the charge's."""
        return {name: error for name, error in self.result.errors.items() if name != "description"}

    @property
    def billing_status(self) -> BillingStatus:
        if self.errors:
            return "needs_review"
        return "charged" if self.completed else "not_charged"

    def fee_values(self) -> dict[str, int]:
        """Each fee by name (fees.FEES), the total aside."""
        return {fee.name: self.result.fee(fee).value for fee in FEES}

    def shares(self) -> dict[str, int]:
        """The charged share of each fee group (fees.FEE_GROUPS)."""
        return charged_shares(self.fee_values(), self.total, self.charged)


# ---- what a record was priced from --------------------------------------------------------------


def _compact_item(item: Any) -> dict[str, Any]:
    """A metadata item's fields, leaving out those equal to their default (compared as JSON
    text, so -0.0 is kept where the default is 0.0): validating it again gives the same item."""
    data: dict[str, Any] = item.model_dump(mode="json")
    defaults = type(item).model_fields
    out = {"type": data["type"]}
    for name, value in data.items():
        if name == "type":
            continue
        field = defaults[name]
        default = field.get_default(call_default_factory=True)
        if _json(value) != _json(default):
            out[name] = value
    return out


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_inputs(output_meta: OutputMeta, task_inputs: Mapping[str, Any]) -> str:
    """The canonical JSON of what a task was priced from besides its resources and time."""
    meta: dict[str, Any] = {}
    for side in ("inputs", "outputs"):
        items = getattr(output_meta, side)
        if items:
            meta[side] = [_compact_item(item) for item in items]
    document: dict[str, Any] = {"output_meta": meta, "task_inputs": dict(task_inputs)}
    return _json(document)


class NotReproducibleError(ValueError):
    """A record billed before records kept their inputs: it cannot be priced again."""


def pricing_input(record: BillingRecord) -> PricingInput:
    """The usage a record was priced from, exactly as billing priced it."""
    if not record.priced_from:
        raise NotReproducibleError(
            f"task {record.task_id} was billed before records kept their inputs"
        )
    retired = sorted(
        r.meter
        for r in record.resources
        if r.meter is not None
        and r.meter not in record.meter_rates
        and r.meter not in METER_CATALOGUE
    )
    if retired:
        raise NotReproducibleError(
            f"task {record.task_id} names meter(s) no longer in the catalogue"
            f" ({', '.join(retired)}) and was billed before records kept their rates"
        )
    document = json.loads(record.priced_from)
    return PricingInput(
        output_meta=OutputMeta.model_validate(document["output_meta"]),
        resources=tuple(at_rates(record.resources, record.meter_rates)),
        elapsed_ms=record.elapsed_ms,
        task_inputs=document["task_inputs"],
    )


def platform_defaults(record: BillingRecord) -> PlatformDefaults:
    """The platform defaults in force when the record was billed."""
    return PlatformDefaults.model_validate(record.platform_fees)


def reprice(
    record: BillingRecord,
    pricing: AppPricing,
    evaluator: PricingEvaluator,
    platform: PlatformDefaults | None = None,
) -> Charge:
    """The record's task priced again with `pricing`: with its own pricing version (and the
    platform defaults it was billed with, the default here) that is exactly its charge."""
    usage = pricing_input(record)
    result = evaluator.price(pricing, usage, platform or platform_defaults(record))
    return Charge(result, record.status)


__all__ = [
    "TASK_FAILED",
    "Charge",
    "NotReproducibleError",
    "canonical_inputs",
    "platform_defaults",
    "pricing_input",
    "reprice",
]
