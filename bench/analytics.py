"""A 90-day spend breakdown over 10^4 and 10^5 billed tasks: aggregate items read and handler time.

SPEC §8: a range must cost reads in proportion to buckets × apps × shards, never to the number
of records. Tasks are charged uniformly over the 90 days before today across 5 apps of one team,
so with at least 90 × 5 × 4 tasks every (day, app, shard) aggregate exists and the breakdown
reads exactly that many items however many tasks there are; the same keys hold for 10^6.

Writes go through LedgerRepository.charge. A first batch is charged over HTTP into the local
database (the path `make dev` uses) and timed; the bulk is loaded by InProcessLedgerClient
(bench/localdb.py), which applies the very same TransactItems in process, after proving that it
leaves the tables identical, item for item, to the HTTP path for that first batch.
BENCH_ANALYTICS_VIA_HTTP=1 sends every charge over HTTP instead (about 40 ms each here).

Reads go through the real breakdown function (functions/breakdown/app.py, imported with its
template.yaml environment) invoked with an API Gateway v2 event, over HTTP to the local database
(its Queries partition-scoped, see bench/localdb.py). Most of that handler time is moto turning
the items into a response (about 1 ms per item), which says nothing about DynamoDB, so the rows
also give the handler time with the local database's server time subtracted: the handler's own
work, boto3 parsing the items included, which is what carries over to Lambda."""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local.database import LocalDatabase
from local.functions import LocalFunction
from local.template import load_template
from usage_pricing import PricingEvaluator, Settings, new_engine
from usage_pricing.billing import BillingService
from usage_pricing.events import TaskEventEnvelope
from usage_pricing.records import BillingRecord
from usage_pricing.storage.ledger import LedgerOutcome, LedgerRepository, shard_for
from usage_pricing.wiring import Wiring

from .capacity import item_size, query_read_units
from .common import summary
from .localdb import (
    InProcessLedgerClient,
    backend,
    create_region,
    local_database,
    table_contents,
)
from .workload import ROOT, PublishedPricing, task_completed

TEAM = "team_bench"
APPS = [f"{TEAM}/app-{n}" for n in range(5)]
DAYS = 90
CHECK_TEAM = "team_writecheck"  # the HTTP-vs-loader comparison, kept apart from TEAM's data
CHECK_REGION = "eu-west-1"  # a second copy of every table, for the loader side of that check
NOW = datetime.now(UTC).replace(microsecond=0)


def sizes(quick: bool) -> tuple[int, int]:
    override = os.environ.get("BENCH_ANALYTICS_TASKS")
    if override:
        small, large = (int(n) for n in override.split(","))
        return small, large
    return (1_000, 10_000) if quick else (10_000, 100_000)


def place(index: int, team: str, shards: int) -> dict[str, Any]:
    """Task number `index`: its (day, app, shard) cell comes round-robin, so every cell holds a
    task once index ≥ cells. The task id is chosen to hash to the cell's shard."""
    per_day = len(APPS) * shards
    day, rest = divmod(index % (DAYS * per_day), per_day)
    app, shard = divmod(rest, shards)
    suffix = 0
    while shard_for(task_id := f"{team}_{index:07d}_{suffix}", shards) != shard:
        suffix += 1
    midnight = NOW.replace(hour=0, minute=0, second=0)
    # A full UTC day 1..90 days back, at a time of day that varies task to task.
    completed_at = midnight - timedelta(days=day + 1, seconds=-((index * 7_919) % 86_400))
    return task_completed(task_id, team, APPS[app], completed_at)


class Charger:
    """Events → BillingRecords (real parsing and pricing, pricing lookup from memory) →
    LedgerRepository.charge on the ledger given."""

    def __init__(self, ledger: LedgerRepository) -> None:
        self.ledger = ledger
        self.service = BillingService(
            ledger,
            PublishedPricing(),  # type: ignore[arg-type]
            PricingEvaluator(new_engine("cel-expr")),
        )

    def record(self, event: dict[str, Any]) -> BillingRecord:
        return self.service.price_task(TaskEventEnvelope.parse(event).detail)  # type: ignore[arg-type]

    def charge(self, record: BillingRecord) -> None:
        outcome = self.ledger.charge(record)
        assert outcome is LedgerOutcome.WRITTEN, (record.task_id, outcome)


def in_process_ledger(region: str, settings: Settings) -> LedgerRepository:
    client = InProcessLedgerClient(backend(region))

    def table(name: str) -> Any:
        return SimpleNamespace(name=name, meta=SimpleNamespace(client=client))

    return LedgerRepository(
        table(settings.billing_table),
        table(settings.aggregates_table),
        shards=settings.aggregate_shards,
    )


def check_loader(database: LocalDatabase, settings: Settings, tasks: int) -> dict[str, Any]:
    """Charge `tasks` records over HTTP (timed), apply the same records with the loader to a
    second copy of the tables, and require both copies to hold exactly the same items."""
    over_http = Charger(Wiring(settings).ledger())
    loaded = Charger(in_process_ledger(CHECK_REGION, settings))
    create_region(database, CHECK_REGION)
    records = [
        over_http.record(place(i, CHECK_TEAM, settings.aggregate_shards)) for i in range(tasks)
    ]
    latencies = []
    for record in records:
        start = time.perf_counter_ns()
        over_http.charge(record)
        latencies.append((time.perf_counter_ns() - start) / 1000)
        loaded.charge(record)
    home = backend(os.environ["AWS_DEFAULT_REGION"])
    for table in (settings.billing_table, settings.aggregates_table):
        written, loaded_items = (
            table_contents(home, table),
            table_contents(backend(CHECK_REGION), table),
        )
        if written != loaded_items:
            raise AssertionError(
                f"{table}: the loader and the HTTP path disagree on "
                f"{len(written ^ loaded_items)} of {len(written | loaded_items)} items"
            )
    return {"http_charge": summary(latencies), "checked_tasks": tasks}


@contextmanager
def database_server_time() -> Iterator[list[float]]:
    """Seconds the local database's HTTP endpoint spends answering requests (parsing, moto's
    Query, serializing the response), accumulated in the list. Requests are sequential here,
    and the handler waits for each, so handler time minus this is the handler's own time."""
    spent = [0.0]
    original = DomainDispatcherApplication.__call__

    def timed(self: DomainDispatcherApplication, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    DomainDispatcherApplication.__call__ = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


def breakdown_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "breakdown.json").read_text())
    event.update(rawQueryString="range=90d", queryStringParameters={"range": "90d"})
    event["requestContext"]["authorizer"]["lambda"] = {"team_id": TEAM, "scopes": "billing:read"}
    return event


def day_item_bytes(region: str, settings: Settings) -> list[int]:
    """Bytes of TEAM's day aggregates per shard: what each shard's Query returns."""
    table = backend(region).get_table(settings.aggregates_table)
    deserialize = TypeDeserializer().deserialize
    per_shard = []
    for shard in range(settings.aggregate_shards):
        rows = table.items.get(DynamoType({"S": f"{TEAM}#D#{shard}"}), {})
        per_shard.append(
            sum(
                item_size({k: deserialize(v) for k, v in row.to_json()["Attributes"].items()})
                for row in rows.values()
            )
        )
    return per_shard


def measure_breakdown(
    invoke: Callable[[dict[str, Any]], Any],
    aggregates: Any,
    calls: int,
    expected: tuple[int, int],
) -> dict[str, Any]:
    event = breakdown_event()
    handler, handler_without_server, items, queries = [], [], set(), set()
    with database_server_time() as server:
        for call in range(calls + 2):  # two warm-up calls: connection pool, code paths
            before = (aggregates.stats.items, aggregates.stats.queries, server[0])
            start = time.perf_counter()
            response = invoke(copy.deepcopy(event))
            elapsed = time.perf_counter() - start
            assert response["statusCode"] == 200, response
            body = json.loads(response["body"])
            total_calls = sum(app["call_count"] for app in body["per_model"])
            assert (body["total_cost"], total_calls) == expected, (body["total_cost"], total_calls)
            if call < 2:
                continue
            handler.append(elapsed * 1e6)
            handler_without_server.append((elapsed - (server[0] - before[2])) * 1e6)
            items.add(aggregates.stats.items - before[0])
            queries.add(aggregates.stats.queries - before[1])
    assert len(items) == 1 and len(queries) == 1, (items, queries)
    return {
        "handler": summary(handler),
        "handler_without_db_server": summary(handler_without_server),
        "items_read": items.pop(),
        "queries": queries.pop(),
    }


def analytics(quick: bool) -> dict[str, Any]:
    small, large = sizes(quick)
    via_http = os.environ.get("BENCH_ANALYTICS_VIA_HTTP") == "1"
    template = load_template()
    billing_env = template.functions()["BillingFunction"].environment
    settings = Settings.from_env(billing_env)
    cells = DAYS * len(APPS) * settings.aggregate_shards
    results: dict[str, Any] = {"sizes": [small, large], "cells": cells, "via_http": via_http}
    with local_database() as database:
        results.update(check_loader(database, settings, 40 if quick else 200))
        region = os.environ["AWS_DEFAULT_REGION"]
        charger = Charger(
            Wiring(settings).ledger() if via_http else in_process_ledger(region, settings)
        )
        function = LocalFunction(template.functions()["BreakdownFunction"])
        function.module.analytics.clock = lambda: NOW
        aggregates = function.module.analytics.aggregates
        charged, written, load_seconds = 0, 0, 0.0
        for size in (small, large):
            start = time.perf_counter()
            for index in range(written, size):
                record = charger.record(place(index, TEAM, settings.aggregate_shards))
                charger.charge(record)
                charged += record.charged
            load_seconds += time.perf_counter() - start
            written = size
            calls = 5 if quick else 20
            figure = measure_breakdown(function.invoke, aggregates, calls, (charged, size))
            shard_bytes = day_item_bytes(region, settings)
            aggregate_table = backend(region).get_table(settings.aggregates_table)
            figure.update(
                read_units=sum(query_read_units(b) for b in shard_bytes),
                returned_bytes=sum(shard_bytes),
                aggregate_items_in_table=len(aggregate_table),
                load_seconds=load_seconds,
                tasks_per_second=size / load_seconds,
            )
            results[str(size)] = figure
    results["same_items_at_both_sizes"] = (
        results[str(small)]["items_read"] == results[str(large)]["items_read"]
    )
    if min(small, large) >= cells:
        assert results["same_items_at_both_sizes"], "the breakdown's reads grew with the records"
    return results
