"""The controls table: budgets, their period counters, holds, charge entries and the outbox
(keys: controls.keys). Reads that decide anything are consistent; every decision that guards
money is a condition of the transaction that acts on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from usage_pricing.controls.keys import (
    BUDGET,
    META,
    bucket_minute,
    budget_key,
    meta_key,
    team_pk,
)
from usage_pricing.controls.model import Budget
from usage_pricing.core.errors import ConflictError, StorageError
from usage_pricing.storage.dynamo import (
    error_code,
    storage_errors,
    translate_client_error,
    translate_transport_error,
)


class _SeededError(ConflictError):
    """The period was seeded already (a PUT racing another)."""


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, Decimal)) else 0


class CounterState(NamedTuple):
    """One budget period as read: spend, spend plus every hold bucket (`committed`), the hold
    buckets by expiry minute, and how often each threshold has crossed."""

    exists: bool
    spent: int
    committed: int
    buckets: dict[int, int]
    crossings: dict[int, int]

    @classmethod
    def of(cls, item: dict[str, Any] | None) -> CounterState:
        if item is None:
            return cls(False, 0, 0, {}, {})
        buckets: dict[int, int] = {}
        crossings: dict[int, int] = {}
        for name, value in item.items():
            minute = bucket_minute(name)
            if minute is not None:
                buckets[minute] = _int(value)
            elif name.startswith("n") and name[1:].isdigit():
                crossings[int(name[1:])] = _int(value)
        return cls(True, _int(item.get("spent")), _int(item.get("committed")), buckets, crossings)

    def held(self, now_minute: int) -> int:
        """Holds still counting: those whose expiry minute has not begun."""
        return sum(v for m, v in self.buckets.items() if m > now_minute)

    def expired(self, now_minute: int) -> dict[int, int]:
        return {m: v for m, v in self.buckets.items() if m <= now_minute}


class Transaction(Exception):  # noqa: N818 — carries a cancelled transaction's reasons
    def __init__(self, reasons: list[str | None], error: ClientError) -> None:
        super().__init__(reasons)
        self.reasons = reasons
        self.error = error

    @property
    def conflict(self) -> bool:
        return "TransactionConflict" in self.reasons

    @property
    def unexpected(self) -> bool:
        """A reason that no retry can fix (a validation error): a bug, not contention."""
        expected = {None, "None", "ConditionalCheckFailed", "TransactionConflict"}
        return any(reason not in expected for reason in self.reasons)

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


# BatchGetItem answers keys it could not read (throttled) as UnprocessedKeys: they are asked
# again with a backoff, this many times in all, then the read is a retryable 503 rather than a
# loop that only the function's timeout ends.
BATCH_TRIES = 6
BATCH_BACKOFF = 0.025  # seconds, doubling


class ControlsStore:
    def __init__(self, table: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self.name: str = table.name
        self.client = table.meta.client
        self.sleep = sleep

    def team(self, team_id: str) -> tuple[int, list[Budget]]:
        """The team's budget-set revision and its budgets: one consistent Query (≤ 101 items)."""
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": team_pk(team_id)},
            "ConsistentRead": True,
        }
        revision = 0
        budgets: list[Budget] = []
        while True:
            with storage_errors("read budgets"):
                page = self.table.query(**request)
            for item in page.get("Items", []):
                if item["sk"] == META:
                    revision = _int(item.get("revision"))
                elif str(item["sk"]).startswith(BUDGET):
                    fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
                    fields["limit"] = _int(fields.get("limit"))
                    fields["generation"] = _int(fields.get("generation"))
                    fields["thresholds"] = [_int(t) for t in fields.get("thresholds", [])]
                    budgets.append(Budget.model_validate(fields))
            if "LastEvaluatedKey" not in page:
                return revision, budgets
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def counters(self, keys: list[dict[str, str]]) -> list[CounterState]:
        """The counters of `keys`, in order (absent ones empty): one consistent BatchGetItem."""
        if not keys:
            return []
        return [CounterState.of(item) for item in self.items(keys)]

    def items(self, keys: list[dict[str, str]]) -> list[dict[str, Any] | None]:
        """The items of `keys` in order (None where absent): one consistent BatchGetItem."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pending: dict[str, Any] = {self.name: {"Keys": _distinct(keys), "ConsistentRead": True}}
        for attempt in range(BATCH_TRIES):
            if attempt:
                self.sleep(BATCH_BACKOFF * 2 ** (attempt - 1))
            with storage_errors("read spend controls"):
                answer = self.client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(self.name, []):
                found[(item["pk"], item["sk"])] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                return [found.get((k["pk"], k["sk"])) for k in keys]
        raise StorageError(
            f"read spend controls: DynamoDB left keys unread after {BATCH_TRIES} tries "
            "(throttled); retry shortly",
            retryable=True,
        )

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        with storage_errors("read spend controls"):
            item: dict[str, Any] | None = self.table.get_item(Key=key, ConsistentRead=True).get(
                "Item"
            )
        return item

    def revision_check(self, team_id: str, revision: int) -> dict[str, Any]:
        """A transaction item that holds only while the team's budgets are as read."""
        check: dict[str, Any] = {"TableName": self.name, "Key": meta_key(team_id)}
        if revision == 0:
            check["ConditionExpression"] = "attribute_not_exists(revision) OR revision = :r"
        else:
            check["ConditionExpression"] = "revision = :r"
        check["ExpressionAttributeValues"] = {":r": revision}
        return {"ConditionCheck": check}

    def bump_revision(self, team_id: str, revision: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.name,
                "Key": meta_key(team_id),
                "UpdateExpression": "SET revision = :next",
                "ConditionExpression": (
                    "attribute_not_exists(revision) OR revision = :r"
                    if revision == 0
                    else "revision = :r"
                ),
                "ExpressionAttributeValues": {":r": revision, ":next": revision + 1},
            }
        }

    def put_budget(self, budget: Budget, revision: int) -> None:
        self.transact(
            [
                self.bump_revision(budget.team_id, revision),
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": {**budget_key(budget.team_id, budget.budget_id), **budget.item()},
                    }
                },
            ],
            "save budget",
        )

    def delete_budget(self, team_id: str, budget_id: str, revision: int) -> None:
        self.transact(
            [
                self.bump_revision(team_id, revision),
                {
                    "Delete": {
                        "TableName": self.name,
                        "Key": budget_key(team_id, budget_id),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
            "delete budget",
        )

    def seed(self, key: dict[str, str], amount: int, expires_at: int) -> bool:
        """Add what the period spent before the budget (or its scope) existed, once."""
        try:
            with storage_errors("seed budget", on_condition=lambda: _SeededError("seeded")):
                self.table.update_item(
                    Key=key,
                    UpdateExpression=(
                        "ADD spent :s, committed :s SET seeded = :t, expires_at = :exp"
                    ),
                    ConditionExpression="attribute_not_exists(seeded)",
                    ExpressionAttributeValues={":s": amount, ":t": True, ":exp": expires_at},
                )
        except _SeededError:
            return False
        return True

    def transact(self, items: list[dict[str, Any]], action: str) -> None:
        """One TransactWriteItems; a cancellation raises Transaction with its reasons (the
        caller decides: retry, duplicate, refusal), anything else a StorageError."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) == "TransactionCanceledException":
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                raise Transaction(reasons, error) from error
            raise translate_client_error(error, action) from error
        except BotoCoreError as error:
            raise translate_transport_error(error, action) from error


def _distinct(keys: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for key in keys:
        seen.setdefault((key["pk"], key["sk"]), key)
    return list(seen.values())
