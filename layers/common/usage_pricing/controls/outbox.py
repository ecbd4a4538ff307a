"""Threshold events through an outbox (docs/spend-controls.md, "Delivery").

The charge (or refund) that makes a crossing writes its outbox item in its own transaction, so
a committed crossing cannot be lost. Billing then sends it at once (send-after-commit) and marks
it sent. If billing dies between the commit and the send, or EventBridge refuses, the item stays
`unsent`; the sweeper (functions/outbox, every minute) sends every unsent item whose claim has
lapsed, and reports the oldest unsent item's age, which alarms at 5 minutes.

Each item carries a claim (`claim_until`): the writer owns it for CLAIM_SECONDS, the sweeper
takes it only after, by a conditional update, so two senders never send the same item at the
same time. An event can still go twice (the send succeeded and marking it sent failed): each
carries a stable `event_id` in its detail for consumers to deduplicate on."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from usage_pricing.controls.keys import UNSENT, UNSENT_INDEX, outbox_key
from usage_pricing.controls.store import ControlsStore
from usage_pricing.core.deadline import BudgetPolicy
from usage_pricing.core.errors import ConflictError, StorageError
from usage_pricing.core.observability import logger
from usage_pricing.core.utc import utc_iso
from usage_pricing.storage.dynamo import storage_errors

SOURCE = "usage-pricing"
CROSSED = "Budget Threshold Crossed"
CLEARED = "Budget Threshold Cleared"
CLAIM_SECONDS = 60
OUTBOX_RETENTION = timedelta(days=30)
SWEEP_BATCH = 100  # items claimed per sweep page
# One sweep's work (functions/outbox, 60 s timeout, every minute): it stops paging this long
# before Lambda's deadline, and after this many pages. An outage of EventBridge can leave any
# number of items unsent (a team whose charges and refunds keep crossing and clearing makes as
# many as it likes); a sweep that tried them all would run into its timeout and report nothing.
# The index is sorted by created_at, so a sweep cut short has seen the oldest items first; the
# next minute's sweep goes on.
SWEEP_MARGIN_MS = 15_000
SWEEP_PAGES = 40


class Entry(NamedTuple):
    """One event as the outbox holds it and EventBridge takes it."""

    event_id: str
    detail_type: str
    detail: dict[str, Any]


class Publisher(Protocol):
    def put(self, entries: Sequence[Entry]) -> list[bool]:
        """Send; True for each entry accepted, in order."""
        ...


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def put(self, entries: Sequence[Entry]) -> list[bool]:
        accepted: list[bool] = []
        for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
            chunk = entries[start : start + 10]
            answer = self.client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": e.detail_type,
                        "Detail": json.dumps(e.detail, sort_keys=True),
                        "EventBusName": self.bus_name,
                    }
                    for e in chunk
                ]
            )
            accepted += [not r.get("ErrorCode") for r in answer.get("Entries", [])]
        return accepted


def outbox_put(store: ControlsStore, entry: Entry, now: datetime) -> dict[str, Any]:
    """The transaction item that records an event to send: new, unsent, claimed by its writer
    for CLAIM_SECONDS. attribute_not_exists: one crossing, one item, whatever the retries."""
    return {
        "Put": {
            "TableName": store.name,
            "Item": {
                **outbox_key(entry.event_id),
                "event_id": entry.event_id,
                "detail_type": entry.detail_type,
                "detail": json.dumps(entry.detail, sort_keys=True),
                UNSENT: UNSENT,
                "created_at": utc_iso(now),
                "claim_until": int(now.timestamp()) + CLAIM_SECONDS,
                "expires_at": int((now + OUTBOX_RETENTION).timestamp()),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class OutboxRelay:
    def __init__(
        self,
        store: ControlsStore,
        publisher: Publisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.budget = BudgetPolicy(
            margin_ms=SWEEP_MARGIN_MS,
            max_items=SWEEP_PAGES * SWEEP_BATCH,
            max_queries=SWEEP_PAGES,
            fallback_ms=60_000,
        )

    def deliver(self, entries: Sequence[Entry]) -> int:
        """Send entries just committed (their claim is the writer's); mark the accepted ones
        sent. Never raises: what is not sent now the sweeper sends."""
        if not entries:
            return 0
        try:
            accepted = self.publisher.put(entries)
        except Exception:
            logger.warning(
                "threshold events not sent; the outbox sweeper will",
                extra={"event_ids": [e.event_id for e in entries]},
                exc_info=True,
            )
            return 0
        sent = 0
        for entry, ok in zip(entries, accepted, strict=False):
            if ok and self._mark_sent(entry.event_id):
                sent += 1
        return sent

    def _mark_sent(self, event_id: str) -> bool:
        try:
            with storage_errors("mark threshold event sent"):
                self.store.table.update_item(
                    Key=outbox_key(event_id),
                    UpdateExpression="REMOVE #u SET sent_at = :at",
                    ConditionExpression="attribute_exists(#u)",
                    ExpressionAttributeNames={"#u": UNSENT},
                    ExpressionAttributeValues={":at": utc_iso(self.clock())},
                )
        except ConflictError:
            return False  # already marked by another sender
        except StorageError:
            logger.warning("could not mark a sent threshold event", extra={"event_id": event_id})
            return False
        return True

    def sweep(self, context: Any = None) -> tuple[int, float]:
        """Send the unsent items whose claim has lapsed, oldest first, within one sweep's work
        (`budget`, on the Lambda `context`'s remaining time). Returns (sent, the age in seconds
        of the oldest item still unsent afterwards, 0 when none)."""
        now = self.clock()
        work = self.budget.start(context)
        request: dict[str, Any] = {
            "IndexName": UNSENT_INDEX,
            "KeyConditionExpression": "#u = :u",
            "ExpressionAttributeNames": {"#u": UNSENT},
            "ExpressionAttributeValues": {":u": UNSENT},
            "Limit": SWEEP_BATCH,
        }
        sent = 0
        oldest = 0.0
        while True:
            with storage_errors("read the threshold outbox"):
                page = self.store.table.query(**request)
            work.spend(items=len(page.get("Items", [])))
            claimed: list[Entry] = []
            for item in page.get("Items", []):
                if int(item.get("claim_until", 0)) > int(now.timestamp()):
                    oldest = max(oldest, _age(item, now))
                    continue  # its writer may still be sending it
                if self._claim(str(item["event_id"]), int(item.get("claim_until", 0)), now):
                    claimed.append(
                        Entry(
                            str(item["event_id"]),
                            str(item["detail_type"]),
                            json.loads(str(item["detail"])),
                        )
                    )
            delivered = self.deliver(claimed)
            sent += delivered
            if delivered < len(claimed):
                for item in page.get("Items", []):
                    oldest = max(oldest, _age(item, now))
            if "LastEvaluatedKey" not in page:
                return sent, oldest
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            if not work.allows():
                logger.warning(
                    "outbox sweep stopped before the end of the unsent items; the next sweep "
                    "goes on",
                    extra={"sent": sent, "reason": work.stopped},
                )
                return sent, max(oldest, self._age_of_next(request, now))

    def _age_of_next(self, request: dict[str, Any], now: datetime) -> float:
        """The age of the first item a sweep cut short did not reach (one item read): the
        oldest unsent item it leaves, so the alarm still sees it."""
        with storage_errors("read the threshold outbox"):
            page = self.store.table.query(**{**request, "Limit": 1})
        items = page.get("Items", [])
        return _age(items[0], now) if items else 0.0

    def _claim(self, event_id: str, seen: int, now: datetime) -> bool:
        try:
            with storage_errors("claim a threshold event"):
                self.store.table.update_item(
                    Key=outbox_key(event_id),
                    UpdateExpression="SET claim_until = :until",
                    ConditionExpression="attribute_exists(#u) AND claim_until = :seen",
                    ExpressionAttributeNames={"#u": UNSENT},
                    ExpressionAttributeValues={
                        ":until": int(now.timestamp()) + CLAIM_SECONDS,
                        ":seen": seen,
                    },
                )
        except ConflictError:
            return False  # another sweeper took it, or it was sent meanwhile
        return True


def _age(item: dict[str, Any], now: datetime) -> float:
    """Seconds since an outbox item was written."""
    return (now - datetime.fromisoformat(str(item["created_at"]))).total_seconds()
