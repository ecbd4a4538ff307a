"""Bounded requests at 10^5 records (docs/api.md, "every request is bounded"): the worst backtest and
the worst filtered task list answer inside their function's timeout (template.yaml: 29 s and
10 s), with `truncated`/`has_more` and a continuation, instead of timing out.

The records: 10^5 billing records of one team, 50,000 of app-00 (the backtest's app) and
50,000 spread over app-01…app-19, over the last 80 days. Each is the same heavy task, priced once
by the real BillingService and written once through the local database's HTTP endpoint: 1,000
images, so its kept inputs (priced_from_z) are 1,000 outputs. Charging 10^5 such tasks through
the ledger would take hours (bench/localdb.py), so the other records are that item cloned in
process into moto's table, each with its own keys (task id, app, completed_at and the index
keys): a bulk write of finished items, which is all a read needs (no aggregate is read here).

- The worst backtest: `limit=10000`, `range=90d`, proposing ONE_FILTER in every one of the five
  formulas (tests/hostile_pricing.py: `size(outputs.filter(o, o.type == 'image'))`, each within
  the pricing work budget) over ONE_FILTER_FITS images per task (the most one filter fits: a
  filter over 1,000 is over its budget and prices as a cheap component error); before the
  budget's list-building weight, 1,000 images took about a third of a second a task on the
  issue's machine, so 10,000 tasks would take an hour and 120 tasks took 43.7 s before the
  deadline. It stops at the deadline with `truncated_reason: deadline` and a cursor.
- The worst filtered task list: `status=needs_review` (no record matches, so every read is
  wasted), `range=90d`, `limit=1`; then with the 20 app filters the list allows. It stops at its
  read budget (5,000 records) or its deadline, whichever is first, with `has_more` and a cursor.

Each runs through the real handler (functions/…/app.py with its template.yaml environment) with
the local context, which counts the function's own timeout down from the invocation's start,
against the local database over HTTP. moto answers a Query on an index by sorting the whole
table (10^5 items here: DynamoDB reads only the partition's range), so the rows give the
handler's time with the database's and without it."""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.functions import LocalFunction
from local.template import load_template
from tests.hostile_pricing import ONE_FILTER, ONE_FILTER_FITS
from usage_pricing import Settings
from usage_pricing.core.utc import sortable as time_key
from usage_pricing.ledger.repository import record_item, team_app_partition

from .analytics import Charger, database_server_time, in_process_ledger
from .common import summary
from .localdb import backend, local_database
from .workload import ROOT, task_completed

TEAM = "team_bounded"
APPS = [f"{TEAM}/app-{n:02d}" for n in range(20)]
RECORDS = int(os.environ.get("BENCH_BOUNDED_RECORDS", "100000"))
DAYS = 80
NOW = datetime.now(UTC).replace(microsecond=0)
# The most images one filter fits within its work budget: the heaviest backtest that prices.
IMAGES = ONE_FILTER_FITS
PROPOSAL = {
    "pricing": {
        f"{component}_expression": ONE_FILTER
        for component in ("resource", "inference", "royalty", "partner", "total")
    }
}


def _app_of(index: int) -> str:
    """Every other record is app-00's; the rest take app-01…app-19 in turn."""
    return APPS[0] if index % 2 == 0 else APPS[1 + (index // 2) % 19]


def load_records(endpoint: str, region: str, settings: Settings) -> int:
    """10^5 records of TEAM (see the module docstring); the item bytes of one."""
    charger = Charger(in_process_ledger(region, settings))
    event = task_completed("seed", TEAM, APPS[0], NOW - timedelta(days=DAYS))
    event["detail"]["output_meta"] = {
        "inputs": [],
        "outputs": [{"type": "image", "width": 1024, "height": 1024, "count": 1}] * IMAGES,
    }
    item = record_item(charger.record(event))
    table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name=region)
    table.Table(settings.billing_table or "BillingTable").put_item(Item=item)
    moto_table = backend(region).get_table("BillingTable")
    proto = moto_table.items[DynamoType({"S": "TASK#seed"})]
    step = timedelta(days=DAYS) / RECORDS
    for index in range(RECORDS):
        task = f"b{index:06d}"
        app = _app_of(index)
        done = NOW - timedelta(minutes=1) - step * index
        key = f"{time_key(done)}#{task}"
        clone = Item(DynamoType({"S": f"TASK#{task}"}), None, {})
        # One update (moto re-measures the whole item on every single assignment); the large
        # values (priced_from_z, resources, …) are shared with the prototype, never copied.
        clone.attrs.update(
            {
                **proto.attrs,
                "pk": DynamoType({"S": f"TASK#{task}"}),
                "task_id": DynamoType({"S": task}),
                "app": DynamoType({"S": app}),
                "completed_at": DynamoType({"S": done.strftime("%Y-%m-%dT%H:%M:%SZ")}),
                "gsi1sk": DynamoType({"S": key}),
                "gsi2pk": DynamoType({"S": team_app_partition(TEAM, app)}),
                "gsi2sk": DynamoType({"S": key}),
            }
        )
        moto_table.items[clone.hash_key] = clone
    del moto_table.items[DynamoType({"S": "TASK#seed"})]
    return len(json.dumps(item, default=str))


def _event(
    sample: str, method: str, route: str, path: str, query: list[tuple[str, str]]
) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{sample}.json").read_text())
    joined: dict[str, str] = {}
    for key, value in query:  # API Gateway joins a repeated parameter with commas
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    event.update(
        routeKey=route,
        rawPath=path,
        rawQueryString="&".join(f"{k}={v}" for k, v in query),
        queryStringParameters=joined,
    )
    event.pop("pathParameters", None)
    event["requestContext"].update(routeKey=route)
    event["requestContext"]["http"].update(method=method, path=path)
    return event


def backtest_event(cursor: str | None) -> dict[str, Any]:
    namespace, name = APPS[0].split("/")
    route = "POST /apps/{namespace}/{name}/pricing/backtest"
    query = [("limit", "10000"), ("range", "90d"), *([("cursor", cursor)] if cursor else [])]
    event = _event("pricing", "POST", route, f"/apps/{APPS[0]}/pricing/backtest", query)
    event["pathParameters"] = {"namespace": namespace, "name": name}
    event["body"] = json.dumps(PROPOSAL)
    event["isBase64Encoded"] = False
    event["headers"]["content-type"] = "application/json"
    event["requestContext"]["authorizer"]["lambda"] = {"team_id": TEAM, "scopes": "apps:write"}
    return event


def task_list_event(apps: list[str], cursor: str | None) -> dict[str, Any]:
    query = [("status", "needs_review"), ("range", "90d"), ("limit", "1")]
    query += [("app", app) for app in apps]
    query += [("cursor", cursor)] if cursor else []
    event = _event("task_cost", "GET", "GET /usage/tasks", "/usage/tasks", query)
    event["requestContext"]["authorizer"]["lambda"] = {"team_id": TEAM, "scopes": "billing:read"}
    return event


def _run(
    function: LocalFunction, events: Any, requests: int, check: Any
) -> tuple[dict[str, Any], list[Any]]:
    """`requests` invocations, each continuing the previous one's cursor: wall and own time."""
    wall, own, answers = [], [], []
    cursor = None
    with database_server_time() as server:
        for _ in range(requests):
            before = server[0]
            start = time.perf_counter()
            response = function.invoke(copy.deepcopy(events(cursor)))
            elapsed = time.perf_counter() - start
            assert response["statusCode"] == 200, response
            body = json.loads(response["body"])
            cursor = check(body)
            answers.append(body)
            wall.append(elapsed * 1e6)
            own.append((elapsed - (server[0] - before)) * 1e6)
    return {"handler": summary(wall), "handler_without_db_server": summary(own)}, answers


def bounded(quick: bool) -> dict[str, Any]:
    template = load_template()
    functions = template.functions()
    settings = Settings.from_env(functions["BillingFunction"].environment)
    results: dict[str, Any] = {"records": RECORDS}
    with local_database() as database:
        started = time.perf_counter()
        results["item_bytes"] = load_records(database.endpoint, "us-east-1", settings)
        results["load_seconds"] = time.perf_counter() - started

        pricing = LocalFunction(functions["PricingFunction"])
        results["pricing_timeout_s"] = functions["PricingFunction"].timeout_seconds

        def backtest_check(body: dict[str, Any]) -> str:
            assert body["truncated"] and body["truncated_reason"] == "deadline", body
            return str(body["next_cursor"])

        figure, answers = _run(pricing, backtest_event, 1 if quick else 2, backtest_check)
        reads = pricing.module.backtests.last_reads
        results["backtest"] = {
            **figure,
            "tasks": [a["tasks"] for a in answers],
            "reason": answers[-1]["truncated_reason"],
            "queries": reads.queries,
            "items_read": reads.items,
        }

        tasks = LocalFunction(functions["TaskCostFunction"])
        results["task_list_timeout_s"] = functions["TaskCostFunction"].timeout_seconds
        for name, apps in (("one_partition", []), ("20_apps", APPS)):

            def list_check(body: dict[str, Any]) -> str:
                assert body["data"] == [] and body["has_more"], body
                return str(body["next_cursor"])

            index = tasks.module.tasks.index if tasks._module is not None else None
            before = (index.stats.queries, index.stats.scanned) if index else (0, 0)
            requests = 2 if quick else 3
            figure, _ = _run(
                tasks, lambda cursor, apps=apps: task_list_event(apps, cursor), requests, list_check
            )
            index = tasks.module.tasks.index
            results[f"task_list/{name}"] = {
                **figure,
                "requests": requests,
                "queries_per_request": (index.stats.queries - before[0]) / requests,
                "scanned_per_request": (index.stats.scanned - before[1]) / requests,
            }
    return results
