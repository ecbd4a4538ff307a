"""The billing record: what one task cost, written once and never rewritten except to mark it
refunded."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .meters import METER_CATALOGUE, Resource
from .pricing import Fee, FeeView

BillingStatus = Literal["charged", "not_charged", "needs_review"]


def utc_iso(moment: datetime) -> str:
    """A UTC timestamp as the API and the table show it: ISO 8601 with a Z."""
    return moment.isoformat().replace("+00:00", "Z")


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
    resources: list[Resource] = Field(default_factory=list)
    resource_fee: int
    inference_fee: int
    royalty_fee: int
    partner_fee: int
    total: int
    discount: int = 0
    discount_reason: str | None = None
    charged: int
    errors: dict[str, str] = Field(default_factory=dict)
    pricing_version: int = Field(0, description="0: no pricing published, platform defaults")
    usage: list[UsageEvent] = Field(default_factory=list)
    shard: int = 0
    refunded: bool = False
    refunded_at: datetime | None = None
    refund_reason: str | None = None
    fingerprint: str = Field(
        "", description="Digest of the event's billing content; empty on records before it."
    )

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
            return METER_CATALOGUE[row.meter]
        if row.price_per_hour is not None:
            return row.price_per_hour
        return (row.price_per_second or 0) * 3600


class TaskCost(BaseModel):
    """GET /usage/tasks/{taskID}/cost."""

    task_id: str
    app: str
    app_version: str
    status: str
    billing_status: str
    completed_at: str
    resource_fee: FeeView
    inference_fee: FeeView
    royalty_fee: FeeView
    partner_fee: FeeView
    total: FeeView
    discount: FeeView
    discount_reason: str | None = None
    charged: FeeView
    refunded: bool
    refunded_at: str | None = None
    refund_reason: str | None = None
    meter: str | None = Field(description="The first resource's inference meter, if it named one.")
    meter_price: FeeView | None = Field(description="The first resource's rate per hour.")
    inference_time: int = Field(description="Billed seconds: the elapsed time rounded up.")
    inference_cost: FeeView = Field(description="The resource fee: meter price × inference time.")
    errors: dict[str, str]
    pricing_version: int

    @classmethod
    def of(cls, record: BillingRecord) -> TaskCost:
        def fee(name: str, value: int) -> FeeView:
            return FeeView.of(Fee(value, record.errors.get(name)))

        price = record.meter_price_per_hour
        return cls(
            task_id=record.task_id,
            app=record.app,
            app_version=record.app_version,
            status=record.status,
            billing_status="refunded" if record.refunded else record.billing_status,
            completed_at=utc_iso(record.completed_at),
            resource_fee=fee("resource_fee", record.resource_fee),
            inference_fee=fee("inference_fee", record.inference_fee),
            royalty_fee=fee("royalty_fee", record.royalty_fee),
            partner_fee=fee("partner_fee", record.partner_fee),
            total=fee("total", record.total),
            discount=fee("discount", record.discount),
            discount_reason=record.discount_reason,
            charged=fee("charged", record.charged),
            refunded=record.refunded,
            refunded_at=None if record.refunded_at is None else utc_iso(record.refunded_at),
            refund_reason=record.refund_reason,
            meter=record.meter,
            meter_price=None if price is None else FeeView.of(Fee(price)),
            inference_time=record.usage_seconds,
            inference_cost=fee("resource_fee", record.resource_fee),
            errors=record.errors,
            pricing_version=record.pricing_version,
        )
