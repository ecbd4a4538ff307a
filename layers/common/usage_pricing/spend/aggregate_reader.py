"""Reads of the spend aggregates (their layout is usage_pricing.storage.aggregates): one Query
per shard over a bucket-key range, asking only for the counters the caller needs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from usage_pricing.core.errors import AnswerTooLargeError
from usage_pricing.core.limits import MAX_AGGREGATE_ITEMS
from usage_pricing.storage.aggregates import (
    DEFAULT_SHARDS,
    Cell,
    Granularity,
    decode_item,
    partition_key,
)
from usage_pricing.storage.dynamo import storage_errors

if TYPE_CHECKING:
    from usage_pricing.core.deadline import WorkBudget


class ReadStats:
    __slots__ = ("items", "queries", "scanned")

    def __init__(self, items: int = 0, queries: int = 0, scanned: int = 0) -> None:
        self.items = items  # returned
        self.queries = queries
        self.scanned = scanned  # evaluated: returned, or passed over by an app filter


_RAW_ITEMS = threading.local()
_RAW_HOOK_ID = "usage-pricing-aggregate-items"


def _lift_items(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    if not getattr(_RAW_ITEMS, "active", False) or response_dict.get("status_code", 500) >= 300:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes) or not body.startswith(b"{"):
        return
    document = json.loads(body)
    items = document.pop("Items", None)
    if isinstance(items, list):
        customized_response_dict["Items"] = items
        response_dict["body"] = json.dumps(document).encode()


class AggregateRepository:
    """Reads of the aggregates: one Query per shard over a bucket-key range, asking only for the
    counters the caller needs, optionally only for some apps."""

    def __init__(
        self,
        table: Any,
        *,
        shards: int = DEFAULT_SHARDS,
        max_items: int = MAX_AGGREGATE_ITEMS,
        consistent: bool = False,
    ) -> None:
        self.table = table
        self.shards = shards
        self.max_items = max_items
        # Consistent reads (twice the read units) for what decides money: a budget's seed must
        # see every charge committed before it, never an eventually consistent past.
        self.consistent = consistent
        self.stats = ReadStats()
        client = getattr(getattr(table, "meta", None), "client", None)
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None and hasattr(events, "register"):
            events.register("before-parse.dynamodb.Query", _lift_items, unique_id=_RAW_HOOK_ID)

    def read(
        self,
        team_id: str,
        granularity: Granularity,
        first_bucket: str,
        last_bucket: str,
        *,
        counters: Sequence[str] | None = None,
        apps: Iterable[str] | None = None,
        budget: WorkBudget | None = None,
    ) -> list[Cell]:
        """Every item of the team from first_bucket to last_bucket (bucket keys, inclusive), shard
        by shard, not summed. `counters` None reads every counter. More than `max_items` items
        evaluated (returned, or passed over by the app filter) is a 422 (AnswerTooLargeError),
        raised as soon as the count passes it: a read never runs without bound, whatever the
        number of apps a team has. With a `budget`, each Query asks it first and spends from it:
        one it refuses (its Queries, items or deadline) is the same 422, before the Query."""
        found: list[Cell] = []
        names = {"#pk": "pk", "#sk": "sk"}
        values: dict[str, Any] = {":first": first_bucket, ":last": f"{last_bucket}#~"}
        request: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
        }
        if counters is not None:
            wanted = ["sk", *dict.fromkeys(counters)]
            for index, name in enumerate(wanted):
                names[f"#p{index}"] = name
            request["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(wanted)))
        app_list = sorted(set(apps)) if apps is not None else None
        if app_list is not None:
            names["#app"] = "app"
            for index, app in enumerate(app_list):
                values[f":a{index}"] = app
            request["FilterExpression"] = (
                "#app IN (" + ", ".join(f":a{i}" for i in range(len(app_list))) + ")"
            )
        request["ExpressionAttributeNames"] = names
        evaluated = 0
        if self.consistent:
            request["ConsistentRead"] = True
        for shard in range(self.shards):
            values[":pk"] = partition_key(team_id, granularity, shard)
            request["ExpressionAttributeValues"] = values
            request.pop("ExclusiveStartKey", None)
            while True:
                if budget is not None and not budget.allows():
                    raise AnswerTooLargeError(
                        "this answer would take more aggregate reads than this request may make "
                        "(its Queries, items or time): narrow the window or filter the apps"
                    )
                _RAW_ITEMS.active = True
                try:
                    with storage_errors("read spend aggregates"):
                        page = self.table.query(**request)
                finally:
                    _RAW_ITEMS.active = False
                self.stats.queries += 1
                items = page.get("Items", [])
                self.stats.items += len(items)
                # What DynamoDB evaluated, not what it returned: an app filter is applied after
                # the read (the sort key is bucket#app), so it narrows the answer, not the work.
                scanned = int(page.get("ScannedCount", len(items)))
                evaluated += scanned
                self.stats.scanned += scanned
                if budget is not None:
                    budget.spend(items=scanned)
                found.extend(decode_item(item) for item in items)
                if evaluated > self.max_items:
                    raise AnswerTooLargeError(
                        f"this answer would read more than {self.max_items:,} aggregate items (one "
                        "per bucket, app and shard"
                        + (
                            ", whatever the app filter: it narrows the answer, not the read): "
                            "narrow the window or choose a coarser bucket"
                            if app_list is not None
                            else "): narrow the window, choose a coarser bucket or filter the apps"
                        )
                    )
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found
