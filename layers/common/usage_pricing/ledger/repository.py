"""The ledger: billing records and the spend aggregates they feed, written together.

A charge is one DynamoDB transaction: the record, guarded by attribute_not_exists on its task
key, plus one update per aggregate granularity (their layout: storage.aggregates). A redelivered
or concurrent duplicate fails the guard and changes nothing, so a task is charged once however
often its event arrives. A refund is one transaction too: the record's refunded flag, guarded by
refunded = false, plus the same aggregate updates negated.

The record is indexed for the task list: by_team_time (gsi1) and by_team_app_time (gsi2), both
sorted by "{completed_at}#{task_id}" with completed_at fixed-width (microseconds always
present), so the index order is completed_at, then task id."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from usage_pricing.core.errors import StorageError
from usage_pricing.core.utc import sortable, utc_iso
from usage_pricing.ledger.aggregate_writer import (
    DimensionGuard,
    ShardPolicy,
    aggregate_updates,
    bound_usage,
)
from usage_pricing.ledger.aggregate_writer import shard_for as shard_for  # noqa: PLC0414 — re-exported for billing
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.storage.aggregates import (
    DEFAULT_SHARDS,
    DIMENSION_SETS,
    LAYOUT,
    Known,
    day_key,
    known_dimensions,
)
from usage_pricing.storage.dynamo import (
    error_code,
    from_dynamo,
    is_transient,
    storage_errors,
    to_dynamo,
    translate_client_error,
    translate_transport_error,
)
from usage_pricing.usage.meters import STORED

if TYPE_CHECKING:
    from usage_pricing.controls.charging import BudgetCharges
    from usage_pricing.core.deadline import WorkBudget

TRANSACTION_ATTEMPTS = 4
# Rounds of a charge whose day item has a full dimension (storage.aggregates, "Bounded
# dimensions"): the last round admits no new value and has no condition, so it always lands.
DIMENSION_ROUNDS = 3


# Rounds of a charge or refund whose budget items (usage_pricing.controls) were stale: each
# re-reads the counters. Past them the event is retried by its queue (nothing is lost).
CONTROL_ROUNDS = 8


class _ControlsStale(Exception):  # noqa: N818 — a signal between _transact and charge/refund
    """A budget item's condition failed: the budgets or counters changed since read."""


class _DimensionsFull(Exception):  # noqa: N818 — a signal between _transact and charge
    """A charge's day update failed its dimension condition: its item is full."""

    def __init__(self, key: dict[str, str]) -> None:
        super().__init__(key)
        self.key = key


class LedgerOutcome(StrEnum):
    WRITTEN = "written"
    DUPLICATE = "duplicate"  # already charged (or already refunded): nothing changed
    CONFLICT = "conflict"  # the task id was charged for different content: nothing changed


class RefundTargetMissingError(StorageError):
    """A refund for a task that has no billing record (yet): retried, then dead-lettered."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"no billing record for task {task_id} to refund", retryable=True)


class RefundTeamMismatchError(StorageError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} belongs to another team", retryable=False)


class RefundBeforeCompletionError(StorageError):
    """A refund dated before its task completed (less the clock-skew allowance): poison."""

    def __init__(self, task_id: str, refunded_at: datetime, earliest: datetime) -> None:
        super().__init__(
            f"invalid event: refunded_at {utc_iso(refunded_at)} is before {utc_iso(earliest)},"
            f" the earliest a refund of task {task_id} may be (its completed_at less the"
            " clock-skew allowance)",
            retryable=False,
        )


BY_TEAM = "by_team_time"
BY_TEAM_APP = "by_team_app_time"


def task_key(task_id: str) -> dict[str, str]:
    return {"pk": f"TASK#{task_id}"}


def team_partition(team_id: str) -> str:
    return f"TEAM#{team_id}"


def team_app_partition(team_id: str, app: str) -> str:
    return f"TEAM#{team_id}#APP#{app}"


# What a record was priced from (BillingRecord.priced_from, canonical JSON) is stored as the
# String `priced_from` up to this many UTF-8 bytes, and above it as the Binary `priced_from_z`:
# the same bytes zlib-compressed. Metadata compresses well (1,000 image items: 93 KB of JSON, 2 KB
# compressed); bench/records.py measures the largest inputs the limits allow.
INLINE_PRICED_FROM_BYTES = 1024
COMPRESSED_PRICED_FROM = "priced_from_z"


def encode_priced_from(text: str) -> dict[str, Any]:
    """The item attribute for a record's priced_from: nothing when empty, a String when small,
    else zlib-compressed Binary."""
    if not text:
        return {}
    raw = text.encode("utf-8")
    if len(raw) <= INLINE_PRICED_FROM_BYTES:
        return {"priced_from": text}
    return {COMPRESSED_PRICED_FROM: zlib.compress(raw, 6)}


def decode_priced_from(item: dict[str, Any]) -> str:
    compressed = item.get(COMPRESSED_PRICED_FROM)
    if compressed is None:
        text: str = item.get("priced_from", "")
        return text
    # boto3 reads a Binary as boto3.dynamodb.types.Binary (its bytes in .value); not imported
    # here: that module alone costs a handler's cold start about 20 ms.
    raw = bytes(getattr(compressed, "value", compressed))
    return zlib.decompress(raw).decode("utf-8")


def record_item(record: BillingRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude_none=True, exclude={"priced_from"})
    for optional in ("platform_fees", "meter_rates"):  # absent when empty: no bytes, no WCU
        if not data.get(optional):
            data.pop(optional, None)
    position = f"{sortable(record.completed_at)}#{record.task_id}"
    item: dict[str, Any] = to_dynamo(
        {
            **task_key(record.task_id),
            **data,
            "gsi1pk": team_partition(record.team_id),
            "gsi1sk": position,
            "gsi2pk": team_app_partition(record.team_id, record.app),
            "gsi2sk": position,
        }
    )
    item.update(encode_priced_from(record.priced_from))
    return item


def record_from_item(item: dict[str, Any]) -> BillingRecord:
    stored = {k: v for k, v in item.items() if k not in ("priced_from", COMPRESSED_PRICED_FROM)}
    fields = {k: v for k, v in from_dynamo(stored).items() if k in BillingRecord.model_fields}
    fields["priced_from"] = decode_priced_from(item)
    return BillingRecord.model_validate(fields, context={STORED: True})


class RecordReads:
    """What reading records through an index cost (the backtest's and audit's figures). A plain
    slotted class, not a dataclass: its generated methods would be exec'd at every cold start."""

    __slots__ = ("items", "queries", "read_units")

    def __init__(self, queries: int = 0, items: int = 0, read_units: float = 0.0) -> None:
        self.queries = queries
        self.items = items
        self.read_units = read_units  # as DynamoDB reports them (ReturnConsumedCapacity), if so


def _time_bound(moment: datetime) -> str:
    """A sort-key bound on the records' "{completed_at}#{task_id}" keys, whole seconds. Records
    indexed before sortable held completed_at as pydantic writes it (no fraction when it is 0),
    so keys within one second are not in time order among themselves: callers widen their
    bounds by a second and filter on completed_at."""
    return utc_iso(moment.replace(microsecond=0))


class LedgerRepository:
    def __init__(
        self,
        billing_table: Any,
        aggregates_table: Any,
        *,
        shards: int = DEFAULT_SHARDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.billing = billing_table
        self.aggregates = aggregates_table
        self.client = billing_table.meta.client
        self.shards = shards
        self.shard_policy = ShardPolicy(shards)
        self.sleep = sleep
        # Spend controls (usage_pricing.controls.charging): the budget items of each charge and
        # refund, in the same transaction; None where no budgets are wired (tools, tests).
        self.controls: BudgetCharges | None = None

    def get(self, task_id: str) -> BillingRecord | None:
        with storage_errors("read billing record"):
            item = self.billing.get_item(Key=task_key(task_id), ConsistentRead=True).get("Item")
        return None if item is None else record_from_item(item)

    def records(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        *,
        app: str | None = None,
        newest_first: bool = False,
        stats: RecordReads | None = None,
        unreadable: Callable[[dict[str, Any], ValueError], None] | None = None,
    ) -> Iterator[BillingRecord]:
        """The team's records (of one app, through by_team_app_time; else through by_team_time)
        completed in [start, end), page by page. GSIs are eventually consistent: a record billed
        a moment ago may not be read yet. An item that is no valid record raises, or goes to
        `unreadable` when given (the audit reports it)."""
        for _, record in self.keyed_records(
            team_id,
            start,
            end,
            app=app,
            newest_first=newest_first,
            stats=stats,
            unreadable=unreadable,
        ):
            yield record

    def keyed_records(
        self,
        team_id: str,
        start: datetime,
        end: datetime,
        *,
        app: str | None = None,
        newest_first: bool = False,
        stats: RecordReads | None = None,
        unreadable: Callable[[dict[str, Any], ValueError], None] | None = None,
        before: str | None = None,
        budget: WorkBudget | None = None,
        page_size: int | None = None,
    ) -> Iterator[tuple[str, BillingRecord]]:
        """`records`, each with its index key (its position in the index's order). `before`
        (newest first only) continues below a key already read; `budget`
        (usage_pricing.core.deadline) is asked before every Query but the first, and when it
        says no
        the records simply end (the caller reads `budget.stopped`); `page_size` caps a Query's
        Limit (and so what one Query costs in time)."""
        if app is None:
            index, key, partition = BY_TEAM, "gsi1", team_partition(team_id)
        else:
            index, key, partition = BY_TEAM_APP, "gsi2", team_app_partition(team_id, app)
        low = _time_bound(start - timedelta(seconds=1))
        high = _time_bound(end + timedelta(seconds=1)) + "~"
        if before is not None:
            if not newest_first:
                raise ValueError("before continues a newest-first read")
            high = min(high, before)
        if low > high:  # nothing to read: inverted key bounds are a ValidationException
            return
        request: dict[str, Any] = {
            "IndexName": index,
            # A plain expression: boto3.dynamodb.conditions (and the types module it loads) would
            # cost the pricing function's cold start about 20 ms.
            "KeyConditionExpression": f"{key}pk = :partition AND {key}sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":partition": partition, ":low": low, ":high": high},
            "ScanIndexForward": not newest_first,
            "ReturnConsumedCapacity": "TOTAL",
        }
        sort_key = f"{key}sk"
        first = True
        while True:
            if budget is not None:
                if not first and not budget.allows():
                    return
                if page_size is not None:
                    request["Limit"] = max(1, min(page_size, budget.items_left()))
            elif page_size is not None:
                request["Limit"] = page_size
            first = False
            with storage_errors("read billing records"):
                page = self.billing.query(**request)
            if budget is not None:
                budget.spend(items=len(page["Items"]))
            if stats is not None:
                stats.queries += 1
                stats.items += len(page["Items"])
                stats.read_units += float(
                    (page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0
                )
            for item in page["Items"]:
                position = str(item.get(sort_key, ""))
                if before is not None and position >= before:
                    continue  # BETWEEN is inclusive: the key already read
                try:
                    record = record_from_item(item)
                except (ValueError, zlib.error) as error:  # pydantic's ValidationError is one
                    if unreadable is None:
                        raise
                    unreadable(item, ValueError(str(error)))
                    continue
                if start <= record.completed_at < end:
                    yield position, record
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def charge(self, record: BillingRecord) -> LedgerOutcome:
        """Write the record and its aggregates in one transaction. The record keeps its usage as
        the aggregates counted it: a dimension value its day item has no room for is OTHER
        (storage.aggregates, "Bounded dimensions"), so no sequence of events makes a task
        unbillable."""
        known: dict[tuple[str, str], Known] = {}

        def attempt(number: int, final: bool) -> list[dict[str, Any]]:
            shard = self.shard_policy.choose(record.team_id, record.app, record.task_id, number)
            key = day_key(record.team_id, shard, record.completed_at, record.app)
            seen = known.get((key["pk"], key["sk"]))
            usage, admitted = bound_usage(record.usage, seen, final=final)
            stored = record.model_copy(
                update={"shard": shard, "aggregate_layout": LAYOUT, "usage": usage}
            )
            put = {
                "Put": {
                    "TableName": self.billing.name,
                    "Item": record_item(stored),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            guard = DimensionGuard(admitted, seen)
            budgets = self.controls.charge_items(stored) if self.controls else []
            return [put, *aggregate_updates(stored, self.aggregates.name, guard=guard), *budgets]

        def contended() -> None:
            self.shard_policy.contended(record.team_id, record.app)

        round_ = stale = 0
        while True:
            final = round_ + 1 >= DIMENSION_ROUNDS
            try:
                outcome = self._transact(partial(attempt, final=final), "charge task", contended)
                break
            except _DimensionsFull as full:
                if final:  # pragma: no cover — the final round has no dimension condition
                    raise AssertionError(
                        "a charge's final round cannot find its dimensions full"
                    ) from full
                known[(full.key["pk"], full.key["sk"])] = self._dimensions(full.key)
                round_ += 1
            except _ControlsStale:
                stale = self._stale_budgets(record.team_id, stale)
        if outcome is LedgerOutcome.DUPLICATE:
            existing = self.get(record.task_id)
            # Records written before fingerprints existed cannot be told apart: a duplicate.
            if existing is not None and existing.fingerprint not in ("", record.fingerprint):
                return LedgerOutcome.CONFLICT
        return outcome

    def refund(
        self,
        task_id: str,
        team_id: str,
        reason: str,
        refunded_at: datetime,
        *,
        skew: timedelta = timedelta(0),
    ) -> LedgerOutcome:
        """Mark the record refunded and reverse its aggregates, in one transaction. A refund
        dated more than `skew` before the task completed is refused (poison)."""
        record = self.get(task_id)
        if record is None:
            raise RefundTargetMissingError(task_id)
        if record.team_id != team_id:
            raise RefundTeamMismatchError(task_id)
        if refunded_at < record.completed_at - skew:
            raise RefundBeforeCompletionError(task_id, refunded_at, record.completed_at - skew)
        if record.refunded:
            return LedgerOutcome.DUPLICATE
        mark = {
            "Update": {
                "TableName": self.billing.name,
                "Key": task_key(task_id),
                "UpdateExpression": (
                    "SET refunded = :true, refunded_at = :at, refund_reason = :reason"
                ),
                "ConditionExpression": "attribute_exists(pk) AND refunded = :false",
                "ExpressionAttributeValues": {
                    ":true": True,
                    ":false": False,
                    ":at": utc_iso(refunded_at),
                    ":reason": reason,
                },
            }
        }
        updates = aggregate_updates(record, self.aggregates.name, refund=True)
        stale = 0
        while True:
            try:
                return self._transact(
                    lambda _attempt: [
                        mark,
                        *updates,
                        *(self.controls.refund_items(record) if self.controls else []),
                    ],
                    "refund task",
                )
            except _ControlsStale:
                stale = self._stale_budgets(team_id, stale)

    def _stale_budgets(self, team_id: str, rounds: int) -> int:
        """Forget the team's cached budgets and go again, a bounded number of times."""
        if self.controls is not None:
            self.controls.stale(team_id)
        if rounds + 1 >= CONTROL_ROUNDS:
            raise StorageError("budget counters are contended: retried later", retryable=True)
        self.sleep(0.005 * 2**rounds)
        return rounds + 1

    def _dimensions(self, key: dict[str, str]) -> Known:
        """The values a day item counts per dimension: one consistent read, made only when a
        charge found a dimension of that item full."""
        names = {f"#s{i}": name for i, name in enumerate(DIMENSION_SETS)}
        with storage_errors("read aggregate dimensions"):
            found = self.aggregates.get_item(
                Key=key,
                ConsistentRead=True,
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        return known_dimensions(found.get("Item"))

    def aggregate_updates(
        self, record: BillingRecord, *, refund: bool = False
    ) -> list[dict[str, Any]]:
        """The aggregate Updates the record's charge makes (with refund, its refund's), exactly
        as the billing transaction sends them (storage.aggregates): what the audit replays."""
        return aggregate_updates(record, self.aggregates.name, refund=refund)

    def _transact(
        self,
        build: Callable[[int], list[dict[str, Any]]],
        action: str,
        contended: Callable[[], None] = lambda: None,
    ) -> LedgerOutcome:
        """Run the transaction `build(attempt)` returns, retrying contention with back-off (each
        attempt may build its items anew: a charge moves to another aggregate shard)."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            items = build(attempt)
            try:
                self.client.transact_write_items(TransactItems=items)
                return LedgerOutcome.WRITTEN
            except ClientError as error:
                code = error_code(error)
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if code == "TransactionCanceledException" and reasons[:1] == [
                    "ConditionalCheckFailed"
                ]:
                    return LedgerOutcome.DUPLICATE
                if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                    # The record's guard held; an aggregate's condition did not: only a
                    # charge's day update has one (its dimension sets are full).
                    failed = items[reasons.index("ConditionalCheckFailed")]
                    operation = next(iter(failed.values()))
                    if self.controls and operation["TableName"] == self.controls.table_name:
                        raise _ControlsStale from error
                    raise _DimensionsFull(failed["Update"]["Key"]) from error
                # A transaction conflict is transient too (storage.dynamo.is_transient); so is a
                # hot item's throttling: either way this app's charges now spread over shards.
                transient = is_transient(error)
                if transient:
                    contended()
                if transient and attempt + 1 < TRANSACTION_ATTEMPTS:
                    # A concurrent duplicate or a hot item: back off and let the guard decide.
                    self.sleep(0.05 * 2**attempt)
                    continue
                raise translate_client_error(error, action) from error
            except BotoCoreError as error:
                # Not retried here: a timed-out write may have committed. The message goes back
                # to the queue, and the redelivery meets the task-key guard if it did.
                raise translate_transport_error(error, action) from error
        raise AssertionError("unreachable")  # pragma: no cover
