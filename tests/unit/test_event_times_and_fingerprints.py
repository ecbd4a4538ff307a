"""Task events: a time that overflows when converted to UTC is poison, not retried, and two events
have the same fingerprint exactly when they price alike."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from usage_pricing.ledger.billing import parse_event_body

LONG = [1] * 20_000
LITERAL = "[" + ",".join(["1"] * 1990) + "]"


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_given_a_time_that_overflows_in_utc_then_the_event_is_poison_not_retried(
    started_at: str,
) -> None:
    # Today: OverflowError escapes parsing, is treated as retryable, 5 receives, then the DLQ.
    body = {
        "source": "inference.tasks",
        "detail-type": "Task Completed",
        "detail": {
            "task_id": "t1", "team_id": "team_a", "app": "team_a/app", "status": "completed",
            "started_at": started_at, "completed_at": "2026-01-01T00:00:00Z", "elapsed_ms": 1,
        },
    }  # fmt: skip
    with pytest.raises((ValueError, ValidationError)) as raised:
        parse_event_body(json.dumps(body))
    assert not isinstance(raised.value, OverflowError)


def _task(**changes: object) -> object:
    from usage_pricing.usage.events import TaskCompleted

    detail: dict[str, object] = {
        "task_id": "t1", "team_id": "team_a", "app": "team_a/app", "status": "completed",
        "started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:01:00Z",
        "elapsed_ms": 60_000,
    }  # fmt: skip
    return TaskCompleted.model_validate({**detail, **changes})


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ({}, {"output_meta": {}}, True),
        ({}, {"output_meta": {"inputs": [], "outputs": []}}, True),
        ({}, {"function": "other"}, True),
        ({}, {"completed_at": "2026-01-01T01:01:00+01:00"}, True),
        ({}, {"task_id": "t2"}, True),
        ({}, {"team_id": "team_b"}, False),
        ({"task_inputs": {"x": 1}}, {"task_inputs": {"x": 1.0}}, False),
        ({}, {"output_meta": {"outputs": [{"type": "image"}]}}, False),
        ({}, {"elapsed_ms": 60_001}, False),
    ],
    ids=["no meta vs empty", "no meta vs empty lists", "function", "same instant, other offset",
         "task id", "team", "int vs double input", "usage", "elapsed"],
)  # fmt: skip
def test_given_two_events_then_their_fingerprints_agree_exactly_when_they_price_alike(
    first: dict[str, object], second: dict[str, object], same: bool
) -> None:
    a, b = _task(**first), _task(**second)
    assert (a.fingerprint() == b.fingerprint()) is same  # type: ignore[attr-defined]
