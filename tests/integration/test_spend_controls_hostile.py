"""Spend controls under hostile or unlucky input (docs/spend-controls.md): what a budget, a hold
or the outbox makes us read, store and do, and what happens when a step between two writes fails.
Each test names the class of bug it stands for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld
from tests.integration.billing_helpers import completed
from tests.integration.controls_helpers import Controls, Recorder, fig
from usage_pricing.core.errors import AnswerTooLargeError, StorageError
from usage_pricing.edge.problems import MAX_DETAIL, bounded


@pytest.fixture
def controls(aws: AwsWorld, recorder: Recorder) -> Iterator[Controls]:
    yield Controls(aws)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    from usage_pricing.runtime.wiring import Wiring

    found = Recorder()
    monkeypatch.setattr(Wiring, "publisher_factory", found.publisher)
    return found


class FailingSeed:
    """The budgets handler's period-so-far read, failing with `error` on the calls numbered in
    `failing` (1 is the first)."""

    def __init__(self, real: Any, error: Exception, failing: range | set[int]) -> None:
        self.real = real
        self.error = error
        self.failing = failing
        self.calls = 0

    def __call__(
        self, team_id: str, app: str | None, tz: str, start: datetime, end: datetime
    ) -> int:
        self.calls += 1
        if self.calls in self.failing:
            raise self.error
        return int(self.real(team_id, app, tz, start, end))


# ---- a budget made visible before its seed: a failed seed must not leave it under-counting ----


def test_given_the_seed_read_fails_once_when_the_put_is_retried_then_the_budget_counts_the_period_so_far(
    controls: Controls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Class: two steps (make the budget visible, then add what the period spent) where the second
    # fails. The retry of the same PUT changes no scope, so it used to skip the seed for good: a
    # block budget then let the period's earlier spend through again.
    assert controls.deliver(completed("t1")) == []
    c = controls.charged("t1")
    seed = FailingSeed(
        controls.budgets.budgets.spend_so_far, StorageError("throttled", retryable=True), {2}
    )
    monkeypatch.setattr(controls.budgets.budgets, "spend_so_far", seed)
    body = {"period": "month", "limit": 2 * c, "action": "block"}
    status, problem = controls.put("m", body)
    assert status == 503, problem  # the read after the budget became visible failed
    assert seed.calls == 2
    assert controls.get("m")[1]["spent"] == fig(0)  # visible, not yet seeded
    # A charge while it is unseeded: the counter has it already, the seed must not add it again.
    assert controls.deliver(completed("t2")) == []
    c2 = controls.charged("t2")
    status, view = controls.put("m", body)
    assert status == 200, view
    assert view["spent"] == fig(c + c2)
    # seeded once: a third PUT adds nothing
    assert controls.put("m", body)[1]["spent"] == fig(c + c2)
    status, problem = controls.authorize(
        {"task_id": "h1", "app": "team_a/flux", "amount": 2 * c - (c + c2) + 1}
    )
    assert status == 402, problem


def test_given_a_period_too_large_to_read_when_a_budget_is_put_then_422_and_no_budget_is_left_behind(
    controls: Controls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The seed's read has the spend answers' item budget (a 422 past it). Asked after the
    # budget was saved, the 422 left a budget that never counted the period so far.
    seed = FailingSeed(
        controls.budgets.budgets.spend_so_far, AnswerTooLargeError("too many items"), range(1, 100)
    )
    monkeypatch.setattr(controls.budgets.budgets, "spend_so_far", seed)
    status, problem = controls.put("m", {"period": "month", "limit": 10**9})
    assert status == 422, problem
    assert problem["detail"] == "too many items"
    assert controls.get("m")[0] == 404
    assert controls.list()[1] == {"data": []}


# ---- an estimate's amount has the same bounds as an amount ----------------------------------


def test_given_an_estimate_that_prices_at_zero_when_authorized_then_400_names_estimate_and_nothing_is_held(
    controls: Controls,
) -> None:
    # Class: the same input by two routes with one bound checked on only one. `amount` must be
    # 1 to 10^15; an estimate that prices at 0 answered a 201 for a hold that holds nothing.
    assert controls.put("hard", {"period": "month", "limit": 1000, "action": "block"})[0] == 201
    estimate = {"output_meta": {"inputs": [], "outputs": []}, "usage_seconds": 0}
    status, problem = controls.authorize(
        {"task_id": "z1", "app": "team_a/free", "estimate": estimate}
    )
    assert status == 400, problem
    assert problem["errors"] == [
        {"field": "estimate", "message": "prices at 0 microcents: there is nothing to hold"}
    ]
    assert controls.get("hard")[1]["held"] == fig(0)


def test_given_an_estimate_above_the_largest_hold_when_authorized_then_400_names_estimate(
    controls: Controls,
) -> None:
    # 10^15 microcents is the largest hold (its sums stay inside int64); an estimate priced
    # above it was held all the same.
    assert controls.patch("team_a/flux", {"total_expression": "10000000000000000"})[0] == 200
    assert controls.publish("team_a/flux")[0] == 200
    estimate = {"output_meta": {"inputs": [], "outputs": []}, "usage_seconds": 1}
    status, problem = controls.authorize(
        {"task_id": "big", "app": "team_a/flux", "estimate": estimate}
    )
    assert status == 400, problem
    assert problem["errors"] == [
        {
            "field": "estimate",
            "message": "prices at 10000000000000000 microcents, more than the largest hold "
            "(1000000000000000)",
        }
    ]


# ---- the outbox sweeper's work per run is bounded, however many events are unsent -----------


def test_given_more_unsent_events_than_one_sweep_may_try_then_it_stops_reports_the_oldest_left_and_the_next_goes_on(
    aws: AwsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Class: work that grows with what a team makes us store. During an EventBridge outage a
    # team whose charges and refunds keep crossing and clearing leaves any number of unsent
    # events; the sweep tried every one in one run, past its 60 s timeout, and reported nothing.
    from usage_pricing.controls import outbox
    from usage_pricing.controls.outbox import Entry, OutboxRelay, outbox_put
    from usage_pricing.controls.store import ControlsStore
    from usage_pricing.core.deadline import BudgetPolicy

    store = ControlsStore(aws.dynamodb.Table("ControlsTable"))
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for n in range(5):
        entry = Entry(f"team_a.m.1.p.100.{n + 1}.crossed", "Budget Threshold Crossed", {"n": n})
        store.transact([outbox_put(store, entry, start + timedelta(seconds=n))], "put")
    monkeypatch.setattr(outbox, "SWEEP_BATCH", 2)
    sent: list[Entry] = []

    class Publisher:
        def put(self, entries: Any) -> list[bool]:
            sent.extend(entries)
            return [True] * len(entries)

    now = start + timedelta(minutes=10)
    relay = OutboxRelay(store, Publisher(), clock=lambda: now)
    relay.budget = BudgetPolicy(margin_ms=0, max_items=10**6, max_queries=2, fallback_ms=60_000)
    assert relay.sweep() == (4, 596.0)  # two pages; the fifth event, 596 s old, is left
    assert [e.detail["n"] for e in sent] == [0, 1, 2, 3]
    assert relay.sweep() == (1, 0.0)
    assert [e.detail["n"] for e in sent] == [0, 1, 2, 3, 4]


# ---- ids in paths have the rules of ids in bodies -------------------------------------------


@pytest.mark.parametrize("task_id", ["a" * 129, "a" * 3000, "t 1", "t\u00e91", "t%2F1"])
def test_given_a_task_id_path_that_no_task_id_can_be_when_a_hold_is_released_then_404_without_a_read(
    controls: Controls, task_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Class: an id accepted in a path without the rules the same id has in a body. A task id is
    # 1-128 of [A-Za-z0-9_.:@-] (core.limits.IDENTIFIER); a path of 3,000 characters reached
    # DynamoDB as a key over its 2,048-byte limit (a ValidationException: a 503 and an error
    # log, for a request that names no hold). As GET /usage/tasks/{taskID}/cost does, such an id
    # is no task's: 404, read nothing.
    def no_read(_key: Any) -> None:
        raise AssertionError("read the controls table")

    monkeypatch.setattr(controls.holds.holds.store, "get", no_read)
    status, problem = controls.release(task_id)
    assert status == 404, problem
    assert problem["detail"] == bounded(f"no hold for task {task_id}", MAX_DETAIL)


# ---- expired holds are removed however many minutes they span ------------------------------


def test_given_a_counter_with_more_expired_minutes_than_eight_writes_remove_when_authorized_then_201_not_429(
    controls: Controls, aws: AwsWorld
) -> None:
    # Class: cleanup work that grows with what a team stored, done inside a retry budget meant
    # for contention. A day of holds with distinct expiry minutes (up to 1,440) leaves as many
    # expired minutes; an authorization removes 40 per write and spent one of its 8 attempts on
    # each sweep, so past 320 it answered 429 "busy" with nobody contending.
    from usage_pricing.controls.periods import now_minute

    assert controls.put("hard", {"period": "month", "limit": 10**12, "action": "block"})[0] == 201
    assert controls.authorize({"task_id": "h0", "app": "team_a/flux", "amount": 5})[0] == 201
    table = aws.dynamodb.Table("ControlsTable")
    [counter] = table.scan(
        FilterExpression="begins_with(pk, :c)", ExpressionAttributeValues={":c": "COUNTER#"}
    )["Items"]
    minute = now_minute(datetime.now(UTC))
    for chunk in range(8):  # 400 expired minutes of 7 microcents each, 50 per update
        names = {f"#e{k}": f"h{minute - 1 - chunk * 50 - k}" for k in range(50)}
        table.update_item(
            Key={"pk": counter["pk"], "sk": counter["sk"]},
            UpdateExpression="ADD committed :sum SET " + ", ".join(f"{n} = :seven" for n in names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":sum": 7 * 50, ":seven": 7},
        )
    status, hold = controls.authorize({"task_id": "h1", "app": "team_a/flux", "amount": 11})
    assert status == 201, hold
    [counter] = table.scan(
        FilterExpression="begins_with(pk, :c)", ExpressionAttributeValues={":c": "COUNTER#"}
    )["Items"]
    assert counter["committed"] == 5 + 11
    assert not [name for name in counter if name.startswith("h") and int(name[1:]) <= minute]


# ---- a throttled batch read ends ---------------------------------------------------------------


def test_given_dynamodb_keeps_returning_unprocessed_keys_when_counters_are_read_then_a_retryable_503_after_a_few_tries() -> (
    None
):
    # Class: a loop whose end is DynamoDB's to decide. BatchGetItem answers the keys it could
    # not read (throttling) as UnprocessedKeys; the read asked again at once, for ever, until
    # the function's timeout (a gateway 5xx, no problem document).
    from types import SimpleNamespace

    from usage_pricing.controls.store import ControlsStore

    calls: list[Any] = []
    slept: list[float] = []

    def batch_get_item(RequestItems: Any) -> Any:  # noqa: N803 — boto3's parameter name
        calls.append(RequestItems)
        if len(calls) > 50:
            raise AssertionError("still asking")
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    table = SimpleNamespace(
        name="ControlsTable",
        meta=SimpleNamespace(client=SimpleNamespace(batch_get_item=batch_get_item)),
    )
    store = ControlsStore(table, sleep=slept.append)
    with pytest.raises(StorageError) as raised:
        store.counters([{"pk": "COUNTER#a", "sk": "2026-12-01T00:00:00Z"}])
    assert raised.value.status == 503 and raised.value.retryable
    assert raised.value.detail == (
        "read spend controls: DynamoDB left keys unread after 6 tries (throttled); retry shortly"
    )
    assert len(calls) == 6
    assert slept == [0.025, 0.05, 0.1, 0.2, 0.4]


# ---- the largest charge transaction fits DynamoDB's 100 items ---------------------------------


def test_given_every_threshold_of_five_budgets_and_a_hold_on_five_others_when_one_charge_crosses_them_all_then_it_commits_once(
    controls: Controls, recorder: Recorder
) -> None:
    # The worst case docs/spend-controls.md counts: 5 applicable budgets, each with 10
    # thresholds all crossed by one charge (50 outbox items), and the task's hold on 5 counters
    # of budgets since re-scoped (5 more updates), beside the record, its 4 aggregates, the
    # revision check, the hold's settlement and the charge entry: 68 items of the 100.
    thresholds = [100 * k for k in range(1, 11)]  # levels 1..10 microcents of a limit of 1
    for n in range(5):
        body = {"period": "month", "limit": 1, "thresholds": thresholds, "app": "team_a/flux"}
        assert controls.put(f"b{n}", body)[0] == 201
    assert controls.authorize({"task_id": "t1", "app": "team_a/flux", "amount": 10**9})[0] == 201
    for n in range(5):  # a new scope (tz), so the hold's counters are not the charge's
        body = {
            "period": "month",
            "limit": 1,
            "thresholds": thresholds,
            "app": "team_a/flux",
            "tz": "Europe/Berlin",
        }
        assert controls.put(f"b{n}", body)[0] == 200
    assert controls.deliver(completed("t1")) == []
    assert sorted(recorder.kinds()) == sorted(
        ("Budget Threshold Crossed", t) for t in thresholds for _ in range(5)
    )
    assert controls.deliver(completed("t1")) == []  # a redelivery adds nothing
    assert len(recorder.sent) == 50
    c = controls.charged("t1")
    for n in range(5):
        assert controls.get(f"b{n}")[1]["spent"] == fig(c)
