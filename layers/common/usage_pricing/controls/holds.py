"""Holds (docs/spend-controls.md, "Holds"): POST /usage/authorizations places a hold of an
amount on every budget that applies to the app; a block budget refuses when
spent + held + amount > limit. The check is a condition of the transaction that places the hold,
never a read: under any concurrency a block budget with room for k holds grants exactly k.

DynamoDB conditions compare, they do not add, so each period counter keeps
`committed` = spent + the holds not yet removed, and holds summed per expiry minute (`h<minute>`,
Unix minutes). A hold counts while its minute has not begun; its `expires_at` is that minute's
start (ttl_seconds rounded down to a whole minute), so it stops counting by then. Expired holds
leave `committed` lazily: the next authorization on the counter removes the expired minutes it
read, pinning each one's value in its condition, and its limit condition is
`committed <= limit − amount + (the expired amount it removes)`. No sweeper races the check:
removing expired holds and checking the limit are one conditional write."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from usage_pricing.controls.charging import BudgetCharges, _Change
from usage_pricing.controls.keys import bucket_attribute, counter_key, hold_key
from usage_pricing.controls.model import Amount, Budget
from usage_pricing.controls.periods import (
    counter_expiry,
    now_minute,
    period_bounds,
    period_key,
)
from usage_pricing.controls.store import ControlsStore, CounterState, Transaction
from usage_pricing.core.errors import (
    ConflictError,
    FieldIssue,
    NotFoundError,
    UsagePricingError,
)
from usage_pricing.core.limits import IDENTIFIER, AppPath, Identifier
from usage_pricing.core.utc import utc_seconds
from usage_pricing.core.windows import zone
from usage_pricing.storage.dynamo import translate_client_error

DEFAULT_TTL = 3600
MAX_TTL = 86_400
MIN_TTL = 60
# Expired minutes one authorization removes from a counter (each is pinned in its condition);
# more are removed by sweep-only updates first.
MAX_EXPIRED_PER_WRITE = 40
ATTEMPTS = 8
HOLD_RETENTION = 86_400  # a hold item outlives its expiry a day: same task id, same answer


class BudgetExceededError(UsagePricingError):
    status = 402
    title = "Budget exceeded"

    def __init__(self, refusals: list[dict[str, Any]]) -> None:
        names = ", ".join(r["budget_id"] for r in refusals)
        super().__init__(f"the hold does not fit in budget {names}")
        self.refusals = refusals

    @property
    def extensions(self) -> dict[str, Any]:
        return {"budgets": self.refusals}


class BudgetBusyError(UsagePricingError):
    """The budget's counter is contended past our retries: try again shortly
    (docs/spend-controls.md)."""

    status = 429
    title = "Too many requests"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


# $10,000,000: 922 such holds at once before a counter could leave int64.
MAX_HOLD = 10**15


class AuthorizationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: Identifier
    app: AppPath
    # A hold reserves at least one microcent and at most MAX_HOLD, so the sums of a budget's
    # holds stay far inside int64 however many there are at once (docs/spend-controls.md).
    amount: Annotated[int | None, Field(ge=1, le=MAX_HOLD, strict=True)] = None
    estimate: dict[str, Any] | None = None
    ttl_seconds: Annotated[int, Field(ge=MIN_TTL, le=MAX_TTL, strict=True)] = DEFAULT_TTL

    @model_validator(mode="after")
    def _one_amount(self) -> AuthorizationRequest:
        if (self.amount is None) == (self.estimate is None):
            raise ValueError("give exactly one of amount and estimate")
        return self


class BudgetRemaining(BaseModel):
    budget_id: str
    remaining: Amount


class Authorization(BaseModel):
    task_id: str
    app: str
    held: Amount
    expires_at: str
    budgets: list[BudgetRemaining]


class AuthorizationService:
    def __init__(
        self,
        store: ControlsStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        budgets: BudgetCharges | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cache = budgets or BudgetCharges(store, clock)
        self.sleep = sleep

    def authorize(self, team_id: str, request: AuthorizationRequest, amount: int) -> Authorization:
        # A grant is checked by the transaction's revision condition; a refusal writes nothing,
        # so nothing would check it: it is only made on budgets read for this request, never on
        # the cached list (a budget deleted or raised a moment ago must not refuse). That read
        # takes no attempt (it is made once at most): contention may have used up all but the
        # last, and a budget full when the last one looks is a refusal (402), not busy (429).
        confirmed = False
        attempt = 0
        while attempt < ATTEMPTS:
            confirmed = confirmed or not self.cache.cached(team_id)
            revision, budgets = self.cache.budgets(team_id)
            now = self.clock()
            minute = now_minute(now)
            applicable = [b for b in budgets if b.applies_to(request.app)]
            periods = [self._period(b, now) for b in applicable]
            keys = [hold_key(team_id, request.task_id), *(p[2] for p in periods)]
            found = self.store.items(keys)
            existing = found[0]
            if existing is not None:
                return self._again(existing, request, amount)
            states = [CounterState.of(item) for item in found[1:]]
            if self._sweep(states, [p[2] for p in periods], minute):
                attempt += 1
                continue  # a counter had more expired minutes than one write removes
            refusals = []
            for budget, state in zip(applicable, states, strict=True):
                live = state.committed - sum(state.expired(minute).values())
                if budget.action == "block" and live + amount > budget.limit:
                    refusals.append(
                        {
                            "budget_id": budget.budget_id,
                            "remaining": Amount.of(budget.limit - live).model_dump(),
                        }
                    )
            if refusals:
                if not confirmed:
                    confirmed = True
                    self.cache.stale(team_id)
                    continue  # the same attempt, on the budgets as they are now
                raise BudgetExceededError(refusals)
            expiry_minute = (int(now.timestamp()) + request.ttl_seconds) // 60
            bucket = bucket_attribute(expiry_minute)
            answer = Authorization(
                task_id=request.task_id,
                app=request.app,
                held=Amount.of(amount),
                expires_at=utc_seconds(datetime.fromtimestamp(expiry_minute * 60, UTC)),
                budgets=[
                    BudgetRemaining(
                        budget_id=b.budget_id,
                        remaining=Amount.of(
                            b.limit - (s.committed - sum(s.expired(minute).values())) - amount
                        ),
                    )
                    for b, s in zip(applicable, states, strict=True)
                ],
            )
            items: list[dict[str, Any]] = [self.store.revision_check(team_id, revision)]
            items.append(
                {
                    "Put": {
                        "TableName": self.store.name,
                        "Item": {
                            **hold_key(team_id, request.task_id),
                            "team_id": team_id,
                            "task_id": request.task_id,
                            "app": request.app,
                            "amount": amount,
                            "state": "held",
                            "hold_expires": expiry_minute * 60,
                            "expires_at": expiry_minute * 60 + HOLD_RETENTION,
                            "counters": [
                                {"pk": p[2]["pk"], "sk": p[2]["sk"], "bucket": bucket}
                                for p in periods
                            ],
                            "answer": answer.model_dump_json(),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            for budget, state, (_, end, key) in zip(applicable, states, periods, strict=True):
                items.append(self._hold_update(budget, state, key, end, minute, amount, bucket))
            try:
                self.store.transact(items, "place hold")
                return answer
            except Transaction as cancelled:
                if cancelled.unexpected:
                    raise translate_client_error(cancelled.error, "place hold") from cancelled
                if cancelled.failed(0):
                    self.cache.stale(team_id)
                elif cancelled.failed(1):
                    attempt += 1
                    continue  # the same task id, concurrently: answered from its hold next
                if attempt + 1 < ATTEMPTS:
                    self.sleep(0.005 * 2 ** min(attempt, 5))
            attempt += 1
        raise BudgetBusyError("the budget is busy; retry the authorization shortly")

    def release(self, team_id: str, task_id: str) -> None:
        """DELETE /usage/authorizations/{taskID}: the hold stops counting now. Idempotent for a
        released or expired hold; a hold its task's billing settled is a 409. A path that no
        task id can be (core.limits.IDENTIFIER) names no hold: 404 without a read (a key over
        DynamoDB's 2,048 bytes would be refused as invalid, a 503)."""
        if not IDENTIFIER.fullmatch(task_id):
            raise NotFoundError(f"no hold for task {task_id}")
        for attempt in range(ATTEMPTS):
            hold = self.store.get(hold_key(team_id, task_id))
            if hold is None:
                raise NotFoundError(f"no hold for task {task_id}")
            if hold.get("state") == "settled":
                raise ConflictError(f"task {task_id} was billed: its hold is settled")
            if hold.get("state") != "held":
                return
            now = self.clock()
            minute = now_minute(now)
            counters = hold.get("counters", [])
            keys = [{"pk": c["pk"], "sk": c["sk"]} for c in counters]
            states = self.store.counters(keys)
            amount = int(hold["amount"])
            items: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": self.store.name,
                        "Key": hold_key(team_id, task_id),
                        "UpdateExpression": "SET #st = :released",
                        "ConditionExpression": "#st = :held",
                        "ExpressionAttributeNames": {"#st": "state"},
                        "ExpressionAttributeValues": {":released": "released", ":held": "held"},
                    }
                }
            ]
            for counter, key, state in zip(counters, keys, states, strict=True):
                bucket = str(counter["bucket"])
                if int(bucket[1:]) <= minute or int(bucket[1:]) not in state.buckets:
                    continue  # expired already: no longer counted
                change = _Change(key)
                change.add("committed", -amount)
                change.add(bucket, -amount)
                change.names["#hb"] = bucket
                change.conditions.append("attribute_exists(#hb)")
                items.append(change.update(self.store.name))
            try:
                self.store.transact(items, "release hold")
                return
            except Transaction as cancelled:
                if cancelled.unexpected:
                    raise translate_client_error(cancelled.error, "release hold") from cancelled
                if attempt + 1 < ATTEMPTS:
                    self.sleep(0.005 * 2 ** min(attempt, 5))
        raise BudgetBusyError("the budget is busy; retry the release shortly")

    def _sweep(self, states: list[CounterState], keys: list[dict[str, str]], minute: int) -> bool:
        """Remove expired minutes from counters holding more than one write removes, all but the
        last MAX_EXPIRED_PER_WRITE (which the hold's own write removes), in writes of that many
        (each pinned: a concurrent change makes it a no-op, and the caller reads again). True
        when anything was attempted: the caller reads again, one attempt for the whole backlog.

        Bounded: a counter gains a minute only through an authorization, which also removes up
        to MAX_EXPIRED_PER_WRITE, so it holds at most the live minutes (MAX_TTL / 60) and one
        write's worth more: at most 37 writes per counter, once."""
        swept = False
        for state, key in zip(states, keys, strict=True):
            expired = sorted(state.expired(minute).items())
            backlog = expired[: max(0, len(expired) - MAX_EXPIRED_PER_WRITE)]
            for start in range(0, len(backlog), MAX_EXPIRED_PER_WRITE):
                change = _Change(key)
                batch = dict(backlog[start : start + MAX_EXPIRED_PER_WRITE])
                change.add("committed", -sum(batch.values()))
                removals = _remove_pinned(change, batch)
                update = change.update(self.store.name)["Update"]
                update["UpdateExpression"] += " REMOVE " + ", ".join(removals)
                swept = True
                try:
                    self.store.transact([{"Update": update}], "remove expired holds")
                except Transaction:
                    break  # changed meanwhile: read again
        return swept

    def _period(self, budget: Budget, now: datetime) -> tuple[datetime, datetime, dict[str, str]]:
        start, end = period_bounds(budget.period, zone(budget.tz), now)
        key = counter_key(budget.team_id, budget.budget_id, budget.generation, period_key(start))
        return start, end, key

    def _again(
        self, existing: dict[str, Any], request: AuthorizationRequest, amount: int
    ) -> Authorization:
        """The same answer for the same request while its hold is live; never a 201 for a hold
        that no longer counts (released, settled by billing, or expired)."""
        state = existing.get("state")
        expired = int(existing.get("hold_expires", 0)) <= int(self.clock().timestamp())
        if state != "held" or expired:
            why = (
                "was billed: its hold is settled"
                if state == "settled"
                else ("was released" if state == "released" else "expired")
            )
            raise ConflictError(
                f"task {request.task_id}'s hold {why}: a task is authorized once",
                errors=[FieldIssue("task_id", f"its hold {why}")],
            )
        if int(existing["amount"]) != amount or existing.get("app") != request.app:
            raise ConflictError(
                f"task {request.task_id} already holds {int(existing['amount'])} microcents"
                f" for {existing.get('app')}",
                errors=[FieldIssue("amount", "differs from the task's existing hold")],
            )
        return Authorization.model_validate(json.loads(str(existing["answer"])))

    def _hold_update(  # noqa: PLR0917 — one counter's part of the hold
        self,
        budget: Budget,
        state: CounterState,
        key: dict[str, str],
        end: datetime,
        minute: int,
        amount: int,
        bucket: str,
    ) -> dict[str, Any]:
        expired = dict(sorted(state.expired(minute).items())[:MAX_EXPIRED_PER_WRITE])
        removed = sum(expired.values())
        change = _Change(key)
        change.add("committed", amount - removed)
        change.add(bucket, amount)
        change.sets["expires_at"] = counter_expiry(end)
        removals = _remove_pinned(change, expired)
        if budget.action == "block":
            change.names["#c"] = "committed"
            if state.exists:
                change.values[":x"] = budget.limit - amount + removed
                change.conditions.append("#c <= :x")
            else:
                change.conditions.append("attribute_not_exists(#c)")
        elif not state.exists:
            change.names["#c"] = "committed"
            change.conditions.append("attribute_not_exists(#c)")
        update = change.update(self.store.name)
        if removals:
            update["Update"]["UpdateExpression"] += " REMOVE " + ", ".join(removals)
        return update


def _remove_pinned(change: _Change, expired: dict[int, int]) -> list[str]:
    """The expired minute buckets `change` removes, each on the condition that it still holds the
    value read (so a concurrent writer's change makes this one retry, never double-subtract);
    their placeholders, for the REMOVE clause."""
    removals = []
    for index, (expired_minute, value) in enumerate(expired.items()):
        change.names[f"#e{index}"] = bucket_attribute(expired_minute)
        change.values[f":e{index}"] = value
        change.conditions.append(f"#e{index} = :e{index}")
        removals.append(f"#e{index}")
    return removals
