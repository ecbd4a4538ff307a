"""The task list's reads: a team's billing records in completion order, from the record GSIs.

by_team_time holds every record of a team, by_team_app_time those of one app; both sort by
"{completed_at}#{task_id}" (storage.ledger.time_key), which is the list's order and its paging
position. Several apps are several partitions: their Queries are merged by that key, each read
lazily, so a page reads about as many records as it returns."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

from ..records import BillingRecord
from .dynamo import storage_errors
from .ledger import BY_TEAM, BY_TEAM_APP, record_from_item, team_app_partition, team_partition

# A page reads what a task's cost shows, not what it was priced from (priced_from, and the
# compressed priced_from_z, which is no model field, are never read): fields left out of the
# projection must have defaults (a new required field of the record is read like any other).
LEFT_OUT = ("usage", "fingerprint", "priced_from", "platform_fees", "shard", "function")
PROJECTED = tuple(
    name
    for name, spec in BillingRecord.model_fields.items()
    if name not in LEFT_OUT or spec.is_required()
)

# What the status filter matches: a task status, or a billing outcome.
TASK_STATUSES = ("completed", "failed", "cancelled")
BILLING_STATUSES = ("refunded", "needs_review")


class IndexStats:
    """What the index reads cost. A plain slotted class, not a dataclass: its generated methods
    would be exec'd at every cold start."""

    __slots__ = ("queries", "returned", "scanned")

    def __init__(self, queries: int = 0, scanned: int = 0, returned: int = 0) -> None:
        self.queries = queries
        self.scanned = scanned  # records the Queries read (before the status filter)
        self.returned = returned


def _status_filter(statuses: Iterable[str]) -> tuple[str, dict[str, str], dict[str, Any]] | None:
    wanted = set(statuses)
    if not wanted:
        return None
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    tasks = [s for s in TASK_STATUSES if s in wanted]
    if tasks:
        names["#status"] = "status"
        for index, status in enumerate(tasks):
            values[f":s{index}"] = status
        parts.append("#status IN (" + ", ".join(f":s{i}" for i in range(len(tasks))) + ")")
    if "refunded" in wanted:
        names["#refunded"] = "refunded"
        values[":true"] = True
        parts.append("#refunded = :true")
    if "needs_review" in wanted:
        names["#billing_status"] = "billing_status"
        values[":needs_review"] = "needs_review"
        parts.append("#billing_status = :needs_review")
    return " OR ".join(parts), names, values


class TaskIndex:
    def __init__(self, billing_table: Any) -> None:
        self.table = billing_table
        self.stats = IndexStats()

    def page(
        self,
        team_id: str,
        low: str,
        high: str,
        *,
        after: str | None,
        limit: int,
        apps: Iterable[str] = (),
        statuses: Iterable[str] = (),
    ) -> tuple[list[tuple[str, BillingRecord]], bool]:
        """Up to `limit` records whose index key lies in [low, high) and after `after`, in
        order, each with its key; and whether more remain."""
        app_list = sorted(set(apps))
        status_filter = _status_filter(statuses)
        start = max(low, after) if after is not None else low
        if app_list:
            chunk = max(8, (limit + 2) // len(app_list) + 2)
            streams = [
                self._partition(
                    index=BY_TEAM_APP,
                    prefix="gsi2",
                    partition=team_app_partition(team_id, a),
                    low=start,
                    high=high,
                    status_filter=status_filter,
                    chunk=chunk,
                )
                for a in app_list
            ]
            merged: Iterator[tuple[str, dict[str, Any]]] = heapq.merge(
                *streams, key=lambda pair: pair[0]
            )
        else:
            merged = self._partition(
                index=BY_TEAM,
                prefix="gsi1",
                partition=team_partition(team_id),
                low=start,
                high=high,
                status_filter=status_filter,
                chunk=limit + 2,
            )
        found: list[tuple[str, BillingRecord]] = []
        for key, item in merged:
            if after is not None and key <= after:
                continue
            if len(found) == limit:
                return found, True
            found.append((key, record_from_item(item)))
            self.stats.returned += 1
        return found, False

    def _partition(
        self,
        *,
        index: str,
        prefix: str,
        partition: str,
        low: str,
        high: str,
        status_filter: tuple[str, dict[str, str], dict[str, Any]] | None,
        chunk: int,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        sort_name = f"{prefix}sk"
        request: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {
                "#pk": f"{prefix}pk",
                "#sk": sort_name,
                **{f"#f{i}": name for i, name in enumerate(PROJECTED)},
            },
            "ProjectionExpression": ", ".join(["#sk", *(f"#f{i}" for i in range(len(PROJECTED)))]),
            "ExpressionAttributeValues": {":pk": partition, ":low": low, ":high": high},
            "Limit": chunk,
        }
        if status_filter is not None:
            expression, names, values = status_filter
            request["FilterExpression"] = expression
            request["ExpressionAttributeNames"].update(names)
            request["ExpressionAttributeValues"].update(values)
        while True:
            with storage_errors("read the task list"):
                page = self.table.query(**request)
            self.stats.queries += 1
            self.stats.scanned += int(page.get("ScannedCount", 0))
            for item in page.get("Items", []):
                yield str(item[sort_name]), item
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
