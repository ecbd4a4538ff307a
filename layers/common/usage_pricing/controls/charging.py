"""What a charge and a refund do to the budgets, as items of the ledger's own transaction
(storage.ledger calls `charge_items` / `refund_items` for every attempt, so each attempt reads
the counters afresh). docs/spend-controls.md explains the design; in short:

- every budget that applies (the team's, the task's app's; at most MAX_APPLICABLE) gets the
  charge added to its period counter (the period of the task's completed_at on its calendar);
- each threshold the charge takes the spend across is recorded there (its crossing count) and
  as an outbox item keyed by (budget, generation, period, threshold, crossing number), guarded by
  attribute_not_exists: at most once, whatever the redeliveries;
- the counter update is conditioned on the spend still lying in the interval that makes those
  same crossings (controls.thresholds), not on the exact value: concurrent charges that cross
  nothing do not retry each other;
- the task's hold, if it still counts, is released in the same update (and its item settled);
- a ConditionCheck on the team's budget-set revision: a charge never commits against budgets
  that changed since it read them (they are cached for CACHE_SECONDS, never trusted);
- a charge entry records which counters got how much, so the refund takes exactly that back.

A ConditionalCheckFailed on any of these items means what was read is stale: the ledger
invalidates and rebuilds (storage.ledger, _ControlsStale)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from usage_pricing.controls.keys import (
    bucket_attribute,
    charge_key,
    counter_key,
    crossings_attribute,
    hold_key,
)
from usage_pricing.controls.model import Budget
from usage_pricing.controls.outbox import CLEARED, CROSSED, Entry, outbox_put
from usage_pricing.controls.periods import (
    counter_expiry,
    now_minute,
    period_bounds,
    period_key,
)
from usage_pricing.controls.store import ControlsStore, CounterState
from usage_pricing.controls.thresholds import transitions
from usage_pricing.core.money import INT64_MAX, INT64_MIN
from usage_pricing.core.utc import utc_seconds
from usage_pricing.core.windows import zone


class BillingRecord(Protocol):
    """What a budget needs of a billing record (usage_pricing.ledger.records.BillingRecord, which
    the ledger passes in: the controls stand below the ledger and never import it)."""

    @property
    def task_id(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def app(self) -> str: ...
    @property
    def completed_at(self) -> datetime: ...
    @property
    def charged(self) -> int: ...


CACHE_SECONDS = 5.0


class _Change:
    """One counter's part in a transaction, built up before it becomes an Update."""

    __slots__ = ("adds", "conditions", "key", "names", "sets", "values")

    def __init__(self, key: dict[str, str]) -> None:
        self.key = key
        self.adds: dict[str, int] = {}
        self.sets: dict[str, Any] = {}
        self.conditions: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def add(self, attribute: str, amount: int) -> None:
        self.adds[attribute] = self.adds.get(attribute, 0) + amount

    def update(self, table: str) -> dict[str, Any]:
        names = dict(self.names)
        values = dict(self.values)
        parts = []
        for index, (attribute, amount) in enumerate(self.adds.items()):
            names[f"#a{index}"] = attribute
            values[f":a{index}"] = amount
            parts.append(f"#a{index} :a{index}")
        sets = []
        for index, (attribute, value) in enumerate(self.sets.items()):
            names[f"#s{index}"] = attribute
            values[f":s{index}"] = value
            sets.append(f"#s{index} = :s{index}")
        expression = ("ADD " + ", ".join(parts) if parts else "") + (
            " SET " + ", ".join(sets) if sets else ""
        )
        update: dict[str, Any] = {
            "TableName": table,
            "Key": self.key,
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self.conditions:
            update["ConditionExpression"] = " AND ".join(f"({c})" for c in self.conditions)
        return {"Update": update}


def _spend_condition(change: _Change, state: CounterState, low: int, high: int) -> None:
    """The counter's spend still in [low, high] (an unbounded end is no condition); a counter
    read as absent must still be absent. DynamoDB refuses an attribute name that no expression
    uses, so each is added with the condition that uses it."""
    if not state.exists:
        change.conditions.append("attribute_not_exists(spent)")
        return
    if low > INT64_MIN:
        change.names["#spent"] = "spent"
        change.values[":low"] = low
        change.conditions.append("#spent >= :low")
    if high < INT64_MAX:
        change.names["#spent"] = "spent"
        change.values[":high"] = high
        change.conditions.append("#spent <= :high")


def event_id(budget: Budget, period: str, threshold: int, number: int, kind: str) -> str:
    return (
        f"{budget.team_id}.{budget.budget_id}.{budget.generation}.{period}"
        f".{threshold}.{number}.{kind}"
    )


def make_entry(identifier: str, detail_type: str, detail: dict[str, Any]) -> Entry:
    """An event with its stable id in its detail (EventBridge assigns its own envelope id)."""
    return Entry(identifier, detail_type, {**detail, "event_id": identifier})


class BudgetCharges:
    """The ledger's hook (storage.ledger.LedgerRepository.controls)."""

    def __init__(
        self,
        store: ControlsStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.table_name = store.name
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, int, list[Budget]]] = {}
        self.pending: list[Entry] = []  # the outbox entries of the last transaction built

    def budgets(self, team_id: str) -> tuple[int, list[Budget]]:
        cached = self._cache.get(team_id)
        now = self.monotonic()
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1], cached[2]
        revision, budgets = self.store.team(team_id)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[team_id] = (now, revision, budgets)
        return revision, budgets

    def cached(self, team_id: str) -> bool:
        """Whether `budgets` would answer from the cache, not from a read."""
        found = self._cache.get(team_id)
        return found is not None and self.monotonic() - found[0] < self.cache_seconds

    def stale(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    def charge_items(self, record: BillingRecord) -> list[dict[str, Any]]:
        self.pending = []
        revision, budgets = self.budgets(record.team_id)
        if not budgets:
            # Still checked: a budget created meanwhile must see this charge (its seed read of
            # the aggregates) or this charge must see it.
            return [self.store.revision_check(record.team_id, revision)]
        now = self.clock()
        minute = now_minute(now)
        amount = record.charged
        applicable: list[tuple[Budget, str, datetime, datetime, dict[str, str]]] = []
        for budget in budgets:
            if not budget.applies_to(record.app):
                continue
            start, end = period_bounds(budget.period, zone(budget.tz), record.completed_at)
            period = period_key(start)
            if period < budget.since:
                continue  # before the budget (or its scope) existed
            key = counter_key(record.team_id, budget.budget_id, budget.generation, period)
            applicable.append((budget, period, start, end, key))
        hold = self.store.get(hold_key(record.team_id, record.task_id))
        releases: list[tuple[dict[str, str], str]] = []
        if hold is not None and hold.get("state") == "held":
            for entry in hold.get("counters", []):
                releases.append(({"pk": entry["pk"], "sk": entry["sk"]}, str(entry["bucket"])))
        keys = [a[4] for a in applicable] + [r[0] for r in releases]
        states = dict(
            zip(
                ((k["pk"], k["sk"]) for k in keys),
                self.store.counters(keys),
                strict=True,
            )
        )
        changes: dict[tuple[str, str], _Change] = {}
        outbox: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        if amount:
            for budget, period, start, end, key in applicable:
                state = states[(key["pk"], key["sk"])]
                change = changes.setdefault((key["pk"], key["sk"]), _Change(key))
                change.add("spent", amount)
                change.add("committed", amount)
                change.sets["expires_at"] = counter_expiry(end)
                moves = transitions(budget.thresholds, budget.limit, state.spent, amount)
                _spend_condition(change, state, moves.low, moves.high)
                for threshold in moves.crossed:
                    number = state.crossings.get(threshold, 0) + 1
                    name = crossings_attribute(threshold)
                    change.sets[name] = number
                    entry = make_entry(
                        event_id(budget, period, threshold, number, "crossed"),
                        CROSSED,
                        self._detail(budget, start, end, threshold, state.spent + amount, record)
                        | {"crossed_at": utc_seconds(now)},
                    )
                    self.pending.append(entry)
                    outbox.append(outbox_put(self.store, entry, now))
                entries.append(
                    {
                        "pk": key["pk"],
                        "sk": key["sk"],
                        "budget_id": budget.budget_id,
                        "generation": budget.generation,
                    }
                )
        for key, bucket in releases:
            state = states[(key["pk"], key["sk"])]
            minute_of = int(bucket[1:])
            if minute_of <= minute or bucket not in {bucket_attribute(m) for m in state.buckets}:
                continue  # expired: no longer counted, swept by the next authorization
            held = int(hold["amount"]) if hold else 0
            change = changes.setdefault((key["pk"], key["sk"]), _Change(key))
            change.add("committed", -held)
            change.add(bucket, -held)
            change.names["#hb"] = bucket
            change.conditions.append("attribute_exists(#hb)")
        items: list[dict[str, Any]] = [self.store.revision_check(record.team_id, revision)]
        items += [c.update(self.store.name) for c in changes.values()]
        items += outbox
        if hold is not None and hold.get("state") == "held":
            items.append(
                {
                    "Update": {
                        "TableName": self.store.name,
                        "Key": hold_key(record.team_id, record.task_id),
                        "UpdateExpression": "SET #st = :settled, charged = :c",
                        "ConditionExpression": "#st = :held",
                        "ExpressionAttributeNames": {"#st": "state"},
                        "ExpressionAttributeValues": {
                            ":settled": "settled",
                            ":held": "held",
                            ":c": amount,
                        },
                    }
                }
            )
        if entries:
            items.append(
                {
                    "Put": {
                        "TableName": self.store.name,
                        "Item": {
                            **charge_key(record.task_id),
                            "team_id": record.team_id,
                            "amount": amount,
                            "counters": entries,
                            "expires_at": counter_expiry(now),
                        },
                    }
                }
            )
        return items

    def refund_items(self, record: BillingRecord) -> list[dict[str, Any]]:
        """The refund takes the charge back from exactly the counters it was added to; a
        threshold its spend falls back below is cleared (an outbox item, once)."""
        self.pending = []
        entry = self.store.get(charge_key(record.task_id))
        if entry is None or entry.get("refunded"):
            return []
        amount = int(entry["amount"])
        revision, budgets = self.budgets(record.team_id)
        by_key = {(b.budget_id, b.generation): b for b in budgets}
        keys = [{"pk": c["pk"], "sk": c["sk"]} for c in entry.get("counters", [])]
        states = self.store.counters(keys)
        now = self.clock()
        items: list[dict[str, Any]] = [self.store.revision_check(record.team_id, revision)]
        for counter, key, state in zip(entry.get("counters", []), keys, states, strict=True):
            change = _Change(key)
            change.add("spent", -amount)
            change.add("committed", -amount)
            budget = by_key.get((str(counter["budget_id"]), int(counter["generation"])))
            if budget is None:  # deleted or re-scoped since: only the figures move
                _spend_condition(change, state, INT64_MIN, INT64_MAX)
                items.append(change.update(self.store.name))
                continue
            moves = transitions(budget.thresholds, budget.limit, state.spent, -amount)
            _spend_condition(change, state, moves.low, moves.high)
            start = datetime.fromisoformat(key["sk"].replace("Z", "+00:00"))
            _, end = period_bounds(budget.period, zone(budget.tz), start)
            for threshold in moves.cleared:
                number = state.crossings.get(threshold, 0)
                out = make_entry(
                    event_id(budget, key["sk"], threshold, number, "cleared"),
                    CLEARED,
                    self._detail(budget, start, end, threshold, state.spent - amount, record)
                    | {"cleared_at": utc_seconds(now)},
                )
                self.pending.append(out)
                items.append(outbox_put(self.store, out, now))
                # The clear is pinned to this crossing number: a crossing meanwhile retries.
                name, value = f"#c{threshold}", f":c{threshold}"
                change.names[name] = crossings_attribute(threshold)
                change.values[value] = number
                change.conditions.append(
                    f"{name} = {value}"
                    if number
                    else f"attribute_not_exists({name}) OR {name} = {value}"
                )
            items.append(change.update(self.store.name))
        items.append(
            {
                "Update": {
                    "TableName": self.store.name,
                    "Key": charge_key(record.task_id),
                    "UpdateExpression": "SET refunded = :t",
                    "ConditionExpression": "attribute_not_exists(refunded)",
                    "ExpressionAttributeValues": {":t": True},
                }
            }
        )
        return items

    @staticmethod
    def _detail(  # noqa: PLR0917 — the figures of one event
        budget: Budget,
        start: datetime,
        end: datetime,
        threshold: int,
        spent: int,
        record: BillingRecord,
    ) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "budget_id": budget.budget_id,
            "team_id": budget.team_id,
            "period_start": utc_seconds(start),
            "period_end": utc_seconds(end),
            "threshold": threshold,
            "limit": budget.limit,
            "spent": spent,
            "task_id": record.task_id,
        }
        if budget.app is not None:
            detail["app"] = budget.app
        return detail
