"""Billing: SQS batches of task events (from EventBridge) → one billing record per task."""

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logger, metrics, tracer
from usage_pricing.ledger.billing import BillingConsumer, BillingService, SqsDeadLetters
from usage_pricing.runtime.wiring import Wiring

wiring = Wiring()
# Every charge and refund also moves the budgets that apply, in its own transaction.
wiring.ledger().controls = wiring.budget_charges()
consumer = BillingConsumer(
    BillingService(
        wiring.ledger(), wiring.pricing(), wiring.evaluator(), relay=wiring.outbox_relay()
    ),
    SqsDeadLetters(boto3.client("sqs"), wiring.settings.dead_letter_queue_url),
    max_receives=wiring.settings.max_receive_count,
)
# An all-failed batch is reported like any other, message by message, instead of raising.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

METRIC_FOR = {
    "billed": "TasksBilled",
    "duplicate": "DuplicateDeliveries",
    "refunded": "RefundsApplied",
    "refund_duplicate": "DuplicateRefunds",
    "dead_lettered": "EventsDeadLettered",
}


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    logger.set_correlation_id(record.message_id)  # this message's lines, across its redeliveries
    processed = consumer.process(record.body, record.message_id, receives)
    metrics.add_metric(name=METRIC_FOR[processed.outcome], unit=MetricUnit.Count, value=1)
    if processed.conflict:
        metrics.add_metric(name="ConflictingDuplicates", unit=MetricUnit.Count, value=1)
    if processed.needs_review:
        metrics.add_metric(name="BillingNeedsReview", unit=MetricUnit.Count, value=1)
        logger.warning(
            "billed with formula errors: needs review", extra={"task_id": processed.task_id}
        )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
