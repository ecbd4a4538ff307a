"""Spend controls over moto (docs/spend-controls.md): budgets through their handler, charges
and refunds through billing's, holds through the authorizations handler, events recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld
from tests.integration.billing_helpers import completed, refunded
from tests.integration.controls_helpers import Controls, Recorder, fig


def test_given_a_new_budget_when_put_then_201_with_the_current_period_and_get_list_delete_agree(
    controls: Controls,
) -> None:
    status, view = controls.put("monthly", {"period": "month", "limit": 5_000_000_000})
    assert status == 201, view
    assert view["budget_id"] == "monthly"
    assert view["limit"] == fig(5_000_000_000)
    assert view["thresholds"] == [50, 80, 100]
    assert view["action"] == "alert"
    assert view["tz"] == "UTC"
    assert view["spent"] == fig(0) and view["held"] == fig(0)
    assert view["remaining"] == fig(5_000_000_000)
    assert view["crossed"] == []
    now = datetime.now(UTC)
    assert view["period_start"] == now.strftime("%Y-%m-01T00:00:00Z")
    assert "app" not in view
    status, again = controls.put(
        "monthly", {"period": "month", "limit": 6_000_000_000, "action": "block"}
    )
    assert status == 200 and again["limit"] == fig(6_000_000_000) and again["action"] == "block"
    assert controls.get("monthly")[1]["limit"] == fig(6_000_000_000)
    status, listed = controls.list()
    assert status == 200 and [b["budget_id"] for b in listed["data"]] == ["monthly"]
    assert controls.get("monthly", team="team_b")[0] == 404
    assert controls.delete("monthly", team="team_b")[0] == 404
    assert controls.delete("monthly") == (204, None)
    assert controls.get("monthly")[0] == 404
    assert controls.list()[1] == {"data": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "year", "limit": 1}, "period"),
        ({"period": "day", "limit": 0}, "limit"),
        ({"period": "day", "limit": "100"}, "limit"),
        ({"period": "day", "limit": 2**63}, "limit"),
        ({"period": "day", "limit": 1, "tz": "Mars/Olympus"}, "tz"),
        ({"period": "day", "limit": 1, "thresholds": [0]}, "thresholds.0"),
        ({"period": "day", "limit": 1, "thresholds": [1001]}, "thresholds.0"),
        ({"period": "day", "limit": 1, "thresholds": list(range(1, 12))}, "thresholds"),
        ({"period": "day", "limit": 1, "thresholds": [50, 50]}, "thresholds"),
        ({"period": "day", "limit": 1, "action": "stop"}, "action"),
        ({"period": "day", "limit": 1, "app": "Not An App"}, "app"),
        ({"period": "day", "limit": 1, "colour": "red"}, "colour"),
        ({"period": "day", "limit": 1, "thresholds": []}, "thresholds"),
        ({"period": "day", "limit": 1, "tz": ""}, "tz"),
    ],
)
def test_given_an_invalid_budget_when_put_then_400_names_the_field(
    controls: Controls, body: dict[str, Any], field: str
) -> None:
    status, problem = controls.put("b1", body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]


def test_given_a_bad_budget_id_or_a_read_only_key_when_put_then_400_or_403(
    controls: Controls,
) -> None:
    status, problem = controls.put("Bad.Id", {"period": "day", "limit": 1})
    assert status == 400 and problem["errors"][0]["field"] == "budgetID"
    status, problem = controls.put("b1", {"period": "day", "limit": 1}, scopes="billing:read")
    assert status == 403
    assert controls.put("b1", {"period": "day", "limit": 1}, scopes="billing")[0] == 201
    assert controls.list(scopes="billing:read")[0] == 200
    assert controls.put("b2", {"period": "day", "limit": 1}, scopes="billing:write")[0] == 201


def test_given_five_budgets_apply_to_an_app_when_a_sixth_would_then_409_names_app(
    controls: Controls,
) -> None:
    for index in range(3):
        assert controls.put(f"team{index}", {"period": "day", "limit": 1})[0] == 201
    for index in range(2):
        body = {"period": "day", "limit": 1, "app": "team_a/flux"}
        assert controls.put(f"flux{index}", body)[0] == 201
    status, problem = controls.put("flux9", {"period": "day", "limit": 1, "app": "team_a/flux"})
    assert status == 409 and problem["errors"][0]["field"] == "app"
    status, problem = controls.put("team9", {"period": "day", "limit": 1})
    assert status == 409
    body = {"period": "day", "limit": 1, "app": "team_a/other"}
    assert controls.put("other", body)[0] == 201


def test_given_spend_before_the_budget_when_created_mid_period_then_it_counts_it_and_crossings_follow(
    controls: Controls, recorder: Recorder
) -> None:
    assert controls.deliver(completed("t1")) == []
    c = controls.charged("t1")
    assert c > 0
    status, view = controls.put("m", {"period": "month", "limit": 4 * c, "thresholds": [50, 100]})
    assert status == 201 and view["spent"] == fig(c) and view["crossed"] == []
    assert controls.deliver(completed("t2")) == []
    assert recorder.kinds() == [("Budget Threshold Crossed", 50)]
    assert controls.deliver(completed("t2")) == []  # redelivery: nothing more
    assert controls.deliver(completed("t3"), completed("t4")) == []
    assert recorder.kinds() == [
        ("Budget Threshold Crossed", 50),
        ("Budget Threshold Crossed", 100),
    ]
    crossing = recorder.sent[1].detail
    assert crossing["budget_id"] == "m" and crossing["team_id"] == "team_a"
    assert crossing["limit"] == 4 * c and crossing["spent"] == 4 * c
    assert crossing["threshold"] == 100 and crossing["task_id"] in ("t3", "t4")
    assert set(crossing) == {
        "budget_id", "team_id", "period_start", "period_end", "threshold", "limit", "spent",
        "task_id", "crossed_at", "event_id",
    }  # fmt: skip
    assert controls.get("m")[1]["crossed"] == [50, 100]
    assert controls.deliver(refunded("t4")) == []
    assert recorder.kinds()[-1] == ("Budget Threshold Cleared", 100)
    assert controls.deliver(refunded("t4")) == []
    view = controls.get("m")[1]
    assert view["spent"] == fig(3 * c) and view["crossed"] == [50]
    assert controls.deliver(completed("t5")) == []
    assert recorder.kinds()[-1] == ("Budget Threshold Crossed", 100)
    ids = [e.event_id for e in recorder.sent]
    assert len(ids) == len(set(ids)) == 4
    assert all(e.detail["event_id"] == e.event_id for e in recorder.sent)


def test_given_an_app_budget_when_another_app_is_billed_then_it_does_not_move(
    controls: Controls,
) -> None:
    assert controls.put("flux", {"period": "day", "limit": 10**12, "app": "team_a/flux"})[0] == 201
    assert controls.put("team", {"period": "day", "limit": 10**12})[0] == 201
    assert controls.deliver(completed("t1", app="team_a/other")) == []
    c = controls.charged("t1")
    assert controls.get("flux")[1]["spent"] == fig(0)
    assert controls.get("team")[1]["spent"] == fig(c)


def test_given_a_block_budget_with_room_for_seven_when_eight_holds_then_seven_and_a_402(
    controls: Controls,
) -> None:
    assert controls.put("hard", {"period": "month", "limit": 700, "action": "block"})[0] == 201
    for index in range(7):
        status, hold = controls.authorize(
            {"task_id": f"h{index}", "app": "team_a/flux", "amount": 100}
        )
        assert status == 201, hold
    assert hold["held"] == fig(100)
    assert hold["budgets"] == [{"budget_id": "hard", "remaining": fig(0)}]
    status, problem = controls.authorize({"task_id": "h7", "app": "team_a/flux", "amount": 100})
    assert status == 402
    assert problem["type"] == "urn:usage-pricing:problem:budget-exceeded"
    assert problem["budgets"] == [{"budget_id": "hard", "remaining": fig(0)}]
    view = controls.get("hard")[1]
    assert view["held"] == fig(700) and view["remaining"] == fig(0)
    # idempotent; a different amount is a conflict
    again = controls.authorize({"task_id": "h0", "app": "team_a/flux", "amount": 100})
    assert again[0] == 201 and again[1]["budgets"] == [{"budget_id": "hard", "remaining": fig(600)}]
    status, problem = controls.authorize({"task_id": "h0", "app": "team_a/flux", "amount": 5})
    assert status == 409 and problem["errors"][0]["field"] == "amount"
    # a release makes room; releasing again is a no-op; another team's hold is 404
    assert controls.release("h0", team="team_b")[0] == 404
    assert controls.release("h0") == (204, None)
    assert controls.release("h0") == (204, None)
    assert controls.authorize({"task_id": "h7", "app": "team_a/flux", "amount": 100})[0] == 201
    assert controls.get("hard")[1]["held"] == fig(700)


def test_given_a_held_task_when_billed_then_the_hold_is_settled_with_the_charge(
    controls: Controls,
) -> None:
    assert controls.put("soft", {"period": "month", "limit": 10**12})[0] == 201
    assert controls.authorize({"task_id": "t1", "app": "team_a/flux", "amount": 10**9})[0] == 201
    assert controls.get("soft")[1]["held"] == fig(10**9)
    assert controls.deliver(completed("t1")) == []
    c = controls.charged("t1")
    view = controls.get("soft")[1]
    assert view["held"] == fig(0) and view["spent"] == fig(c)
    assert view["remaining"] == fig(10**12 - c)
    status, problem = controls.release("t1")
    assert status == 409 and problem["detail"] == "task t1 was billed: its hold is settled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task_id": "t", "app": "team_a/flux"}, "body"),
        ({"task_id": "t", "app": "team_a/flux", "amount": 1, "estimate": {}}, "body"),
        ({"task_id": "t", "app": "team_a/flux", "amount": -1}, "amount"),
        ({"task_id": "t", "app": "team_a/flux", "amount": 1, "ttl_seconds": 86_401}, "ttl_seconds"),
        ({"task_id": "t", "app": "team_a/flux", "amount": 1, "ttl_seconds": 59}, "ttl_seconds"),
        ({"task_id": "t t", "app": "team_a/flux", "amount": 1}, "task_id"),
        ({"task_id": "t", "app": "flux", "amount": 1}, "app"),
        (
            {"task_id": "t", "app": "team_a/flux", "estimate": {"usage_seconds": -1}},
            "estimate.usage_seconds",
        ),
        ({"task_id": "t", "app": "team_a/flux", "amount": 0}, "amount"),
        ({"task_id": "t", "app": "team_a/flux", "amount": 10**15 + 1}, "amount"),
        (
            {"task_id": "t", "app": "team_a/flux", "estimate": {"pricing": {"prices": {}}}},
            "estimate.pricing",
        ),
    ],
)
def test_given_an_invalid_authorization_when_posted_then_400_names_the_field(
    controls: Controls, body: dict[str, Any], field: str
) -> None:
    status, problem = controls.authorize(body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]


def test_given_an_estimate_when_authorized_then_it_holds_what_billing_would_charge(
    controls: Controls,
) -> None:
    assert controls.deliver(completed("t0")) == []
    c = controls.charged("t0")
    event = completed("t1")["detail"]
    estimate = {
        "output_meta": event["output_meta"],
        "resources": event["resources"],
        "usage_seconds": event["elapsed_ms"] // 1000,
        "task_inputs": event["task_inputs"],
    }
    status, hold = controls.authorize({"task_id": "t1", "app": "team_a/flux", "estimate": estimate})
    assert status == 201, hold
    assert hold["held"] == fig(c)


def test_given_the_send_fails_or_billing_dies_after_commit_when_swept_then_each_crossing_arrives_once(
    controls: Controls, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from usage_pricing.controls.outbox import OutboxRelay
    from usage_pricing.controls.store import ControlsStore

    assert controls.deliver(completed("t0")) == []
    c = controls.charged("t0")
    body = {"period": "month", "limit": 2 * c, "thresholds": [100, 150]}
    assert controls.put("m", body)[0] == 201
    recorder.fail = 1
    assert controls.deliver(completed("t1")) == []  # committed (crosses 100%); the send failed
    assert recorder.sent == []
    # billing dies between the commit (crossing 150%) and the send: the relay never runs
    monkeypatch.setattr(OutboxRelay, "deliver", lambda self, entries: 0)
    assert controls.deliver(completed("t2")) == []
    monkeypatch.undo()
    assert recorder.sent == []
    store = ControlsStore(controls.aws.dynamodb.Table("ControlsTable"))
    early = OutboxRelay(store, recorder, clock=lambda: datetime.now(UTC))
    sent, oldest = early.sweep()
    assert sent == 0 and oldest > 0  # still claimed by billing, and counted as unsent
    later = OutboxRelay(store, recorder, clock=lambda: datetime.now(UTC) + timedelta(seconds=61))
    assert later.sweep() == (2, 0.0)
    assert later.sweep() == (0, 0.0)
    assert recorder.kinds() == [
        ("Budget Threshold Crossed", 100),
        ("Budget Threshold Crossed", 150),
    ]
    assert controls.deliver(completed("t1"), completed("t2")) == []  # redelivered: no more
    assert later.sweep() == (0, 0.0)
    assert len(recorder.sent) == 2


def test_given_holds_with_a_ttl_when_their_minute_begins_then_they_stop_counting_and_room_returns(
    aws: AwsWorld,
) -> None:
    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.holds import (
        AuthorizationRequest,
        AuthorizationService,
        BudgetExceededError,
    )
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.controls.store import ControlsStore

    now = [datetime(2026, 11, 10, 6, 0, 30, tzinfo=UTC)]
    store = ControlsStore(aws.dynamodb.Table("ControlsTable"))
    budgets = BudgetService(store, lambda *_: 0, lambda: now[0])
    holds = AuthorizationService(store, lambda: now[0], sleep=lambda _s: None)
    budgets.put("team_a", "hard", BudgetRequest(period="month", limit=300, action="block"))

    def hold(task: str, ttl: int) -> Any:
        request = AuthorizationRequest(task_id=task, app="team_a/flux", amount=100, ttl_seconds=ttl)
        return holds.authorize("team_a", request, 100)

    # ttl rounds down to a whole minute: 06:00:30 + 90 s counts until 06:02:00
    assert hold("a", 90).expires_at == "2026-11-10T06:02:00Z"
    assert hold("b", 3600).expires_at == "2026-11-10T07:00:00Z"
    assert hold("c", 3600).budgets[0].remaining.value == 0
    with pytest.raises(BudgetExceededError):
        hold("d", 60)
    now[0] = datetime(2026, 11, 10, 6, 1, 59, tzinfo=UTC)
    assert budgets.get("team_a", "hard").held.value == 300
    now[0] = datetime(2026, 11, 10, 6, 2, 0, tzinfo=UTC)
    assert budgets.get("team_a", "hard").held.value == 200
    assert hold("d", 60).budgets[0].remaining.value == 0  # the expired hold's room, and no more
    with pytest.raises(BudgetExceededError) as refused:
        hold("e", 60)
    assert refused.value.refusals == [
        {"budget_id": "hard", "remaining": {"value": 0, "dollars": "0.00"}}
    ]
    counter = aws.dynamodb.Table("ControlsTable").scan(
        FilterExpression="begins_with(pk, :c)", ExpressionAttributeValues={":c": "COUNTER#"}
    )["Items"]
    # 06:02 (a) was removed by the authorization that reused its room; 06:03 (d), 07:00 (b, c)
    assert [int(counter[0]["committed"]), sorted(k for k in counter[0] if k.startswith("h"))] == [
        300,
        ["h29904843", "h29904900"],
    ]
    # past every expiry nothing counts, and a new period starts empty
    now[0] = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    view = budgets.get("team_a", "hard")
    assert (view.spent.value, view.held.value, view.period_start) == (0, 0, "2026-12-01T00:00:00Z")


def test_given_room_for_seven_when_fifty_threads_race_their_reads_then_the_condition_grants_seven(
    aws: AwsWorld,
) -> None:
    """Every thread has its own service (its own cached budgets), so each reads room before any
    grant commits: only the transaction's condition can keep the count at seven."""
    import threading

    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.holds import (
        AuthorizationRequest,
        AuthorizationService,
        BudgetExceededError,
    )
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.controls.store import ControlsStore

    store = ControlsStore(aws.dynamodb.Table("ControlsTable"))
    BudgetService(store, lambda *_: 0).put(
        "team_a", "hard", BudgetRequest(period="day", limit=700, action="block")
    )
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    original = store.items

    def read_then_wait(keys: list[dict[str, str]]) -> list[dict[str, Any] | None]:
        found = original(keys)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=30)  # everyone has read "room for 7" before anyone writes
        return found

    local = threading.local()
    store.items = read_then_wait  # type: ignore[method-assign]

    def authorize(index: int) -> None:
        service = AuthorizationService(store, sleep=lambda _s: None)
        request = AuthorizationRequest(task_id=f"t{index}", app="team_a/flux", amount=100)
        try:
            service.authorize("team_a", request, 100)
            outcomes.append("granted")
        except BudgetExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=authorize, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["granted"] * 7 + ["refused"] * 43
    store.items = original  # type: ignore[method-assign]
    view = BudgetService(store, lambda *_: 0).get("team_a", "hard")
    assert (view.held.value, view.remaining.value) == (700, 0)


def test_given_a_budget_deleted_and_made_again_for_another_app_then_it_counts_only_that_app(
    controls: Controls,
) -> None:
    assert controls.put("b", {"period": "day", "limit": 10**12})[0] == 201
    assert controls.deliver(completed("t1", app="team_a/flux")) == []
    c = controls.charged("t1")
    assert controls.get("b")[1]["spent"] == fig(c)
    assert controls.delete("b")[0] == 204
    body = {"period": "day", "limit": 10**12, "app": "team_a/other"}
    status, view = controls.put("b", body)
    assert status == 201 and view["spent"] == fig(0)
    assert controls.deliver(completed("t2", app="team_a/other")) == []
    assert controls.get("b")[1]["spent"] == fig(controls.charged("t2"))
    # changing only the limit keeps the counter; changing the app starts a new one from the
    # aggregates (t1 of flux: the day's spend so far)
    body = {"period": "day", "limit": 10**11, "app": "team_a/other"}
    assert controls.put("b", body)[1]["spent"] == fig(controls.charged("t2"))
    body = {"period": "day", "limit": 10**11, "app": "team_a/flux"}
    assert controls.put("b", body)[1]["spent"] == fig(c)


def test_given_a_budget_deleted_after_a_charge_when_the_task_is_refunded_then_billing_refunds_it(
    controls: Controls,
) -> None:
    assert controls.put("gone", {"period": "day", "limit": 10**12})[0] == 201
    assert controls.put("kept", {"period": "day", "limit": 10**12})[0] == 201
    assert controls.deliver(completed("t1")) == []
    assert controls.delete("gone")[0] == 204
    assert controls.deliver(refunded("t1")) == []
    assert controls.get("kept")[1]["spent"] == fig(0)
    status, cost = controls.cost("t1")
    assert status == 200 and cost["refunded"] is True


def test_given_an_unsent_crossing_when_the_sweeper_function_runs_then_it_reports_its_age_and_sends_it_once_claimable(
    controls: Controls, recorder: Recorder, aws: AwsWorld
) -> None:
    from tests.conftest import LambdaContext, sample_event

    assert controls.put("m", {"period": "month", "limit": 1, "thresholds": [100]})[0] == 201
    recorder.fail = 1
    assert controls.deliver(completed("t1")) == []
    sweeper = aws.handler("outbox", "OutboxFunction")
    first = sweeper.lambda_handler(sample_event("outbox"), LambdaContext())
    assert first["sent"] == 0 and first["oldest_unsent_seconds"] > 0  # billing's claim holds
    # as if billing's claim had lapsed (a minute later)
    table = aws.dynamodb.Table("ControlsTable")
    [item] = table.scan(
        FilterExpression="begins_with(pk, :o)", ExpressionAttributeValues={":o": "OUTBOX#"}
    )["Items"]
    table.update_item(Key={"pk": item["pk"], "sk": "OUTBOX"}, UpdateExpression="SET claim_until = :z", ExpressionAttributeValues={":z": 0})  # fmt: skip
    assert sweeper.lambda_handler(sample_event("outbox"), LambdaContext()) == {
        "sent": 1,
        "oldest_unsent_seconds": 0.0,
    }
    assert sweeper.lambda_handler(sample_event("outbox"), LambdaContext())["sent"] == 0
    assert recorder.kinds() == [("Budget Threshold Crossed", 100)]


def test_given_a_released_or_settled_hold_when_asked_again_then_it_is_a_409_and_nothing_is_held(
    controls: Controls,
) -> None:
    # A 201 means a live hold: asking again after a release or a settlement must not answer the
    # old 201 while nothing counts (that let a block budget be overspent).
    assert controls.put("hard", {"period": "month", "limit": 50, "action": "block"})[0] == 201
    body = {"task_id": "r1", "app": "team_a/flux", "amount": 40}
    assert controls.authorize(body)[0] == 201
    assert controls.release("r1") == (204, None)
    status, problem = controls.authorize(body)
    assert status == 409
    assert problem["detail"] == "task r1's hold was released: a task is authorized once"
    assert [e["field"] for e in problem["errors"]] == ["task_id"]
    assert controls.get("hard")[1]["held"] == fig(0)
    # (another team: the first team's budgets stay cached by the handler for a few seconds)
    settled = {"task_id": "t1", "app": "team_b/flux", "amount": 10**9}
    assert controls.put("soft", {"period": "month", "limit": 10**12}, team="team_b")[0] == 201
    assert controls.authorize(settled, team="team_b")[0] == 201
    assert controls.deliver(completed("t1", team="team_b", app="team_b/flux")) == []
    status, problem = controls.authorize(settled, team="team_b")
    assert status == 409
    assert (
        problem["detail"]
        == "task t1's hold was billed: its hold is settled: a task is authorized once"
    )


def test_given_live_pricing_whose_formula_fails_on_an_estimate_then_the_hold_is_refused_not_zero(
    controls: Controls,
) -> None:
    assert controls.patch("team_a/flux", {"total_expression": "1 / 0"})[0] == 200
    assert controls.publish("team_a/flux")[0] == 200
    assert controls.put("hard", {"period": "month", "limit": 1000, "action": "block"})[0] == 201
    estimate = {"output_meta": {"inputs": [], "outputs": []}, "usage_seconds": 600}
    status, problem = controls.authorize(
        {"task_id": "e1", "app": "team_a/flux", "estimate": estimate}
    )
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == ["estimate"]
    assert problem["errors"][0]["message"].startswith("the app's live pricing fails on it: total: ")
    assert controls.get("hard")[1]["held"] == fig(0)


def test_given_a_block_budget_deleted_or_raised_a_moment_ago_when_a_hold_asks_then_it_is_granted(
    controls: Controls,
) -> None:
    """The authorization handler caches a team's budgets for seconds; a grant is checked against
    the budgets' revision in its transaction, and a refusal, which writes nothing, is made only
    on budgets read for the request: a budget just deleted or raised never refuses."""
    assert controls.put("hard", {"period": "month", "limit": 100, "action": "block"})[0] == 201
    assert controls.authorize({"task_id": "c1", "app": "team_a/flux", "amount": 100})[0] == 201
    status, _ = controls.authorize({"task_id": "c2", "app": "team_a/flux", "amount": 50})
    assert status == 402  # the handler now caches the team's one block budget
    assert controls.put("hard", {"period": "month", "limit": 150, "action": "block"})[0] == 200
    status, hold = controls.authorize({"task_id": "c2", "app": "team_a/flux", "amount": 50})
    assert status == 201, hold
    assert hold["budgets"] == [{"budget_id": "hard", "remaining": fig(0)}]
    status, _ = controls.authorize({"task_id": "c3", "app": "team_a/flux", "amount": 50})
    assert status == 402
    assert controls.delete("hard") == (204, None)
    status, hold = controls.authorize({"task_id": "c3", "app": "team_a/flux", "amount": 50})
    assert status == 201, hold
    assert hold["budgets"] == []
