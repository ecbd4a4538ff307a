"""What a charge and a refund write to the spend aggregates (their layout is
usage_pricing.storage.aggregates): the counters of a record, the Updates of one transaction,
bounded dimensions (no event sequence grows an item without bound) and the shard policy for hot
apps. storage.aggregates's docstring explains the layout and why."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from usage_pricing.storage.aggregates import (
    CALLS,
    COST,
    DIMENSION_LIMITS,
    LAYOUT,
    LAYOUT_CALLS,
    MINUTE_RETENTION,
    OTHER,
    REFUNDED_CALLS,
    REFUNDED_COST,
    USAGE_DIMENSIONS,
    USAGE_TOTAL,
    Granularity,
    Known,
    dimension_set,
    fee_calls,
    fee_share,
    item_key,
    slot_counters,
    tier_calls,
    tier_cost,
    usage_counter,
)

if TYPE_CHECKING:  # records imports pydantic models this module does not need at run time
    from usage_pricing.ledger.records import BillingRecord


def record_counters(record: BillingRecord, layout: int = LAYOUT) -> dict[str, int]:
    """What one charge adds to every item it touches (slots aside). Zero counters are left out,
    so they never take space in an item."""
    counters: dict[str, int] = {COST: record.charged, CALLS: 1}
    for event in record.usage:
        for name in (
            usage_counter("tier", event.tier),
            usage_counter("type", event.type),
            usage_counter("model", event.model),
            USAGE_TOTAL,
        ):
            counters[name] = counters.get(name, 0) + event.seconds
    if layout >= LAYOUT:
        counters[LAYOUT_CALLS] = 1
        for group, share in record.shares().items():
            if share:
                counters[fee_share(group)] = share
                counters[fee_calls(group)] = 1
        counters[tier_cost(record.tier)] = record.charged
        counters[tier_calls(record.tier)] = 1
    return {name: value for name, value in counters.items() if value}


def aggregate_updates(
    record: BillingRecord,
    table_name: str,
    *,
    refund: bool = False,
    guard: DimensionGuard | None = None,
) -> list[dict[str, Any]]:
    """The TransactWriteItems Updates a charge of `record` makes (or, with refund, the ones that
    reverse it), one per granularity, on the shard the record names. A refund reverses what the
    charge wrote under the record's own layout. A charge passes its `guard`: the day update then
    also adds the record's dimension values to the item's sets, under the guard's condition
    ("Bounded dimensions" above). Without one (a refund, the audit's replay) only counters move."""
    layout = record.aggregate_layout
    counters = record_counters(record, layout)
    sign = -1 if refund else 1
    deltas = {name: sign * value for name, value in counters.items()}
    if refund:
        deltas[REFUNDED_COST] = record.charged
        deltas[REFUNDED_CALLS] = 1
    updates = []
    for granularity in Granularity:
        item = dict(deltas)
        if granularity is Granularity.DAY and layout >= LAYOUT:
            item.update(
                slot_counters(
                    record.completed_at,
                    sign * record.charged,
                    sign,
                    record.charged if refund else 0,
                )
            )
        item = {name: value for name, value in item.items() if value}
        names = {f"#c{i}": name for i, name in enumerate(item)}
        values: dict[str, Any] = {f":c{i}": value for i, value in enumerate(item.values())}
        expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(item)))
        sets = ["#app = :app"]
        names["#app"] = "app"
        values[":app"] = record.app
        if granularity is Granularity.MINUTE:
            sets.append("#expires = :expires")
            names["#expires"] = "expires_at"
            values[":expires"] = int((record.completed_at + MINUTE_RETENTION).timestamp())
        update: dict[str, Any] = {
            "TableName": table_name,
            "Key": item_key(
                record.team_id, granularity, record.shard, record.completed_at, record.app
            ),
            "UpdateExpression": f"{expression} SET {', '.join(sets)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if granularity is Granularity.DAY and guard is not None:
            guard.apply(update)
        updates.append({"Update": update})
    return updates


# ---- bounded dimensions -----------------------------------------------------------------------


def _distinct(usage: Iterable[Any], dimension: str) -> list[str]:
    return [v for v in dict.fromkeys(getattr(e, dimension) for e in usage) if v != OTHER]


def bound_usage(
    usage: Sequence[Any], known: Known | None, *, final: bool = False
) -> tuple[list[Any], dict[str, list[str]]]:
    """A charge's usage events with every value the day item cannot count replaced by OTHER, and
    the values admitted per dimension. Not knowing the item (`known` None), a charge admits up to
    the limit of its own values and lets the condition decide; knowing it, it admits what the
    item counts plus new values while there is room; a final round admits only what the item
    already counts (nothing when it is unknown), so its update needs no condition."""
    admitted: dict[str, list[str]] = {}
    for dimension in USAGE_DIMENSIONS:
        limit = DIMENSION_LIMITS[dimension]
        values = _distinct(usage, dimension)
        if known is None:
            admitted[dimension] = [] if final else values[:limit]
            continue
        counted = known.get(dimension, frozenset())
        room = 0 if final else max(0, limit - len(counted))
        keep: list[str] = []
        for value in values:
            if value in counted:
                keep.append(value)
            elif room:
                keep.append(value)
                room -= 1
        admitted[dimension] = keep
    allowed = {dimension: set(values) for dimension, values in admitted.items()}
    bounded = []
    for event in usage:
        changes = {
            dimension: OTHER
            for dimension in USAGE_DIMENSIONS
            if getattr(event, dimension) not in allowed[dimension]
        }
        bounded.append(event.model_copy(update=changes) if changes else event)
    return bounded, admitted


class DimensionGuard:
    """What a charge's day update adds to the item's dimension sets, and the condition that keeps
    each set within its limit. Unknown item: room for all of this charge's values, or all of them
    already counted. Known item: room for the values it does not count yet (or no condition)."""

    __slots__ = ("admitted", "known")

    def __init__(self, admitted: dict[str, list[str]], known: Known | None) -> None:
        self.admitted = admitted
        self.known = known

    def apply(self, update: dict[str, Any]) -> None:
        names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
        adds: list[str] = []
        conditions: list[str] = []
        for index, dimension in enumerate(USAGE_DIMENSIONS):
            admitted = self.admitted.get(dimension, [])
            if not admitted:
                continue
            name, value = f"#d{index}", f":d{index}"
            names[name] = dimension_set(dimension)
            values[value] = set(admitted)
            adds.append(f"{name} {value}")
            limit = DIMENSION_LIMITS[dimension]
            if self.known is None:
                members = []
                for member, text in enumerate(admitted):
                    values[f":d{index}m{member}"] = text
                    members.append(f"contains({name}, :d{index}m{member})")
                values[f":d{index}room"] = limit - len(admitted)
                conditions.append(
                    f"(attribute_not_exists({name}) OR size({name}) <= :d{index}room"
                    f" OR ({' AND '.join(members)}))"
                )
            else:
                new = [v for v in admitted if v not in self.known.get(dimension, frozenset())]
                if new:
                    values[f":d{index}room"] = limit - len(new)
                    conditions.append(
                        f"(attribute_not_exists({name}) OR size({name}) <= :d{index}room)"
                    )
        if not adds:
            return
        add, _, rest = update["UpdateExpression"].partition(" SET ")
        update["UpdateExpression"] = f"{add}, {', '.join(adds)} SET {rest}"
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)


# ---- shards -----------------------------------------------------------------------------------

HOT_SECONDS = 300.0
MAX_HOT_KEYS = 10_000


def shard_for(task_id: str, shards: int) -> int:
    """A stable pseudo-random shard for a task id."""
    return int.from_bytes(hashlib.blake2b(task_id.encode(), digest_size=4).digest(), "big") % shards


class ShardPolicy:
    """Which shard a charge writes. A (team, app) writes shard 0 until its writes meet
    contention; then, for HOT_SECONDS after the last contention this process saw, its charges
    spread over every shard by task id, and a retried charge moves to another shard. Per process
    (a Lambda container): each container finds out for itself, after one contended write."""

    def __init__(self, shards: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.shards = shards
        self.clock = clock
        self._hot: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def choose(self, team_id: str, app: str, task_id: str, attempt: int) -> int:
        if self.shards == 1:
            return 0
        spread = shard_for(task_id, self.shards)
        if not self.is_hot(team_id, app):
            if attempt == 0:
                return 0
            # Shard 0 was contended: away from it.
            return 1 + (spread + attempt) % (self.shards - 1)
        return (spread + attempt) % self.shards

    def is_hot(self, team_id: str, app: str) -> bool:
        until = self._hot.get((team_id, app))
        return until is not None and until > self.clock()

    def contended(self, team_id: str, app: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._hot) >= MAX_HOT_KEYS:
                self._hot = {k: v for k, v in self._hot.items() if v > now}
                if len(self._hot) >= MAX_HOT_KEYS:
                    self._hot.pop(next(iter(self._hot)))
            self._hot[(team_id, app)] = now + HOT_SECONDS
