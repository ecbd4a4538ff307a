"""What a task event may say: free text is short and printable, and a refund is dated between its
task's completion and a little after billing runs (docs/billing.md). Anything else is poison:
dead-lettered on its first delivery with a reason naming the field, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld

from .billing_helpers import Billing, completed, refunded


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


def reasons(aws: AwsWorld) -> list[str]:
    return [m["MessageAttributes"]["reason"]["StringValue"] for m in aws.dead_letters()]


def _resource(**fields: Any) -> list[dict[str, Any]]:
    return [{"name": "gpu0", "type": "gpu", "model": "m", "price_per_second": 1, **fields}]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"app_version": "v" * 129}, "app_version: String should have at most 128 characters"),
        ({"app_version": "1.0\n=cmd"}, "app_version: must not contain control characters"),
        ({"function": "run\x1b[31m"}, "function: must not contain control characters"),
        ({"resources": _resource(model="m" * 129)}, "resources.0.model: String should have at most 128 characters"),
        ({"resources": _resource(model="a\u2028b")}, "resources.0.model: must not contain control characters"),
        ({"resources": _resource(name="gpu\t0")}, "resources.0.name: must not contain control characters"),
        ({"resources": _resource(name="\x85")}, "resources.0.name: must not contain control characters"),
        ({"resources": _resource(model="gpt\u200b4")}, "resources.0.model: must not contain control characters"),
        ({"app_version": "\u202e1.0"}, "app_version: must not contain control characters"),
        ({"function": "run\ufeff"}, "function: must not contain control characters"),
    ],
    ids=["long version", "newline", "escape", "long model", "line separator", "tab", "C1 control", "zero-width space", "right-to-left override", "byte order mark"],
)  # fmt: skip
def test_given_free_text_too_long_or_with_control_characters_when_billed_then_it_is_poison_naming_the_field(
    world: Billing, aws: AwsWorld, changes: dict[str, Any], reason: str
) -> None:
    event = completed("t-text")
    event["detail"].update(changes)
    assert world.deliver(event) == []
    assert world.records() == []
    assert reasons(aws) == [f"invalid event: detail.{reason}"]


def test_given_128_printable_characters_of_any_script_then_the_task_is_billed(
    world: Billing, aws: AwsWorld
) -> None:
    event = completed("t-text-ok", app_version="ü" * 128, resources=_resource(model="模" * 128))
    assert world.deliver(event) == []
    assert aws.dead_letters() == []
    [record] = world.records()
    assert record["app_version"] == "ü" * 128


def _refund_at(task_id: str, moment: datetime, reason: str = "goodwill") -> dict[str, Any]:
    event = refunded(task_id, reason=reason)
    event["detail"]["refunded_at"] = moment.isoformat()
    return event


def test_given_a_refund_dated_before_its_task_completed_then_it_is_poison_and_the_charge_stands(
    world: Billing, aws: AwsWorld
) -> None:
    done = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert world.deliver(completed("t-r1", completed_at=done)) == []
    assert world.deliver(_refund_at("t-r1", datetime(1999, 1, 1, tzinfo=UTC))) == []
    assert reasons(aws) == [
        "invalid event: refunded_at 1999-01-01T00:00:00Z is before 2026-11-30T11:45:00Z, the"
        " earliest a refund of task t-r1 may be (its completed_at less the clock-skew allowance)"
    ]
    [record] = world.records()
    assert record["refunded"] is False
    assert world.aggregates()["r:calls"] == 0


def test_given_a_refund_at_the_edges_of_its_allowance_then_only_the_plausible_one_applies(
    world: Billing, aws: AwsWorld
) -> None:
    done = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    assert world.deliver(completed("t-r2", completed_at=done)) == []
    assert world.deliver(completed("t-r3", completed_at=done)) == []
    # 16 minutes before completion: poison. 14 minutes before: within the clock-skew allowance.
    assert world.deliver(_refund_at("t-r2", done - timedelta(minutes=16))) == []
    assert world.deliver(_refund_at("t-r3", done - timedelta(minutes=14))) == []
    earliest = (done - timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert [r.split(" is ", 1)[1] for r in reasons(aws)] == [
        f"before {earliest}, the earliest a refund of task t-r2 may be (its completed_at less"
        " the clock-skew allowance)"
    ]
    refunded_ids = sorted(r["task_id"] for r in world.records() if r["refunded"])
    assert refunded_ids == ["t-r3"]


def test_given_a_refund_dated_more_than_15_minutes_ahead_then_it_is_poison(
    world: Billing, aws: AwsWorld
) -> None:
    assert world.deliver(completed("t-r4")) == []
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20)
    assert world.deliver(_refund_at("t-r4", ahead)) == []
    [reason] = reasons(aws)
    assert reason == (
        f"invalid event: refunded_at {ahead.isoformat()} is more than 15 minutes in the future"
    )
    assert not any(r["refunded"] for r in world.records())


def test_given_a_refund_reason_of_129_characters_then_it_is_poison_naming_the_field(
    world: Billing, aws: AwsWorld
) -> None:
    assert world.deliver(completed("t-r5")) == []
    assert world.deliver(refunded("t-r5", reason="r" * 129)) == []
    assert reasons(aws) == [
        "invalid event: detail.reason: String should have at most 128 characters"
    ]
