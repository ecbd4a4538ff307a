"""A billing record for tests, every field given, any of them changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from usage_pricing.ledger.records import BillingRecord, UsageEvent
from usage_pricing.storage.aggregates import (
    LAYOUT,
)

MOMENT = datetime(2026, 11, 22, 8, 47, 31, 250_000, tzinfo=UTC)


def record(**changes: Any) -> BillingRecord:
    fields: dict[str, Any] = {
        "task_id": "t1",
        "team_id": "team_a",
        "app": "team_a/flux.v2",
        "status": "completed",
        "billing_status": "charged",
        "started_at": MOMENT,
        "completed_at": MOMENT,
        "billed_at": MOMENT,
        "elapsed_ms": 600_000,
        "usage_seconds": 600,
        "tier": "cloud",
        "resource_fee": 5_232_498,
        "inference_fee": 400_000,
        "royalty_fee": 0,
        "partner_fee": 0,
        "total": 5_632_498,
        "charged": 5_632_498,
        "usage": [UsageEvent(tier="cloud", type="gpu", model="llm-micro", seconds=600)],
        "shard": 2,
        "aggregate_layout": LAYOUT,
    }
    return BillingRecord(**{**fields, **changes})
