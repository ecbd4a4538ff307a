"""Spend controls (docs/spend-controls.md), side by side in one run:

- billing CPU per event with the controls not wired, and wired with 0, 1 and 2 applicable
  budgets (the billing bench's path: parse, price, build the transaction; the controls table's
  reads answered from memory, so only our own work is measured), rounds interleaved;
- the write units each adds per task (capacity: 2 per KB of each transactional item);
- the authorization handler's own work, p50/p99: the real handler (edge checks, validation, the
  service building its transaction) with the table's reads and write answered from memory;
- crossing-to-event latency over the local stack: from sending the task event that crosses a
  threshold to its event being listed at /local/emitted-events.

    python -m bench.controls [--quick]"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from usage_pricing import PricingEvaluator, new_engine
from usage_pricing.controls.charging import BudgetCharges
from usage_pricing.controls.model import Budget
from usage_pricing.controls.store import ControlsStore
from usage_pricing.ledger.billing import BillingConsumer, BillingService
from usage_pricing.ledger.repository import LedgerRepository

from .billing import APP, ENGINE, TEAM, NoDeadLetters, RecordingClient, _table, written_items
from .capacity import item_size, transactional_write_units
from .common import summary
from .workload import ROOT, PublishedPricing, task_completed

NOW = datetime.now(UTC)


def budget(budget_id: str, app: str | None) -> Budget:
    return Budget(
        budget_id=budget_id, team_id=TEAM, app=app, period="month", tz="Europe/Berlin",
        limit=10**15, thresholds=[50, 80, 100], action="alert", generation=1,
        since="2000-01-01T00:00:00Z", created_at="", updated_at="",
    )  # fmt: skip


def memory_store(client: RecordingClient, budgets: list[Budget]) -> ControlsStore:
    """A ControlsStore whose reads answer from memory (an empty counter, no hold) and whose
    transactions go to the recording client: what remains is our own work."""
    store = ControlsStore(_table("ControlsTable", client))
    store.team = lambda _team: (3, budgets)  # type: ignore[method-assign]
    store.items = lambda keys: [None for _ in keys]  # type: ignore[method-assign]
    store.get = lambda _key: None  # type: ignore[method-assign]
    return store


CASES: dict[str, list[Budget] | None] = {
    "not wired": None,
    "0 budgets": [],
    "1 budget": [budget("team", None)],
    "2 budgets": [budget("team", None), budget("app", APP)],
}


def billing(events: int, rounds: int = 5) -> dict[str, Any]:
    consumers = {}
    clients = {}
    for case, budgets in CASES.items():
        client = RecordingClient()
        ledger = LedgerRepository(_table("BillingTable", client), _table("AggregatesTable", client))
        if budgets is not None:
            ledger.controls = BudgetCharges(memory_store(client, budgets))
        service = BillingService(ledger, PublishedPricing(), PricingEvaluator(new_engine(ENGINE)))  # type: ignore[arg-type]
        consumers[case] = BillingConsumer(service, NoDeadLetters())
        clients[case] = client
    bodies = [
        json.dumps(task_completed(f"bench_{i:07d}", TEAM, APP, NOW - timedelta(seconds=i)))
        for i in range(events)
    ]
    for consumer in consumers.values():
        for body in bodies[:200]:
            consumer.process(body, "warmup")
    per_event: dict[str, list[float]] = {case: [] for case in CASES}
    clock = time.process_time_ns
    chunk = max(1, events // rounds)
    for start in range(0, events, chunk):  # interleaved: every case meets the same machine
        for case, consumer in consumers.items():
            for index in range(start, min(events, start + chunk)):
                began = clock()
                processed = consumer.process(bodies[index], f"msg-{index}")
                per_event[case].append((clock() - began) / 1000)
                assert processed.outcome == "billed", processed
    answer: dict[str, Any] = {}
    for case in CASES:
        sizes = [item_size(item) for item in _written(clients[case].last)]
        answer[case] = {
            "cpu_us": summary(per_event[case]),
            "items": len(clients[case].last),
            "wcu": transactional_write_units(sizes),
        }
    return answer


def _written(transaction: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as written; a ConditionCheck costs as its (small) item would."""
    plain = []
    for entry in transaction:
        ((kind, request),) = entry.items()
        if kind == "ConditionCheck":
            plain.append(dict(request["Key"]) | {"revision": 3})
        elif kind == "Update":
            after = dict(request["Key"])
            for token, name in request.get("ExpressionAttributeNames", {}).items():
                value = request.get("ExpressionAttributeValues", {}).get(":" + token[1:])
                after[name] = value if value is not None else 0
            plain.append(after)
        else:
            plain += written_items([entry])
    return plain


def authorization_handler(calls: int) -> dict[str, float]:
    from local.functions import LocalContext, import_handler

    module = import_handler(
        ROOT / "functions" / "authorizations" / "app.py",
        "bench_authorizations",
        {"CONTROLS_TABLE": "ControlsTable", "PRICING_TABLE": "PricingTable"},
    )
    client = RecordingClient()
    store = memory_store(client, [budget("team", None), budget("app", APP)])
    store.team = lambda _team: (
        3,
        [b.model_copy(update={"team_id": "team_local"}) for b in CASES["2 budgets"] or []],
    )  # type: ignore[method-assign]
    module.holds.store = store
    module.holds.cache = BudgetCharges(store)
    event = json.loads((ROOT / "events" / "authorizations.json").read_text())
    event["body"] = json.dumps(
        {"task_id": "x", "app": APP.replace(TEAM, "team_local"), "amount": 10**8}
    )
    context = LocalContext("bench", "bench")
    timings = []
    clock = time.process_time_ns
    for index in range(calls + 200):
        body = json.loads(event["body"]) | {"task_id": f"bench-{index}"}
        request = dict(event, body=json.dumps(body))
        began = clock()
        answer = module.lambda_handler(request, context)
        elapsed = (clock() - began) / 1000
        assert answer["statusCode"] == 201, answer
        if index >= 200:
            timings.append(elapsed)
    return summary(timings)


def crossing_latency(samples: int) -> dict[str, float]:
    """Over a local stack of its own: each sample makes a budget whose 50% the next task
    crosses, sends that task, and waits for its event at /local/emitted-events."""
    import requests

    from .load import local_stack

    headers = {"Authorization": "Bearer inf_local_dev", "X-API-Version": "2"}
    timings = []
    with local_stack() as port:
        api = f"http://127.0.0.1:{port}"
        for sample in range(samples):
            app = f"team_local/latency-{uuid.uuid4().hex[:8]}"
            requests.put(
                f"{api}/budgets/latency-{sample}", headers=headers, timeout=30,
                json={"app": app, "period": "month", "limit": 1, "thresholds": [100]},
            ).raise_for_status()  # fmt: skip
            event = task_completed(f"latency-{app[-8:]}", "team_local", app, datetime.now(UTC))
            began = time.perf_counter()
            requests.post(f"{api}/local/events", json=event, timeout=30).raise_for_status()
            while True:
                seen = requests.get(f"{api}/local/emitted-events", timeout=30).json()
                if any(e["detail"]["budget_id"] == f"latency-{sample}" for e in seen):
                    break
            timings.append((time.perf_counter() - began) * 1000)
            requests.delete(f"{api}/budgets/latency-{sample}", headers=headers, timeout=30)
    return summary(timings)


def contention(workers: int, charges: int) -> dict[str, Any]:
    """Billing workers (threads, each its own ledger and budget cache) charging one team at once
    on moto in this process, without budgets and with one budget every charge hits: charges per
    second, and how often a charge had to re-read the budget's counter (its condition failed)."""
    from local.atomic import serialize_dynamodb

    serialize_dynamodb()
    return {case: _contend(case, workers, charges) for case in ("0 budgets", "1 budget")}


def _contend(case: str, workers: int, charges: int) -> dict[str, float]:
    import threading

    import boto3
    from moto import mock_aws

    from local.template import create_tables, load_template
    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.ledger.records import BillingRecord, UsageEvent
    from usage_pricing.storage.aggregates import LAYOUT

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        create_tables(client, load_template())
        store = ControlsStore(resource.Table("ControlsTable"))
        if case == "1 budget":
            BudgetService(store, lambda *_: 0).put(
                TEAM, "all", BudgetRequest(period="month", limit=10**15, thresholds=[50, 100])
            )
        rereads = [0]
        counted = store.counters

        def counters(keys: list[dict[str, str]]) -> Any:
            rereads[0] += 1
            return counted(keys)

        store.counters = counters  # type: ignore[method-assign]

        def worker(number: int) -> None:
            ledger = LedgerRepository(
                resource.Table("BillingTable"), resource.Table("AggregatesTable")
            )
            ledger.controls = BudgetCharges(store)
            for index in range(charges):
                moment = datetime.now(UTC)
                ledger.charge(
                    BillingRecord(
                        task_id=f"c-{number}-{index}", team_id=TEAM, app=APP,
                        status="completed", billing_status="charged", started_at=moment,
                        completed_at=moment, billed_at=moment, elapsed_ms=1000,
                        usage_seconds=1, tier="cloud", resource_fee=7, inference_fee=0,
                        royalty_fee=0, partner_fee=0, total=7, charged=7,
                        usage=[UsageEvent(tier="cloud", type="gpu", model="m", seconds=1)],
                        shard=0, aggregate_layout=LAYOUT,
                    )
                )  # fmt: skip

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        total = workers * charges
        return {
            "charges_per_second": total / elapsed,
            "rereads_per_charge": (rereads[0] - total) / total if case == "1 budget" else 0.0,
        }


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    results = {
        "billing": billing(1_000 if quick else 5_000),
        "authorization_us": authorization_handler(500 if quick else 3_000),
        "crossing_to_event_ms": crossing_latency(5 if quick else 30),
        "contention": contention(8, 25 if quick else 100),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
