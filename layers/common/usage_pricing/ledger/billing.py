"""Billing (docs/billing.md): a completed task's event becomes one billing record, charged once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pydantic import ValidationError

from usage_pricing.core.errors import FieldIssue, StorageError, join_issues
from usage_pricing.core.fees import FEES
from usage_pricing.core.jsonsafe import JsonInputError, parse_json
from usage_pricing.core.limits import MAX_EVENT_BYTES
from usage_pricing.core.observability import logger
from usage_pricing.ledger.charges import Charge, canonical_inputs
from usage_pricing.ledger.records import BillingRecord, UsageEvent
from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository, shard_for
from usage_pricing.pricing.evaluator import PricingEvaluator, PricingInput
from usage_pricing.pricing.model import AppPricing
from usage_pricing.pricing.repository import PricingRepository
from usage_pricing.usage.events import (
    CLOCK_SKEW,
    TaskCompleted,
    TaskCompletedEvent,
    TaskEventEnvelope,
    TaskRefunded,
    TaskRefundedEvent,
)
from usage_pricing.usage.meta import OutputMeta
from usage_pricing.usage.meters import meter_rates

if TYPE_CHECKING:
    from usage_pricing.controls.outbox import OutboxRelay


class BillingService:
    def __init__(
        self,
        ledger: LedgerRepository,
        pricing: PricingRepository,
        evaluator: PricingEvaluator,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        relay: OutboxRelay | None = None,
    ) -> None:
        self.ledger = ledger
        self.pricing = pricing
        self.evaluator = evaluator
        self.clock = clock
        # Sends the threshold events a charge or refund just committed (send-after-commit; the
        # outbox sweeper sends whatever this could not: usage_pricing.controls.outbox).
        self.relay = relay

    def price_task(self, task: TaskCompleted) -> BillingRecord:
        """The record for a task, priced with the app's pricing live when the task completed
        (platform defaults when none was published)."""
        live = self.pricing.live_at(task.app, task.completed_at)
        pricing, version = (live.pricing, live.version) if live else (AppPricing(), 0)
        resources = [r.model_copy(update={"tier": task.tier}) for r in task.resources]
        usage = PricingInput(
            output_meta=task.output_meta or OutputMeta(),
            resources=tuple(resources),
            elapsed_ms=task.elapsed_ms,
            task_inputs=task.task_inputs,
        )
        result = self.evaluator.price(pricing, usage)
        charge = Charge(result, task.status)
        return BillingRecord(
            task_id=task.task_id,
            team_id=task.team_id,
            app=task.app,
            app_version=task.app_version,
            function=task.function,
            status=task.status,
            billing_status=charge.billing_status,
            started_at=task.started_at,
            completed_at=task.completed_at,
            billed_at=self.clock(),
            elapsed_ms=task.elapsed_ms,
            usage_seconds=usage.usage_seconds,
            tier=task.tier,
            resources=resources,
            **{fee.field: result.fee(fee).value for fee in FEES},
            total=charge.total,
            # A failed or cancelled task is recorded in full and discounted in full.
            discount=charge.discount,
            discount_reason=charge.discount_reason,
            charged=charge.charged,
            errors=charge.errors,
            pricing_version=version,
            usage=[
                UsageEvent(
                    tier=task.tier,
                    type=r.type,
                    model=r.model or r.meter or "unknown",
                    seconds=usage.usage_seconds * r.count,
                )
                for r in resources
            ],
            shard=shard_for(task.task_id, self.ledger.shards),
            fingerprint=task.fingerprint(),
            priced_from=canonical_inputs(usage.output_meta, usage.task_inputs),
            platform_fees=self.evaluator.defaults.nonzero(),
            meter_rates=meter_rates(resources),
        )

    def bill(self, task: TaskCompleted) -> tuple[BillingRecord, LedgerOutcome]:
        record = self.price_task(task)
        outcome = self.ledger.charge(record)
        self._relay(outcome)
        return record, outcome

    def _relay(self, outcome: LedgerOutcome) -> None:
        controls = self.ledger.controls
        if self.relay is not None and controls is not None and outcome is LedgerOutcome.WRITTEN:
            self.relay.deliver(controls.pending)

    def refund(self, refund: TaskRefunded) -> LedgerOutcome:
        # Plausible refunds (docs/billing.md): not before the task completed, less the same
        # clock-skew allowance a completion has.
        outcome = self.ledger.refund(
            refund.task_id, refund.team_id, refund.reason, refund.refunded_at, skew=CLOCK_SKEW
        )
        self._relay(outcome)
        return outcome


class DeadLetters(Protocol):
    def send(self, body: str, reason: str, message_id: str) -> None: ...


class SqsDeadLetters:
    """Sends an event that can never succeed straight to the dead-letter queue, with its reason,
    instead of letting it fail maxReceiveCount times first."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, body: str, reason: str, message_id: str) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1024]},
                "source_message_id": {"DataType": "String", "StringValue": message_id},
            },
        )


class Processed(NamedTuple):
    """What happened to one delivery, for logs and metrics (a NamedTuple, not a dataclass: a
    dataclass's generated methods are exec'd at every cold start)."""

    outcome: str  # billed, duplicate, refunded, refund_duplicate, dead_lettered
    task_id: str | None = None
    needs_review: bool = False
    reason: str | None = None
    conflict: bool = False


# A dead letter's reason names this many of an event's issues, then how many more there are.
SHOWN_ISSUES = 5


def describe_invalid(error: Exception) -> str:
    """A dead letter's reason for an event that is no valid task event: its first issues, worded
    as every list of issues is (core.errors.join_issues)."""
    if isinstance(error, ValidationError):
        issues = [
            FieldIssue(
                ".".join(
                    str(p)
                    for p in issue["loc"]
                    if p not in ("event", "Task Completed", "Task Refunded")
                ),
                issue["msg"].removeprefix("Value error, "),
            )
            for issue in error.errors()
        ]
        return "invalid event: " + join_issues(issues, shown=SHOWN_ISSUES)
    if isinstance(error, JsonInputError) and error.errors:
        return "invalid event: " + join_issues(error.errors, shown=SHOWN_ISSUES)
    return f"invalid event: {error}"


def parse_event_body(body: str) -> TaskCompletedEvent | TaskRefundedEvent:
    """The SQS body as a task event, through the same safe parser as HTTP bodies (depth, int64,
    NaN); ValueError or ValidationError when it is not one."""
    return TaskEventEnvelope.parse(parse_json(body, root="event"))


def _task_id_of(body: str) -> str | None:
    """The task id of an unparsable or failing delivery, for its logs, when one can be found."""
    try:
        detail = json.loads(body).get("detail", {})
        task_id = detail.get("task_id") if isinstance(detail, dict) else None
    except (ValueError, RecursionError, AttributeError):
        return None
    return task_id if isinstance(task_id, str) else None


class BillingConsumer:
    """One SQS message at a time: parse, bill or refund, or dead-letter what can never succeed.

    Nothing fails silently (docs/billing.md): every exception is logged at ERROR with the task id
    and the
    message id. A retryable failure (storage unavailable, a refund before its charge, anything
    unexpected) raises, so the batch reports that message as failed and SQS redelivers it; on its
    last allowed receive it is dead-lettered here instead, with the reason of that last failure,
    so no message reaches the dead-letter queue without one."""

    def __init__(
        self,
        service: BillingService,
        dead_letters: DeadLetters,
        *,
        max_receives: int = 5,
    ) -> None:
        self.service = service
        self.dead_letters = dead_letters
        self.max_receives = max_receives

    def process(self, body: str, message_id: str, receive_count: int = 1) -> Processed:
        try:
            return self._process(body, message_id)
        except Exception as error:
            task_id = _task_id_of(body)
            detail = error.detail if isinstance(error, StorageError) else str(error)
            reason = f"{type(error).__name__}: {detail}"
            retryable = not isinstance(error, StorageError) or error.retryable
            last = receive_count >= self.max_receives
            logger.exception(
                "billing failed",
                extra={
                    "task_id": task_id,
                    "message_id": message_id,
                    "receive_count": receive_count,
                    "reason": reason,
                    "retrying": retryable and not last,
                },
            )
            if retryable and not last:
                raise
            if retryable:
                reason = f"gave up after {receive_count} receives: {reason}"
            return self._dead_letter(body, reason, message_id, task_id)

    def _dead_letter(
        self,
        body: str,
        reason: str,
        message_id: str,
        task_id: str | None,
        *,
        conflict: bool = False,
    ) -> Processed:
        self.dead_letters.send(body, reason, message_id)
        logger.error(
            "event dead-lettered",
            extra={"task_id": task_id, "message_id": message_id, "reason": reason},
        )
        return Processed("dead_lettered", task_id, reason=reason, conflict=conflict)

    def _process(self, body: str, message_id: str) -> Processed:
        size = len(body.encode("utf-8", "surrogatepass"))
        if size > MAX_EVENT_BYTES:
            reason = f"invalid event: {size} bytes; the limit is {MAX_EVENT_BYTES} bytes"
            return self._dead_letter(body, reason, message_id, _task_id_of(body))
        try:
            event = parse_event_body(body)
        except (ValueError, RecursionError, ValidationError) as error:
            return self._dead_letter(body, describe_invalid(error), message_id, _task_id_of(body))
        if isinstance(event, TaskCompletedEvent):
            task = event.detail
            implausible = task.implausible_at(self.service.clock())
            if implausible:
                return self._dead_letter(body, implausible, message_id, task.task_id)
            record, outcome = self.service.bill(task)
            if outcome is LedgerOutcome.CONFLICT:
                reason = f"conflicting duplicate of task {task.task_id}"
                return self._dead_letter(body, reason, message_id, task.task_id, conflict=True)
            if outcome is LedgerOutcome.DUPLICATE:
                return Processed("duplicate", record.task_id)
            return Processed(
                "billed", record.task_id, needs_review=record.billing_status == "needs_review"
            )
        implausible = event.detail.implausible_at(self.service.clock())
        if implausible:
            return self._dead_letter(body, implausible, message_id, event.detail.task_id)
        try:
            outcome = self.service.refund(event.detail)
        except StorageError as error:
            if error.retryable:
                raise
            return self._dead_letter(body, error.detail, message_id, event.detail.task_id)
        return Processed(
            "refund_duplicate" if outcome is LedgerOutcome.DUPLICATE else "refunded",
            event.detail.task_id,
        )
