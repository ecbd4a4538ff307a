"""The task list's reads: a team's billing records in completion order, from the record GSIs.

by_team_time holds every record of a team, by_team_app_time those of one app; both sort by
"{completed_at}#{task_id}" (storage.ledger.sortable), which is the list's order and its paging
position. Several apps are several partitions: their Queries are merged by that key.

Every page is bounded (docs/api.md): its Queries ask a WorkBudget (usage_pricing.core.deadline)
first, so
a page reads at most the budget's items in at most its Query calls, and stops at its deadline.
Without a status filter a page reads about as many records as it returns. The status filter is
no key of an index: DynamoDB applies a Query's Limit before its FilterExpression, so a filtered
Query reads FILTERED_PAGE items per call whatever `limit` is, and a page may stop, for its budget,
with fewer rows than `limit` (even none). It then says where its reads stopped: the position up
to which every partition's records were all read (and every match among them returned), from
which the next page continues. So the pages concatenate to the window's matches, none twice.

Newest first (`descending`) is the same walk mirrored: each Query reads its partition backwards
(ScanIndexForward=False), the partitions are merged by the largest key, a page continues below
its position, and a page the budget stops returns the matches at or above the highest key down
to which every unfinished partition was read. Both orders cut the same window by the same key,
so a walk newest first is exactly the reverse of a walk oldest first."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import (
    BY_TEAM,
    BY_TEAM_APP,
    record_from_item,
    team_app_partition,
    team_partition,
)
from usage_pricing.storage.dynamo import storage_errors

if TYPE_CHECKING:
    from usage_pricing.core.deadline import WorkBudget

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
# Items a filtered Query evaluates per call (DynamoDB's Limit, applied before the filter), split
# between the partitions of an app filter; never tied to the page's `limit`.
FILTERED_PAGE = 500


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


class IndexPage(NamedTuple):
    """Up to `limit` records with their index keys, in order; and where the next page starts:
    None when the window holds no more, else the key after which it continues (the last record
    returned, or the position the reads stopped at for the budget)."""

    found: list[tuple[str, BillingRecord]]
    resume_after: str | None


class _Partition:
    """One partition's Query, read a page at a time on demand, in the page's order. `through`
    is the key up to which its records were all read: the last evaluated key of its latest
    page, or, once done, the far end of its range (`end`: the window's high end oldest first,
    its low end newest first)."""

    __slots__ = ("buffer", "done", "end", "request", "sort_name", "through")

    def __init__(self, request: dict[str, Any], sort_name: str, begin: str, end: str) -> None:
        self.request = request
        self.sort_name = sort_name
        self.buffer: deque[tuple[str, dict[str, Any]]] = deque()
        self.done = False
        self.through = begin
        self.end = end

    def fetch(self, table: Any, limit: int) -> int:
        """Read one page of at most `limit` items; the items it evaluated."""
        self.request["Limit"] = limit
        with storage_errors("read the task list"):
            page = table.query(**self.request)
        for item in page.get("Items", []):
            self.buffer.append((str(item[self.sort_name]), item))
        last = page.get("LastEvaluatedKey")
        if last is None:
            self.done, self.through = True, self.end
        else:
            self.request["ExclusiveStartKey"] = last
            self.through = str(last[self.sort_name])
        return int(page.get("ScannedCount", len(page.get("Items", []))))


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
        budget: WorkBudget,
        apps: Iterable[str] = (),
        statuses: Iterable[str] = (),
        descending: bool = False,
    ) -> IndexPage:
        """Up to `limit` records whose index key lies in [low, high) and past `after` (after it
        oldest first, before it newest first), in order, read within `budget` (each partition's
        first Query is made whatever the deadline, so every page moves forward)."""
        app_list = sorted(set(apps))
        status_filter = _status_filter(statuses)
        # The range still to read, [begin … end] in the page's order: oldest first from `after`
        # up to `high`, newest first from `after` down to `low`.
        if descending:
            begin, end = (min(high, after) if after is not None else high), low
            bottom, top = end, begin
        else:
            begin, end = (max(low, after) if after is not None else low), high
            bottom, top = begin, end
        if bottom >= top:  # an empty window; inverted bounds never reach DynamoDB (a 400 there)
            return IndexPage([], None)

        def ahead(key: str, mark: str) -> bool:
            """`key` comes before `mark` in the page's order."""
            return key > mark if descending else key < mark

        first_of = max if descending else min
        sources = [(BY_TEAM_APP, "gsi2", team_app_partition(team_id, a)) for a in app_list]
        parts = [
            self._partition(
                source,
                low=bottom,
                high=top,
                status_filter=status_filter,
                descending=descending,
            )
            for source in sources or [(BY_TEAM, "gsi1", team_partition(team_id))]
        ]
        if status_filter is not None:
            chunk = max(1, min(FILTERED_PAGE, budget.max_items // (2 * len(parts))))
        else:
            chunk = max(8, (limit + 2) // len(parts) + 2) if app_list else limit + 2

        def read(part: _Partition, first: bool) -> None:
            size = min(chunk, budget.items_left()) if status_filter is not None else chunk
            # The first read starts at `after` itself (BETWEEN is inclusive), which it skips:
            # two items at least, so that a page always moves past its cursor.
            scanned = part.fetch(self.table, max(2 if first else 1, size))
            budget.spend(items=scanned)
            self.stats.queries += 1
            self.stats.scanned += scanned
            while part.buffer and after is not None and not ahead(after, part.buffer[0][0]):
                part.buffer.popleft()

        def fill(part: _Partition) -> bool:
            """Read `part` until it holds a record or is done; False when the budget stops it."""
            while not part.buffer and not part.done:
                if not budget.allows():
                    return False
                read(part, first=False)
            return True

        # Every partition's first read, whatever the budget says, and before any second one: so
        # every page moves on, and the partitions' reads move on together.
        for part in parts:
            read(part, first=True)
        found: list[tuple[str, BillingRecord]] = []
        blocked = [p for p in parts if not fill(p)]
        while not blocked:
            live = [p for p in parts if p.buffer]
            if not live:
                return IndexPage(found, None)  # every partition read to the window's end
            part = first_of(live, key=lambda p: p.buffer[0][0])
            if len(found) == limit:
                return IndexPage(found, found[-1][0])
            key, item = part.buffer.popleft()
            found.append((key, record_from_item(item)))
            self.stats.returned += 1
            if not fill(part):
                blocked.append(part)
        # Stopped by the budget: every record up to the `through` nearest the page's start of
        # the partitions not read to the end was read (the lowest oldest first, the highest
        # newest first; no record returned so far lies past it, as each such partition's
        # `through` is no further than its next record); return the matches up to it, and
        # resume past it.
        horizon = first_of(p.through for p in parts if not p.done)
        while len(found) < limit:
            live = [p for p in parts if p.buffer and not ahead(horizon, p.buffer[0][0])]
            if not live:
                return IndexPage(found, horizon)
            part = first_of(live, key=lambda p: p.buffer[0][0])
            key, item = part.buffer.popleft()
            found.append((key, record_from_item(item)))
            self.stats.returned += 1
        return IndexPage(found, found[-1][0])

    @staticmethod
    def _partition(
        source: tuple[str, str, str],
        *,
        low: str,
        high: str,
        status_filter: tuple[str, dict[str, str], dict[str, Any]] | None,
        descending: bool = False,
    ) -> _Partition:
        index, prefix, partition = source  # index name, key prefix, partition key
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
        }
        if status_filter is not None:
            expression, names, values = status_filter
            request["FilterExpression"] = expression
            request["ExpressionAttributeNames"].update(names)
            request["ExpressionAttributeValues"].update(values)
        if descending:
            request["ScanIndexForward"] = False
            return _Partition(request, sort_name, begin=high, end=low)
        return _Partition(request, sort_name, begin=low, end=high)
