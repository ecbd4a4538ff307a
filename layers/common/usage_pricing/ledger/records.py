"""The billing record: what one task cost, written once and never rewritten except to mark it
refunded; and what it was priced from, so anyone can price it again (docs/billing.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from usage_pricing.core.factories import empty_dict, empty_list
from usage_pricing.core.fees import COMPONENTS, FEES, charged_shares, component, declare_fields
from usage_pricing.usage.meters import METER_CATALOGUE, Resource

BillingStatus = Literal["charged", "not_charged", "needs_review"]
# The task cost's inference cost is the resource fee (meter price × inference time).
RESOURCE = component("resource")


class UsageEvent(BaseModel):
    """Resource-seconds of one resource row: usage_seconds × count, by tier, type and model."""

    model_config = ConfigDict(frozen=True)

    tier: str
    type: str
    model: str
    seconds: int


class BillingRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_id: str
    team_id: str
    app: str
    app_version: str = ""
    function: str = "run"
    status: Literal["completed", "failed", "cancelled"]
    billing_status: BillingStatus
    started_at: datetime
    completed_at: datetime
    billed_at: datetime
    elapsed_ms: int
    usage_seconds: int
    tier: str
    resources: list[Resource] = Field(default_factory=empty_list)
    # resource_fee … partner_fee: one int per fee (fees.FEES).
    declare_fields(vars(), int)
    total: int
    discount: int = 0
    discount_reason: str | None = None
    charged: int
    errors: dict[str, str] = Field(default_factory=empty_dict)
    pricing_version: int = Field(0, description="0: no pricing published, platform defaults")
    usage: list[UsageEvent] = Field(default_factory=empty_list)
    shard: int = 0
    refunded: bool = False
    refunded_at: datetime | None = None
    refund_reason: str | None = None
    fingerprint: str = Field(
        "", description="Digest of the event's billing content; empty on records before it."
    )
    aggregate_layout: int = Field(
        1,
        description="The aggregate layout its charge wrote (storage.aggregates): its refund "
        "reverses exactly that. 1 on records charged before the layout had fee and tier counters.",
    )
    priced_from: str = Field(
        "",
        description="The task's output_meta and task_inputs as priced, as canonical JSON "
        "(usage_pricing.ledger.charges); with resources, elapsed_ms, pricing_version and "
        "platform_fees "
        "all a re-pricing needs. Empty on records billed before records kept their inputs. "
        "Never part of a public response.",
    )
    platform_fees: dict[str, int] = Field(
        default_factory=empty_dict,
        description="The deployment's platform defaults in force when billed, by fee field, "
        "where not 0 (an empty formula charges them).",
    )
    meter_rates: dict[str, int] = Field(
        default_factory=empty_dict,
        description="The meter catalogue's rate (microcents per hour) of each meter the "
        "resources name, when billed (meters.meter_rates). Empty on records billed before "
        "records kept them: those use the current catalogue.",
    )

    def fee_values(self) -> dict[str, int]:
        """Each fee by name (fees.FEES), the total aside."""
        return {fee.name: getattr(self, fee.field) for fee in FEES}

    def shares(self) -> dict[str, int]:
        """The charged share of each fee group (fees.charged_shares), as the aggregates carry
        them: a discount scales every fee by charged / total (rounded down), so failed tasks
        (charged 0) have no share; whatever the fees do not explain is the adjustment. The
        groups always add up to charged. A repriced Charge has the same method."""
        return charged_shares(self.fee_values(), self.total, self.charged)

    def component_values(self) -> dict[str, int]:
        """Every component by field, the total last (fees.COMPONENTS)."""
        return {c.field: getattr(self, c.field) for c in COMPONENTS}

    @property
    def meter(self) -> str | None:
        return next((r.meter for r in self.resources if r.meter), None)

    @property
    def meter_price_per_hour(self) -> int | None:
        """The rate of the resource `meter` names, in microcents per hour; without a metered
        resource, the first resource's rate (per-second rates × 3600). Meter and price always
        describe the same row."""
        metered = next((r for r in self.resources if r.meter), None)
        row = metered or (self.resources[0] if self.resources else None)
        if row is None:
            return None
        if row.meter:
            return self.meter_rates.get(row.meter, METER_CATALOGUE.get(row.meter))
        if row.price_per_hour is not None:
            return row.price_per_hour
        return (row.price_per_second or 0) * 3600
