"""The task the billing, analytics and load benchmarks bill: the README's example run (llm/micro for
600 s, two 1024×1024 images, 120 input tokens) under the README's example pricing, which both
come from events/evaluate.json so the benchmarks price exactly what the docs show."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from usage_pricing import AppPricing
from usage_pricing.pricing.repository import PricingRecordVersion

ROOT = Path(__file__).resolve().parents[1]
EVALUATE_BODY: dict[str, Any] = json.loads(
    json.loads((ROOT / "events" / "evaluate.json").read_text())["body"]
)
# A published pricing with an inference formula and a CEL description.
PRICING = AppPricing.model_validate(EVALUATE_BODY["pricing"])
ELAPSED_MS = EVALUATE_BODY["usage_seconds"] * 1000


def task_completed(task_id: str, team: str, app: str, completed_at: datetime) -> dict[str, Any]:
    """An EventBridge "Task Completed" event (docs/billing.md) as the billing queue delivers it."""
    return {
        "version": "0",
        "id": f"evt-{task_id}",
        "detail-type": "Task Completed",
        "source": "inference.tasks",
        "account": "123456789012",
        "time": completed_at.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "task_id": task_id,
            "team_id": team,
            "app": app,
            "app_version": "1.0.0",
            "function": "run",
            "status": "completed",
            "started_at": (completed_at - timedelta(milliseconds=ELAPSED_MS)).isoformat(),
            "completed_at": completed_at.isoformat(),
            "elapsed_ms": ELAPSED_MS,
            "tier": "cloud",
            "resources": EVALUATE_BODY["resources"],
            "task_inputs": EVALUATE_BODY["task_inputs"],
            "output_meta": EVALUATE_BODY["output_meta"],
        },
    }


class PublishedPricing:
    """The pricing table, answered from memory: every app has PRICING live as version 1. Stands
    in for PricingRepository where the benchmark is about billing, not about reading pricing."""

    def live_at(self, app: str, moment: datetime) -> PricingRecordVersion:
        return PricingRecordVersion(PRICING, 1, "2026-01-01T00:00:00.000000Z")
