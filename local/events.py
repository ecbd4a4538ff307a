"""POST /local/events: EventBridge → SQS → billing, as deployed, but synchronous.

Each event is matched against the template's rules (source and detail-type), queued for the
rule's target queue, and delivered to that queue's consumer function in batches of its
BatchSize as SQS records. Messages the function reports as failed (ReportBatchItemFailures) are
delivered again, up to the queue's maxReceiveCount, then moved to its dead-letter queue. The
request returns when every message has been processed or dead-lettered."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .functions import LocalFunction
from .template import Template


@dataclass
class Message:
    message_id: str
    body: str
    receive_count: int = 0


@dataclass
class Consumer:
    function: str
    batch_size: int
    max_receive_count: int
    dead_letter_queue: str | None


@dataclass
class DeliveryReport:
    accepted: int = 0
    unmatched: int = 0
    invocations: int = 0
    redeliveries: int = 0
    # Every message of this delivery that ended in a dead-letter queue, whether billing sent it
    # there itself (poison, with its reason) or it exhausted maxReceiveCount here.
    dead_lettered: list[dict[str, str | None]] = field(default_factory=list)
    dead_letter_queue_depth: dict[str, int] = field(default_factory=dict)


class LocalEventBus:
    def __init__(
        self,
        template: Template,
        functions: dict[str, LocalFunction],
        sqs: Any,
        queue_urls: dict[str, str],
    ) -> None:
        self.functions = functions
        self.sqs = sqs
        self.queue_urls = queue_urls
        self.rules = [
            (props.get("EventPattern", {}), target["Arn"]["Fn::GetAtt"][0])
            for props in (
                r.get("Properties", {}) for r in template.of_type("AWS::Events::Rule").values()
            )
            for target in props.get("Targets", [])
        ]
        queues = template.queues()
        self.consumers: dict[str, Consumer] = {}
        for spec in template.functions().values():
            for event in spec.events.values():
                if event.get("Type") != "SQS":
                    continue
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                redrive = queues.get(queue, {}).get("RedrivePolicy", {})
                dlq = redrive.get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
                self.consumers[queue] = Consumer(
                    function=spec.logical_id,
                    batch_size=int(event["Properties"].get("BatchSize", 10)),
                    max_receive_count=int(redrive.get("maxReceiveCount", 1)),
                    dead_letter_queue=dlq,
                )
        self._lock = threading.Lock()

    def put_events(self, events: list[dict[str, Any]]) -> DeliveryReport:
        report = DeliveryReport(accepted=len(events))
        pending: dict[str, list[Message]] = {}
        for event in events:
            full = _with_envelope(event)
            queue = next((q for pattern, q in self.rules if _matches(pattern, full)), None)
            if queue is None or queue not in self.consumers:
                report.unmatched += 1
                continue
            pending.setdefault(queue, []).append(Message(str(uuid.uuid4()), json.dumps(full)))
        sent = {m.message_id for messages in pending.values() for m in messages}
        with self._lock:  # one poller per queue, as Lambda's event source mapping would be
            for queue, messages in pending.items():
                self._drain(queue, messages, report)
            for consumer in self.consumers.values():
                if consumer.dead_letter_queue:
                    report.dead_lettered += [
                        letter
                        for letter in self.dead_letters(consumer.dead_letter_queue)
                        if letter["message_id"] in sent
                    ]
        for consumer in self.consumers.values():
            if consumer.dead_letter_queue:
                attributes = self.sqs.get_queue_attributes(
                    QueueUrl=self.queue_urls[consumer.dead_letter_queue],
                    AttributeNames=["ApproximateNumberOfMessages"],
                )["Attributes"]
                report.dead_letter_queue_depth[consumer.dead_letter_queue] = int(
                    attributes["ApproximateNumberOfMessages"]
                )
        return report

    def _drain(self, queue: str, messages: list[Message], report: DeliveryReport) -> None:
        consumer = self.consumers[queue]
        while messages:
            batch, messages = messages[: consumer.batch_size], messages[consumer.batch_size :]
            for message in batch:
                message.receive_count += 1
            report.invocations += 1
            failed = self._invoke(consumer, queue, batch)
            for message in batch:
                if message.message_id not in failed:
                    continue
                if message.receive_count < consumer.max_receive_count:
                    report.redeliveries += 1
                    messages.append(message)
                elif consumer.dead_letter_queue:
                    # SQS's redrive keeps no reason; the local one says what happened.
                    reason = f"failed {message.receive_count} receives (maxReceiveCount)"
                    self.sqs.send_message(
                        QueueUrl=self.queue_urls[consumer.dead_letter_queue],
                        MessageBody=message.body,
                        MessageAttributes={
                            "reason": {"DataType": "String", "StringValue": reason},
                            "source_message_id": {
                                "DataType": "String",
                                "StringValue": message.message_id,
                            },
                        },
                    )

    def dead_letters(self, queue: str) -> list[dict[str, str | None]]:
        """Every message of a dead-letter queue, left in it: its body, reason, the message id it
        had on the billing queue and its task id. Each page is hidden while the next is read,
        then all are made visible again (a local DLQ is only ever inspected)."""
        url = self.queue_urls[queue]
        messages: list[dict[str, Any]] = []
        while True:
            page = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not page:
                break
            messages += page
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

        def attribute(message: dict[str, Any], name: str) -> str | None:
            value = message.get("MessageAttributes", {}).get(name, {}).get("StringValue")
            return value if isinstance(value, str) else None

        return [
            {
                "message_id": attribute(m, "source_message_id"),
                "task_id": _task_id(m["Body"]),
                "reason": attribute(m, "reason"),
                "body": m["Body"],
            }
            for m in messages
        ]

    def _invoke(self, consumer: Consumer, queue: str, batch: list[Message]) -> set[str]:
        now = str(int(datetime.now(UTC).timestamp() * 1000))
        event = {
            "Records": [
                {
                    "messageId": m.message_id,
                    "receiptHandle": f"local-{m.message_id}-{m.receive_count}",
                    "body": m.body,
                    "attributes": {
                        "ApproximateReceiveCount": str(m.receive_count),
                        "SentTimestamp": now,
                        "ApproximateFirstReceiveTimestamp": now,
                    },
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue}",
                    "awsRegion": "us-east-1",
                }
                for m in batch
            ]
        }
        try:
            result = self.functions[consumer.function].invoke(event)
        except Exception:  # a failed invocation returns the whole batch to the queue
            return {m.message_id for m in batch}
        return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}


def _task_id(body: str) -> str | None:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return None
    task_id = detail.get("task_id") if isinstance(detail, dict) else None
    return task_id if isinstance(task_id, str) else None


def _with_envelope(event: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge adds to a PutEvents entry."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "account": "000000000000",
        "region": "us-east-1",
        "resources": [],
        **event,
    }


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return all(
        event.get(key) in allowed for key, allowed in pattern.items() if isinstance(allowed, list)
    )
