"""A backtest of 1,000 and 10,000 billed tasks (docs/api.md): wall time and read units.

The tasks are the README's example run (bench/workload.py), billed by the real BillingService
over the last 6 days into the local database (moto in server mode, as `make dev` runs it; loaded
with bench/localdb.py's in-process loader, which applies the ledger's own transactions). The
backtest runs through the real pricing function (functions/pricing/app.py with its template.yaml
environment) with an API Gateway v2 event: the app's draft (another price per image) against
every task, `limit` = the task count, following `next_cursor` when a request stops at its
deadline (the local context counts the function's 29 s timeout down; moto's time counts in it),
so a row is the whole walk and says how many requests it took. It reads the records through by_team_app_time over HTTP to
the local database; handler time includes moto turning each item into a response (about 1 ms per
item here, nothing DynamoDB spends), so the rows also give the handler's own time, the local
database's server time subtracted (bench/analytics.py's measure). Read units are DynamoDB's for
those Query pages: 0.5 per started 4 KB (an index is read eventually consistent), by the item
sizes of bench/capacity.py."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from local.functions import LocalFunction
from local.template import load_template
from usage_pricing import AppPricing, Settings
from usage_pricing.ledger.repository import record_item
from usage_pricing.runtime.wiring import Wiring

from .analytics import Charger, database_server_time, in_process_ledger
from .capacity import READ_UNIT_BYTES, item_size
from .common import summary
from .localdb import local_database
from .workload import EVALUATE_BODY, ROOT, task_completed

TEAM = "team_bench"
APP = f"{TEAM}/flux-dev"
PAGE_BYTES = 1024 * 1024  # a Query page holds at most 1 MB of items
NOW = datetime.now(UTC).replace(microsecond=0)


def _event(limit: int, cursor: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "pricing.json").read_text())
    path = f"/apps/{APP}/pricing/backtest"
    route = "POST /apps/{namespace}/{name}/pricing/backtest"
    query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    event.update(
        routeKey=route,
        rawPath=path,
        rawQueryString="&".join(f"{k}={v}" for k, v in query.items()),
        queryStringParameters=query,
        pathParameters={"namespace": TEAM, "name": "flux-dev"},
    )
    event.pop("body", None)
    event["requestContext"].update(routeKey=route)
    event["requestContext"]["http"].update(method="POST", path=path)
    event["requestContext"]["authorizer"]["lambda"] = {"team_id": TEAM, "scopes": "apps:write"}
    return event


def _read_units(sizes: list[int]) -> float:
    """Eventually consistent Query pages of at most 1 MB: 0.5 RCU per started 4 KB of each."""
    units, page = 0.0, 0
    for size in [*sizes, None]:
        if size is None or page + size > PAGE_BYTES:
            units += -(-page // READ_UNIT_BYTES) / 2
            page = 0
        if size is not None:
            page += size
    return units


def _walk(function: LocalFunction, size: int, reads: list[int]) -> tuple[int, int, int, int]:
    """A backtest of `size` tasks, request after request: tasks, current charged, difference,
    and the number of requests; `reads` becomes the walk's [Queries, items read]."""
    tasks = charged = difference = requests = 0
    reads[:] = [0, 0]
    cursor = None
    while True:
        response = function.invoke(copy.deepcopy(_event(size, cursor)))
        requests += 1
        reads[0] += function.module.backtests.last_reads.queries
        reads[1] += function.module.backtests.last_reads.items
        assert response["statusCode"] == 200, response
        body = json.loads(response["body"])
        tasks += body["tasks"]
        charged += body["current"]["charged"]["value"]
        difference += body["difference"]["value"]
        if not body["truncated"]:
            return tasks, charged, difference, requests
        assert body["truncated_reason"] == "deadline", body
        cursor = body["next_cursor"]


def backtest(quick: bool) -> dict[str, Any]:
    template = load_template()
    spec = template.functions()["PricingFunction"]
    settings = Settings.from_env(template.functions()["BillingFunction"].environment)
    sizes = (1_000, 10_000)
    results: dict[str, Any] = {"sizes": list(sizes)}
    with local_database():
        charger = Charger(in_process_ledger("us-east-1", settings))
        draft = AppPricing.model_validate(
            {**EVALUATE_BODY["pricing"], "prices": {"per_image": 250_000, "per_1k_tokens": 50_000}}
        )
        Wiring(Settings.from_env(spec.environment)).pricing().save_draft(APP, draft, 0, NOW)
        function = LocalFunction(spec)
        item_bytes: list[int] = []
        charged = 0
        for size in sizes:
            for index in range(len(item_bytes), size):
                # spread over 6 days, newest first, all inside the default 7-day window
                at = NOW - timedelta(seconds=(index * 51_840) // size * 10 + 60)
                record = charger.record(task_completed(f"bt_{index:06d}", TEAM, APP, at))
                charger.charge(record)
                item_bytes.append(item_size(record_item(record)))
                charged += record.charged
            runs = 2 if quick or size > 1_000 else 5
            handler, own, reads = [], [], [0, 0]
            with database_server_time() as server:
                for run in range(runs + 1):  # one warm-up: connections, compiled formulas
                    before = server[0]
                    start = time.perf_counter()
                    tasks, total, difference, requests = _walk(function, size, reads)
                    elapsed = time.perf_counter() - start
                    assert (tasks, total) == (size, charged), (tasks, total)
                    if run:
                        handler.append(elapsed * 1e6)
                        own.append((elapsed - (server[0] - before)) * 1e6)
            results[str(size)] = {
                "handler": summary(handler),
                "handler_without_db_server": summary(own),
                "queries": reads[0],
                "items_read": reads[1],
                "read_units": _read_units(item_bytes),
                "record_bytes": sum(item_bytes),
                "difference": difference,
                "requests": requests,
            }
    return results
