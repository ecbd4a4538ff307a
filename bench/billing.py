"""Billing CPU per event, excluding DynamoDB latency.

What the billing function spends on one SQS message besides waiting for DynamoDB: json.loads and
pydantic validation of the EventBridge envelope (TaskEventEnvelope.parse), pricing
(BillingService.price_task: the pricing lookup answered from memory, the CEL formulas evaluated
for real) and building the ledger's transaction (LedgerRepository.charge, with a client whose
transact_write_items records the TransactItems and returns at once). Measured as process CPU
time per event, so the numbers do not move with what else the machine is running; target
≤ 0.5 ms per event."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from usage_pricing import PricingEvaluator, new_engine
from usage_pricing.ledger.billing import BillingConsumer, BillingService
from usage_pricing.ledger.repository import LedgerRepository
from usage_pricing.usage.events import TaskEventEnvelope

from .capacity import item_size, transactional_write_units
from .common import summary
from .workload import PublishedPricing, task_completed

TEAM = "team_bench"
APP = "team_bench/flux-dev"
ENGINE = "cel-expr"  # the deployment default (Settings.cel_engine)
WARMUP_EVENTS = 200


class RecordingClient:
    """Stands in for the DynamoDB client: keeps the last transaction and answers at once."""

    def __init__(self) -> None:
        self.last: list[dict[str, Any]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 — boto3's name
        self.last = TransactItems
        return {}


class NoDeadLetters:
    def send(self, body: str, reason: str, message_id: str) -> None:
        raise AssertionError(f"benchmark event dead-lettered: {reason}")


def _table(name: str, client: RecordingClient) -> Any:
    return SimpleNamespace(name=name, meta=SimpleNamespace(client=client))


def written_items(transaction: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item as it stands after the transaction: the Put's item; for an Update, its key plus
    every attribute it SETs or ADDs (the ledger pairs #name with :name)."""
    items = []
    for entry in transaction:
        ((kind, request),) = entry.items()
        if kind == "Put":
            items.append(request["Item"])
            continue
        values = request["ExpressionAttributeValues"]
        after = dict(request["Key"])
        for token, name in request["ExpressionAttributeNames"].items():
            after[name] = values[":" + token[1:]]
        items.append(after)
    return items


def billing_cpu(events: int) -> dict[str, Any]:
    client = RecordingClient()
    ledger = LedgerRepository(_table("BillingTable", client), _table("AggregatesTable", client))
    service = BillingService(ledger, PublishedPricing(), PricingEvaluator(new_engine(ENGINE)))  # type: ignore[arg-type]
    consumer = BillingConsumer(service, NoDeadLetters())
    now = datetime.now(UTC)
    bodies = [
        json.dumps(task_completed(f"bench_{i:07d}", TEAM, APP, now - timedelta(seconds=i)))
        for i in range(events)
    ]
    clock = time.process_time_ns
    for body in bodies[:WARMUP_EVENTS]:  # compiles and caches the formulas, as a warm Lambda has
        consumer.process(body, "warmup")

    # The whole path, exactly as the billing function runs it per SQS record.
    per_event = []
    for index, body in enumerate(bodies):
        start = clock()
        processed = consumer.process(body, f"msg-{index}")
        per_event.append((clock() - start) / 1000)
        assert processed.outcome == "billed" and not processed.needs_review, processed

    # The same path again, stage by stage, to see where the time goes.
    parse, price, build = [], [], []
    for body in bodies:
        t0 = clock()
        event = TaskEventEnvelope.parse(json.loads(body))
        t1 = clock()
        record = service.price_task(event.detail)  # type: ignore[arg-type]
        t2 = clock()
        ledger.charge(record)
        t3 = clock()
        parse.append((t1 - t0) / 1000)
        price.append((t2 - t1) / 1000)
        build.append((t3 - t2) / 1000)

    transaction = client.last
    sizes = [item_size(item) for item in written_items(transaction)]
    return {
        "total": summary(per_event),
        "parse": summary(parse),
        "price": summary(price),
        "build": summary(build),
        "items_written": len(transaction),
        "operations": [next(iter(entry)) for entry in transaction],
        "item_bytes": sizes,
        "wcu": transactional_write_units(sizes),
        "charged": record.charged,
    }
