"""90-day spend breakdowns at 5, 20 and 100 apps, and the task list's first page at 10^5 records.

docs/storage.md: a breakdown reads O(buckets × apps) aggregate items however many records there are,
and a team with 100 active apps gets its 90-day breakdown with the handler's own work ≤ 300 ms.
One team's apps are added in stages (5, then 20, then 100), each app billing TASKS_PER_APP tasks
spread over the 90 days before today, so every (day, app) cell holds tasks; at 100 apps the
ledger holds 10^5 records, which is where the task list is measured. The apps are quiet (one
charge at a time), so each writes shard 0 (ledger.aggregate_writer.ShardPolicy); a second team whose
100 apps are all hot, every cell spread over all 4 shards, gives the worst case of the same read.

Writes go through LedgerRepository.charge. A first batch is charged over HTTP into the local
database (the path `make dev` uses) and timed; the bulk is loaded by InProcessLedgerClient
(bench/localdb.py), which applies the very same TransactItems in process, after proving that it
leaves the tables identical, item for item, to the HTTP path for that first batch.

Reads go through the real functions (functions/breakdown/app.py, functions/task_cost/app.py,
imported with their template.yaml environment) invoked with API Gateway v2 events, over HTTP to
the local database (its Queries partition-scoped, see local/atomic.py). Most of that time is moto
answering (about a millisecond per item), which says nothing about DynamoDB, so the rows also
give the handler time with the local database's server time subtracted: the handler's own work,
boto3 included, which is what carries over to Lambda. Read units are DynamoDB's: the full size of
every item a Query reads (a projection or a filter does not reduce them), 1 unit per 4 KB,
halved for eventually consistent reads."""

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
from usage_pricing.ledger.aggregate_writer import shard_for
from usage_pricing.ledger.billing import BillingService
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.storage.aggregates import Granularity, bucket_key, partition_key
from usage_pricing.usage.events import TaskEventEnvelope

from .capacity import READ_UNIT_BYTES, item_size, query_read_units
from .common import summary
from .localdb import InProcessLedgerClient, backend, create_region, local_database, table_contents
from .workload import ROOT, PublishedPricing, task_completed

TEAM = "team_bench"
HOT_TEAM = "team_bench_hot"
APP_STAGES = (5, 20, 100)
DAYS = 90
CHECK_TEAM = "team_writecheck"  # the HTTP-vs-loader comparison, kept apart from TEAM's data
CHECK_REGION = "eu-west-1"  # a second copy of every table, for the loader side of that check
NOW = datetime.now(UTC).replace(microsecond=0)


def app_name(team: str, index: int) -> str:
    return f"{team}/app-{index:03d}"


def tasks_per_app(quick: bool) -> int:
    override = os.environ.get("BENCH_TASKS_PER_APP")
    return int(override) if override else (100 if quick else 1_000)


def completion(task_number: int) -> datetime:
    """A full UTC day 1..90 days back, at a time of day that varies task to task."""
    midnight = NOW.replace(hour=0, minute=0, second=0)
    day = task_number % DAYS
    return midnight - timedelta(days=day + 1, seconds=-((task_number * 7_919) % 86_400))


def event_for(
    team: str, app: int, number: int, shard: int | None = None, shards: int = 4
) -> dict[str, Any]:
    task_id = f"{team}_{app:03d}_{number:06d}"
    if shard is not None:  # a task id that hashes to the shard wanted
        suffix = 0
        while shard_for(task_id := f"{team}_{app:03d}_{number:06d}_{suffix}", shards) != shard:
            suffix += 1
    return task_completed(task_id, team, app_name(team, app), completion(number))


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
        self.charged: dict[str, int] = {}
        self.calls: dict[str, int] = {}

    def record(self, event: dict[str, Any]) -> BillingRecord:
        return self.service.price_task(TaskEventEnvelope.parse(event).detail)  # type: ignore[arg-type]

    def charge(self, record: BillingRecord) -> None:
        outcome = self.ledger.charge(record)
        assert outcome is LedgerOutcome.WRITTEN, (record.task_id, outcome)
        self.charged[record.team_id] = self.charged.get(record.team_id, 0) + record.charged
        self.calls[record.team_id] = self.calls.get(record.team_id, 0) + 1


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
    records = [over_http.record(event_for(CHECK_TEAM, i % 7, i)) for i in range(tasks)]
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


def http_event(path: str, query: dict[str, str], team: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "breakdown.json").read_text())
    route = f"GET {path}"
    event.update(
        routeKey=route,
        rawPath=path,
        rawQueryString="&".join(f"{k}={v}" for k, v in query.items()),
        queryStringParameters=query or None,
    )
    event["requestContext"].update(routeKey=route)
    event["requestContext"]["http"].update(path=path)
    event["requestContext"]["authorizer"]["lambda"] = {"team_id": team, "scopes": "billing:read"}
    return event


def aggregate_read_units(
    region: str, settings: Settings, team: str, granularity: Granularity
) -> tuple[float, int, int]:
    """(read units, bytes, items) of what a 90-day breakdown's Queries read: every item of the
    team's partitions at that granularity in the window, at its full size."""
    table = backend(region).get_table(settings.aggregates_table)
    deserialize = TypeDeserializer().deserialize
    first = bucket_key(Granularity.DAY.floor(NOW - timedelta(days=DAYS * 2 + 2)))
    units, size, count = 0.0, 0, 0
    for shard in range(settings.aggregate_shards):
        rows = table.items.get(DynamoType({"S": partition_key(team, granularity, shard)}), {})
        shard_bytes = 0
        for key, row in rows.items():
            if key.value >= first:
                shard_bytes += item_size(
                    {k: deserialize(v) for k, v in row.to_json()["Attributes"].items()}
                )
                count += 1
        size += shard_bytes
        units += query_read_units(shard_bytes) if shard_bytes else 0.5  # a Query reads ≥ 1 unit
    return units, size, count


def record_read_units(region: str, settings: Settings, records_read: int) -> float:
    """Read units of a task-list page: the records its Queries read, at the mean record size
    (the indexes project every attribute)."""
    rows = list(backend(region).get_table(settings.billing_table).items.values())[:2_000]
    deserialize = TypeDeserializer().deserialize
    mean = sum(
        item_size({k: deserialize(v) for k, v in row.to_json()["Attributes"].items()})
        for row in rows
    ) / max(1, len(rows))
    return max(1, -(-int(mean * records_read) // READ_UNIT_BYTES)) / 2


def measure(
    invoke: Callable[[dict[str, Any]], Any],
    event: dict[str, Any],
    counts: Callable[[], tuple[int, int]],
    calls: int,
    check: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Invoke the handler `calls` times after a warm-up; `counts()` gives (items read, Queries)
    so far."""
    handler, own, items, queries = [], [], set(), set()
    with database_server_time() as server:
        for call in range(calls + 1):  # one warm-up call: connection pool, code paths
            read_before, queries_before = counts()
            server_before = server[0]
            start = time.perf_counter()
            response = invoke(copy.deepcopy(event))
            elapsed = time.perf_counter() - start
            assert response["statusCode"] == 200, response
            check(json.loads(response["body"]))
            if call == 0:
                continue
            read_after, queries_after = counts()
            handler.append(elapsed * 1e6)
            own.append((elapsed - (server[0] - server_before)) * 1e6)
            items.add(read_after - read_before)
            queries.add(queries_after - queries_before)
    assert len(items) == 1 and len(queries) == 1, (items, queries)
    return {
        "handler": summary(handler),
        "handler_without_db_server": summary(own),
        "items_read": items.pop(),
        "queries": queries.pop(),
    }


def analytics(quick: bool) -> dict[str, Any]:
    per_app = tasks_per_app(quick)
    calls = 2 if quick else 5
    template = load_template()
    billing_env = template.functions()["BillingFunction"].environment
    settings = Settings.from_env(billing_env)
    results: dict[str, Any] = {"tasks_per_app": per_app, "stages": list(APP_STAGES), "days": DAYS}
    with local_database() as database:
        results.update(check_loader(database, settings, 40 if quick else 200))
        region = os.environ["AWS_DEFAULT_REGION"]
        charger = Charger(in_process_ledger(region, settings))
        breakdown_fn = LocalFunction(template.functions()["BreakdownFunction"])
        breakdown_fn.module.analytics.clock = lambda: NOW
        aggregates = breakdown_fn.module.analytics.aggregates

        def aggregate_counts() -> tuple[int, int]:
            return aggregates.stats.items, aggregates.stats.queries

        tasks_fn = LocalFunction(template.functions()["TaskCostFunction"])
        tasks_fn.module.tasks.clock = lambda: NOW + timedelta(seconds=1)

        def expect_total(team: str) -> Callable[[dict[str, Any]], None]:
            def check(body: dict[str, Any]) -> None:
                assert body["total_cost"] == charger.charged[team], (
                    body["total_cost"],
                    charger.charged[team],
                )
                assert sum(m["call_count"] for m in body["per_model"]) <= charger.calls[team]

            return check

        loaded_apps, load_seconds = 0, 0.0
        for apps in APP_STAGES:
            start = time.perf_counter()
            for app in range(loaded_apps, apps):
                for number in range(per_app):
                    charger.charge(charger.record(event_for(TEAM, app, number)))
            load_seconds += time.perf_counter() - start
            loaded_apps = apps
            units, size, count = aggregate_read_units(region, settings, TEAM, Granularity.DAY)
            figure = measure(
                breakdown_fn.invoke,
                http_event("/usage/breakdown", {"range": "90d"}, TEAM),
                aggregate_counts,
                calls,
                expect_total(TEAM),
            )
            figure.update(
                read_units=units, read_bytes=size, load_seconds=load_seconds, records=apps * per_app
            )
            results[f"breakdown/{apps}"] = figure
        for name, query in (
            ("berlin", {"range": "90d", "tz": "Europe/Berlin"}),
            ("kolkata_fee_7d", {"range": "7d", "tz": "Asia/Kolkata", "group_by": "fee"}),
            ("fee", {"range": "90d", "group_by": "fee"}),
        ):
            figure = measure(
                breakdown_fn.invoke,
                http_event("/usage/breakdown", query, TEAM),
                aggregate_counts,
                calls,
                lambda body: None,
            )
            figure["query"] = query
            results[f"breakdown/100/{name}"] = figure
        results["aggregate_items_in_table"] = len(
            backend(region).get_table(settings.aggregates_table)
        )

        # The task list at 10^5 records.
        index = tasks_fn.module.tasks.index

        def index_counts() -> tuple[int, int]:
            return index.stats.scanned, index.stats.queries

        # Each first page with its count (spend.task_count, read from the aggregates) and, side
        # by side, without it: what the count adds.
        counter = tasks_fn.module.tasks.counter
        count_reads = counter.aggregates.stats
        for name, query in (
            ("first_page", {}),
            ("first_page_90d", {"range": "90d"}),
            (
                "first_page_20_apps",
                {"range": "90d", "app": ",".join(app_name(TEAM, a) for a in range(20))},
            ),
        ):
            for variant, with_count in (("", True), ("/no_count", False)):
                tasks_fn.module.tasks.counter = counter if with_count else None
                counted_before = (count_reads.items, count_reads.queries)
                pages: list[dict[str, Any]] = []
                figure = measure(
                    tasks_fn.invoke,
                    http_event("/usage/tasks", query, TEAM),
                    index_counts,
                    calls,
                    lambda body, pages=pages: pages.append(body),  # type: ignore[misc]
                )
                assert len(pages[-1]["data"]) == 100 and pages[-1]["has_more"]
                assert (pages[-1]["count"] is not None) == with_count, pages[-1]["count"]
                figure.update(
                    read_units=record_read_units(region, settings, figure["items_read"]),
                    query=query,
                    count_items=(count_reads.items - counted_before[0]) // (calls + 1),
                    count_queries=(count_reads.queries - counted_before[1]) // (calls + 1),
                )
                results[f"tasks/{name}{variant}"] = figure
        tasks_fn.module.tasks.counter = counter
        results["records_in_table"] = len(backend(region).get_table(settings.billing_table))

        # The worst case: 100 apps, every one hot, every (day, app) cell in all 4 shards.
        hot_apps = 20 if quick else 100
        start = time.perf_counter()
        for app in range(hot_apps):
            charger.ledger.shard_policy.contended(HOT_TEAM, app_name(HOT_TEAM, app))
        for app in range(hot_apps):
            for number in range(DAYS * settings.aggregate_shards):
                event = event_for(
                    HOT_TEAM, app, number, shard=number // DAYS, shards=settings.aggregate_shards
                )
                charger.charge(charger.record(event))
        units, size, count = aggregate_read_units(region, settings, HOT_TEAM, Granularity.DAY)
        figure = measure(
            breakdown_fn.invoke,
            http_event("/usage/breakdown", {"range": "90d"}, HOT_TEAM),
            aggregate_counts,
            calls,
            expect_total(HOT_TEAM),
        )
        figure.update(
            read_units=units,
            read_bytes=size,
            items_in_window=count,
            apps=hot_apps,
            load_seconds=time.perf_counter() - start,
        )
        results["breakdown/hot"] = figure
    return results
