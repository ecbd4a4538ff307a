"""Hostile and careless task events against the billing function: every task ends billed exactly once or dead-lettered with
its reason; conflicts are not duplicates; implausible times are poison; nothing fails silently."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext
from tests.hostile_pricing import FIVE_FILTERS

from .billing_helpers import Billing, completed, sqs_batch


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


def reasons(aws: AwsWorld) -> list[str]:
    return sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in aws.dead_letters())


def charged(world: Billing) -> dict[str, int]:
    return {r["task_id"]: int(r["charged"]) for r in world.records()}


def with_outputs(event: dict[str, Any], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    event["detail"]["output_meta"]["outputs"] = outputs
    return event


def test_given_formulas_over_the_budget_when_billed_then_the_task_is_recorded_for_review(
    world: Billing, aws: AwsWorld
) -> None:
    # The first version lost this task: five filters × two formulas over 1,000 images.
    pricing = {"inference_expression": FIVE_FILTERS, "royalty_expression": FIVE_FILTERS}
    assert world.patch("team_a/flux", pricing)[0] == 200
    assert world.publish("team_a/flux")[0] == 200
    event = with_outputs(completed("t-heavy"), [{"type": "image"}] * 1000)

    assert world.deliver(event) == []

    [record] = world.records()
    assert record["billing_status"] == "needs_review"
    assert record["errors"] == {
        "inference_fee": "evaluation budget exceeded",
        "royalty_fee": "evaluation budget exceeded",
    }
    assert int(record["charged"]) == int(record["resource_fee"]) == 5_232_498
    assert aws.dead_letters() == []


@pytest.mark.parametrize(
    ("second", "conflicting"),
    [
        (lambda e: e, False),
        (lambda e: {**e, "id": "another-envelope-id"}, False),
        (lambda e: {**e, "detail": {**e["detail"], "team_id": "team_b"}}, True),
        (lambda e: with_outputs(json.loads(json.dumps(e)), [{"type": "image", "count": 50}]), True),
        (lambda e: {**e, "detail": {**e["detail"], "status": "failed"}}, True),
        (lambda e: {**e, "detail": {**e["detail"], "task_inputs": {"steps": 21}}}, True),
    ],
    ids=["same event", "same detail, new envelope", "another team", "other usage", "other status",
         "other inputs"],
)  # fmt: skip
def test_given_a_task_billed_when_its_id_arrives_again_then_only_changed_content_conflicts(
    world: Billing, aws: AwsWorld, second: Any, conflicting: bool
) -> None:
    first = completed("t1")
    world.deliver(first)
    before = charged(world)

    assert world.deliver(second(first)) == []

    assert charged(world) == before
    assert reasons(aws) == (["conflicting duplicate of task t1"] if conflicting else [])


@pytest.mark.parametrize(
    ("completed_at", "started_offset", "reason"),
    [
        (
            datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
            timedelta(minutes=10),
            "completed_at 9999-12-31T23:59:00+00:00 is more than 15 minutes in the future",
        ),
        (
            datetime.now(UTC).replace(microsecond=0) + timedelta(days=2),
            timedelta(minutes=10),
            "is more than 15 minutes in the future",
        ),
        (
            datetime(999, 6, 1, tzinfo=UTC),
            timedelta(minutes=10),
            "completed_at 0999-06-01T00:00:00+00:00 is before 2000-01-01T00:00:00Z",
        ),
        (
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
            timedelta(minutes=10),
            "is before 2000-01-01T00:00:00Z",
        ),
        (
            datetime.now(UTC) - timedelta(hours=1),
            -timedelta(minutes=5),
            "started_at is after completed_at",
        ),
    ],
    ids=["year 9999", "two days ahead", "year 999", "1999", "started after completed"],
)
def test_given_an_implausible_time_when_billed_then_it_is_poison_with_its_reason(
    world: Billing, aws: AwsWorld, completed_at: datetime, started_offset: timedelta, reason: str
) -> None:
    event = completed("t-time", completed_at=completed_at)
    event["detail"]["started_at"] = (completed_at - started_offset).isoformat()

    assert world.deliver(event) == []

    assert world.records() == []
    [found] = reasons(aws)
    assert found.startswith("invalid event: ")
    assert reason in found


def test_given_a_completion_within_the_clock_skew_then_it_is_billed(world: Billing) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=14)
    assert world.deliver(completed("t-skew", completed_at=soon)) == []
    assert list(charged(world)) == ["t-skew"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            '{"detail": {"task_id": "t", "task_inputs": {"x": NaN}}}',
            "invalid event: detail.task_inputs.x: NaN and Infinity are not JSON numbers",
        ),
        ('{"detail": {"x": Infinity}}', "NaN and Infinity are not JSON numbers"),
        ("[" * 5000 + "]" * 5000, "nests deeper than 32 levels"),
        ('{"detail": {"n": ' + "9" * 5000 + "}}", "invalid event: detail.n: integer out of range"),
        (
            '{"detail": {"task_inputs": {"model": "a\\u0000b"}}}',
            "invalid event: detail.task_inputs.model: string holds a NUL character (\\u0000)",
        ),
    ],
    ids=["NaN", "Infinity", "deep nesting", "huge integer", "NUL character"],
)
def test_given_a_malformed_body_then_it_is_dead_lettered_with_a_reason(
    world: Billing, aws: AwsWorld, body: str, reason: str
) -> None:
    assert world.deliver(body) == []
    [found] = reasons(aws)
    assert reason in found


class ExplodingPricing:
    def live_at(self, app: str, moment: datetime) -> Any:
        raise KeyError("pricing repository bug")


def test_given_an_unexpected_exception_then_it_is_logged_retried_and_finally_dead_lettered(
    world: Billing, aws: AwsWorld, caplog: pytest.LogCaptureFixture
) -> None:
    world.billing.consumer.service.pricing = ExplodingPricing()
    event = completed("t-bug")
    caplog.set_level(logging.ERROR)
    for receive in (1, 4):
        batch = sqs_batch(event)
        batch["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(receive)
        result = world.billing.lambda_handler(batch, LambdaContext())
        assert result["batchItemFailures"] == [{"itemIdentifier": "msg-0"}]
    assert aws.dead_letters() == []
    batch = sqs_batch(event)
    batch["Records"][0]["attributes"]["ApproximateReceiveCount"] = "5"

    result = world.billing.lambda_handler(batch, LambdaContext())

    assert result["batchItemFailures"] == []
    assert reasons(aws) == ["gave up after 5 receives: KeyError: 'pricing repository bug'"]
    failures = [r for r in caplog.records if r.getMessage() == "billing failed"]
    assert len(failures) == 3
    assert all(r.levelno == logging.ERROR for r in failures)
    assert {getattr(r, "task_id", None) for r in failures} == {"t-bug"}
    assert {getattr(r, "message_id", None) for r in failures} == {"msg-0"}


def test_given_a_rate_that_overflows_int64_then_the_resource_fee_carries_the_error(
    world: Billing,
) -> None:
    event = completed(
        "t-overflow",
        resources=[{"name": "g", "type": "gpu", "count": 1024, "price_per_hour": 10**15}],
        elapsed_ms=366 * 86_400_000,
    )
    event["detail"]["started_at"] = (
        datetime.fromisoformat(event["detail"]["completed_at"]) - timedelta(days=366)
    ).isoformat()

    assert world.deliver(event) == []

    [record] = world.records()
    assert record["errors"]["resource_fee"] == "the fee overflows int64"
    assert int(record["resource_fee"]) == 0
    assert record["billing_status"] == "needs_review"


def test_given_mixed_resources_then_meter_price_describes_the_metered_row(world: Billing) -> None:
    resources = [
        {"name": "cpu", "type": "cpu", "price_per_second": 10},
        {"name": "gpu", "type": "gpu", "meter": "llm/micro"},
    ]
    world.deliver(completed("t-mixed", resources=resources))
    status, cost = world.cost("t-mixed")
    assert status == 200
    assert cost["meter"] == "llm/micro"
    assert cost["meter_price"] == {"value": 31_394_988, "dollars": "0.31394988"}


def sized_event(task_id: str, size: int) -> str:
    """A task event of exactly `size` bytes: incompressible task inputs fill it up."""
    import random
    import string

    event = completed(task_id)
    event["detail"]["task_inputs"] = {"x": ""}
    room = size - len(json.dumps(event))
    letters = random.Random(5).choices(string.ascii_letters + string.digits, k=room)
    event["detail"]["task_inputs"] = {"x": "".join(letters)}
    body = json.dumps(event)
    assert len(body) == size
    return body


def test_given_events_around_256_kb_when_billed_then_the_largest_is_billed_reproducibly_and_a_byte_more_is_poison(
    world: Billing, aws: AwsWorld
) -> None:
    from usage_pricing.core.limits import MAX_EVENT_BYTES
    from usage_pricing.ledger.charges import reprice
    from usage_pricing.pricing.model import AppPricing

    assert (
        world.deliver(
            sized_event("t-max", MAX_EVENT_BYTES), sized_event("t-over", MAX_EVENT_BYTES + 1)
        )
        == []
    )
    assert reasons(aws) == [
        f"invalid event: {MAX_EVENT_BYTES + 1} bytes; the limit is {MAX_EVENT_BYTES} bytes"
    ]
    [item] = world.records()
    assert item["task_id"] == "t-max" and "priced_from_z" in item and "priced_from" not in item
    ledger = world.billing.consumer.service.ledger
    record = ledger.get("t-max")
    assert record is not None and len(record.priced_from) > 250_000
    charge = reprice(record, AppPricing(), world.billing.consumer.service.evaluator)
    assert charge.charged == record.charged == 5_232_498
