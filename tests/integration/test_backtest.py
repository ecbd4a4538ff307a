"""POST /apps/{namespace}/{name}/pricing/backtest (docs/api.md) through the pricing function, against
records billed through the billing function (moto tables from template.yaml): the hand-computed
history of tests/integration/history_helpers.py (its docstring holds the table of tasks, versions
and what each was charged)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event
from usage_pricing.core.money import to_dollars

from .billing_helpers import Billing, completed
from .history_helpers import APP, History, R, iso

# The proposal: 250,000 per image, no division, and a 5,600,000 µ¢ minimum charge.
PROPOSAL = {
    "prices": {"per_image": 250_000, "minimum": 5_600_000},
    "inference_expression": "image_count(outputs) * prices.per_image",
    "total_expression": "max(resource_fee + inference_fee, prices.minimum)",
}


def money(microcents: int) -> dict[str, Any]:
    """A money figure as the answer shows it: microcents with the dollars string beside them."""
    return {"value": microcents, "dollars": to_dollars(microcents)}


def test_given_the_history_then_it_was_billed_as_the_table_says(history: History) -> None:
    assert history.cost("old") == (R, 0)
    assert history.cost("v1") == (R + 400_000, 1)
    assert history.cost("failed") == (0, 1)
    assert history.cost("review") == (R, 1)
    assert history.cost("v2") == (R + 300_000, 2)


def test_given_a_proposal_with_a_minimum_charge_when_backtested_then_every_figure_is_exact(
    history: History,
) -> None:
    status, answer = history.backtest({"pricing": PROPOSAL})
    assert status == 200, answer
    # proposed: old, v1, review 2 × 250,000 over R; v2 R + 250,000 is under the minimum.
    current = R + (R + 400_000) + 0 + R + (R + 300_000)
    proposed = 3 * (R + 500_000) + 5_600_000
    assert answer == {
        "tasks": 5,
        "current": {"charged": money(current)},
        "proposed": {"charged": money(proposed)},
        "difference": money(proposed - current),
        "difference_percent": round((proposed - current) * 100 / current, 2),
        "per_fee": {
            "resource": {"current": money(4 * R), "proposed": money(4 * R)},
            "inference": {"current": money(700_000), "proposed": money(1_750_000)},
            "royalty": {"current": money(0), "proposed": money(0)},
            "partner": {"current": money(0), "proposed": money(0)},
            "adjustment": {"current": money(0), "proposed": money(5_600_000 - (R + 250_000))},
        },
        "errors": {"count": 0, "examples": []},
        "examples": [
            {"task_id": "old", "completed_at": iso(history.t - timedelta(hours=2)), "current": money(R), "proposed": money(R + 500_000)},
            {"task_id": "review", "completed_at": iso(history.t + timedelta(seconds=62)), "current": money(R), "proposed": money(R + 500_000)},
            {"task_id": "v1", "completed_at": iso(history.t + timedelta(seconds=60)), "current": money(R + 400_000), "proposed": money(R + 500_000)},
            {"task_id": "v2", "completed_at": iso(history.t + timedelta(seconds=240)), "current": money(R + 300_000), "proposed": money(5_600_000)},
        ],
        "truncated": False,
    }  # fmt: skip
    assert answer["difference_percent"] == 5.40
    assert answer["difference"] == {"value": 1_167_502, "dollars": "0.01167502"}


def test_given_no_body_when_backtested_then_the_draft_is_proposed_and_its_errors_are_examples(
    history: History,
) -> None:
    # The draft is v2 (300,000 per image, the division): "review" still divides by 0.
    status, answer = history.backtest()
    assert status == 200, answer
    assert answer["tasks"] == 5
    assert answer["proposed"] == {"charged": money((R + 600_000) * 2 + R + (R + 300_000))}
    assert answer["errors"]["count"] == 1
    (example,) = answer["errors"]["examples"]
    assert example["task_id"] == "review" and list(example["errors"]) == ["inference_fee"]
    assert "by zero" in example["errors"]["inference_fee"]
    assert [e["task_id"] for e in answer["examples"]] == ["old", "v1"]


@pytest.mark.parametrize(
    ("limit", "tasks", "truncated"),
    [("1", ["v2"], True), ("2", ["v2", "review"], True), ("4", ["v2", "review", "failed", "v1"], True), ("5", ["v2", "review", "failed", "v1", "old"], False), ("10000", ["v2", "review", "failed", "v1", "old"], False)],
)  # fmt: skip
def test_given_a_limit_when_backtested_then_the_newest_tasks_are_priced_and_truncated_says_so(
    history: History, limit: str, tasks: list[str], truncated: bool
) -> None:
    status, answer = history.backtest({"pricing": PROPOSAL}, limit=limit)
    assert status == 200, answer
    assert (answer["tasks"], answer["truncated"]) == (len(tasks), truncated)
    charged = {"v2": R + 300_000, "review": R, "failed": 0, "v1": R + 400_000, "old": R}
    assert answer["current"]["charged"] == money(sum(charged[t] for t in tasks))


def test_given_the_default_window_when_backtested_then_it_is_the_last_7_days_until_now(
    history: History,
) -> None:
    history.window = {}
    status, answer = history.backtest({"pricing": PROPOSAL})
    assert status == 200, answer
    # "old" (2 h ago) and "before-window" (2 days ago): everything else completes after now
    assert (answer["tasks"], answer["current"]["charged"]) == (2, money(2 * R))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"range": "7d"}, "range"),  # with start/end
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"end": "2000-01-01T00:00:00Z"}, "end"),  # before start
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"range": "2w", "start": None}, "range"),
    ],
)
def test_given_a_bad_query_when_backtested_then_400_names_the_field(
    history: History, query: dict[str, Any], field: str
) -> None:
    merged = {k: v for k, v in {**history.window, **query}.items() if v is not None}
    history.window = {}
    status, problem = history.backtest({"pricing": PROPOSAL}, **merged)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pricing": {"inference_expression": "image_count(outputs) *"}}, "pricing.inference_expression"),
        ({"pricing": {"total_expression": "prices.x * 1.5"}}, "pricing.total_expression"),
        ({"pricing": {"prices": {"a": -1}}}, "pricing.prices.a"),
        ({"proposal": {}}, "proposal"),
    ],
)  # fmt: skip
def test_given_a_bad_proposal_when_backtested_then_400_names_the_field(
    history: History, body: Any, field: str
) -> None:
    status, problem = history.backtest(body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize(
    ("team", "scopes", "status"),
    [
        ("team_b", "*", 403),
        ("team_a", "apps:read billing:read", 403),
        ("team_a", "apps:write", 200),
    ],
)
def test_given_a_caller_when_backtesting_team_a_s_app_then_only_its_owner_with_apps_write_may(
    history: History, team: str, scopes: str, status: int
) -> None:
    assert history.backtest({"pricing": PROPOSAL}, team=team, scopes=scopes)[0] == status


def test_given_an_app_without_a_draft_when_backtested_without_a_pricing_then_404(
    history: History,
) -> None:
    status, problem = history.world.backtest("team_a/other", query=history.window)
    assert status == 404, problem


def test_given_a_backtest_when_it_runs_then_nothing_is_written(history: History) -> None:
    tables = ("BillingTable", "AggregatesTable", "PricingTable")

    def snapshot() -> dict[str, list[Any]]:
        return {
            name: sorted(map(repr, history.world.aws.dynamodb.Table(name).scan()["Items"]))
            for name in tables
        }

    before = snapshot()
    assert history.backtest({"pricing": PROPOSAL})[0] == 200
    assert history.backtest()[0] == 200
    assert snapshot() == before


def test_given_a_record_billed_before_records_kept_inputs_when_backtested_then_it_is_an_error_not_a_guess(
    history: History,
) -> None:
    table = history.world.aws.dynamodb.Table("BillingTable")
    table.update_item(Key={"pk": "TASK#v1"}, UpdateExpression="REMOVE priced_from")
    status, answer = history.backtest({"pricing": PROPOSAL})
    assert status == 200, answer
    assert answer["tasks"] == 4
    assert answer["errors"]["count"] == 1
    assert answer["errors"]["examples"][0]["task_id"] == "v1"
    assert "cannot be priced again" in answer["errors"]["examples"][0]["errors"]["priced_from"]


def test_given_charges_near_int64_when_backtested_then_an_overflowing_sum_is_null_and_named(
    history: History,
) -> None:
    huge = {"prices": {"big": 9_000_000_000_000_000_000}, "total_expression": "prices.big"}
    status, answer = history.backtest({"pricing": huge})
    assert status == 200, answer
    assert answer["proposed"] == {"charged": {"value": None, "dollars": None}}
    outside = "the sum lies outside int64"
    assert answer["figure_errors"] == [
        {"field": field, "message": outside}
        for field in ("per_fee.adjustment.proposed", "proposed.charged", "difference")
    ]
    assert answer["current"]["charged"] == money(R + (R + 400_000) + R + (R + 300_000))


def test_given_the_sample_event_when_invoked_then_the_pricing_function_answers_a_backtest(
    aws: AwsWorld,
) -> None:
    """events/backtest.json (sam local invoke PricingFunction -e events/backtest.json)."""
    world = Billing(aws)
    done = datetime.now(UTC) - timedelta(minutes=1)
    assert (
        world.deliver(
            completed("mine", team="team_local", app="team_local/flux-dev", completed_at=done)
        )
        == []
    )
    response = world.pricing.lambda_handler(sample_event("backtest"), LambdaContext())
    assert response["statusCode"] == 200, response
    answer = json.loads(response["body"])
    figures = (answer["tasks"], answer["current"]["charged"], answer["proposed"]["charged"])
    assert figures == (1, money(R), money(R + 500_000))  # 2 images at the sample's 250,000


# ---- every backtest is bounded (docs/api.md): a deadline, a read budget, a signed continuation ----


class Ticking:
    """A monotonic clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def walk(history: History, body: Any = None, **query: str) -> list[dict[str, Any]]:
    """Every answer of a backtest, following next_cursor until one is not truncated."""
    answers: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(20):
        status, answer = history.backtest(body, **query, **({"cursor": cursor} if cursor else {}))
        assert status == 200, answer
        answers.append(answer)
        assert ("next_cursor" in answer) == answer["truncated"] == ("truncated_reason" in answer)
        if not answer["truncated"]:
            return answers
        cursor = answer["next_cursor"]
    raise AssertionError("the backtest never ended")


CHARGED = {"v2": R + 300_000, "review": R, "failed": 0, "v1": R + 400_000, "old": R}
PROPOSED = {"v2": 5_600_000, "review": R + 500_000, "failed": 0, "v1": R + 500_000, "old": R + 500_000}  # fmt: skip


def test_given_a_deadline_when_backtested_then_it_stops_between_tasks_and_the_continuation_prices_the_rest(
    history: History,
) -> None:
    from usage_pricing.ledger.backtest import MARGIN_MS

    # The test context tells no remaining time: the budget takes the function's timeout, here
    # 2.5 s past the margin. The ticking clock is read once at the start (1 s) and once before
    # every task but a request's first: review at 2 s and failed at 3 s, not v1 at 4 s.
    backtests = history.world.pricing.backtests
    backtests.budget.fallback_ms = MARGIN_MS + 2_500
    backtests.budget.clock = Ticking()
    first, second = walk(history, {"pricing": PROPOSAL})
    assert (first["tasks"], first["truncated"], first["truncated_reason"]) == (3, True, "deadline")
    assert first["current"] == {
        "charged": money(CHARGED["v2"] + CHARGED["review"] + CHARGED["failed"])
    }
    assert first["proposed"] == {"charged": money(PROPOSED["v2"] + PROPOSED["review"])}
    assert (second["tasks"], second["truncated"]) == (2, False)
    assert second["current"] == {"charged": money(CHARGED["v1"] + CHARGED["old"])}
    assert [e["task_id"] for e in first["examples"] + second["examples"]] == [
        "review",
        "v2",
        "old",
        "v1",
    ]
    # the two answers add up to the whole window's
    backtests.budget.fallback_ms = MARGIN_MS + 60_000
    (whole,) = walk(history, {"pricing": PROPOSAL})
    assert whole["tasks"] == 5 and whole["current"]["charged"]["value"] == sum(CHARGED.values())
    assert (
        whole["proposed"]["charged"]["value"]
        == first["proposed"]["charged"]["value"] + second["proposed"]["charged"]["value"]
    )


def test_given_no_time_left_when_backtested_then_each_request_still_prices_one_task(
    history: History,
) -> None:
    backtests = history.world.pricing.backtests
    backtests.budget.fallback_ms = 0
    answers = walk(history, {"pricing": PROPOSAL})
    assert [a["tasks"] for a in answers] == [1, 1, 1, 1, 1]
    assert [a.get("truncated_reason") for a in answers] == ["deadline"] * 4 + [None]
    assert sum(a["current"]["charged"]["value"] for a in answers) == sum(CHARGED.values())


def test_given_a_small_read_budget_when_backtested_then_each_request_reads_at_most_it_and_the_walk_prices_every_task_once(
    history: History,
) -> None:
    backtests = history.world.pricing.backtests
    backtests.budget.max_items = 2
    answers, reads = [], []
    cursor = None
    for _ in range(20):
        status, answer = history.backtest(
            {"pricing": PROPOSAL}, **({"cursor": cursor} if cursor else {})
        )
        assert status == 200, answer
        answers.append(answer)
        reads.append(backtests.last_reads.items)
        if not answer["truncated"]:
            break
        cursor = answer["next_cursor"]
    assert max(reads) <= 2
    assert {a.get("truncated_reason") for a in answers[:-1]} == {"read_budget"}
    assert sum(a["tasks"] for a in answers) == 5
    assert sum(a["current"]["charged"]["value"] for a in answers) == sum(CHARGED.values())
    assert sum(a["proposed"]["charged"]["value"] for a in answers) == sum(PROPOSED.values())
    differences = [e["task_id"] for a in answers for e in a["examples"]]
    assert sorted(differences) == ["old", "review", "v1", "v2"]  # each once; failed stays 0


def test_given_a_limit_when_walked_then_each_answer_says_limit_and_the_cursor_prices_the_next_tasks(
    history: History,
) -> None:
    answers = walk(history, {"pricing": PROPOSAL}, limit="2")
    assert [(a["tasks"], a.get("truncated_reason")) for a in answers] == [
        (2, "limit"),
        (2, "limit"),
        (1, None),
    ]
    assert [a["current"]["charged"]["value"] for a in answers] == [
        CHARGED["v2"] + CHARGED["review"],
        CHARGED["failed"] + CHARGED["v1"],
        CHARGED["old"],
    ]


def test_given_a_cursor_with_another_proposal_or_query_or_forged_then_it_is_a_400(
    history: History,
) -> None:
    from usage_pricing.core.cursors import CursorSigner

    _, answer = history.backtest({"pricing": PROPOSAL}, limit="2")
    cursor = answer["next_cursor"]
    other = {**PROPOSAL, "prices": {"per_image": 1, "minimum": 0}}
    forged = CursorSigner("another deployment's secret, long enough").seal(
        "backtest", (b"team_a",), {"l": "x", "h": "y", "b": "z"}
    )
    for body, query in [
        ({"pricing": other}, {"cursor": cursor}),
        (None, {"cursor": cursor}),  # the draft, not the proposal
        ({"pricing": PROPOSAL}, {"cursor": cursor, "tz": "Europe/Berlin"}),
        ({"pricing": PROPOSAL}, {"cursor": cursor[:-3]}),
        ({"pricing": PROPOSAL}, {"cursor": forged}),
    ]:
        status, problem = history.backtest(body, **query)
        assert (status, [e["field"] for e in problem["errors"]]) == (400, ["cursor"]), query
    assert history.backtest({"pricing": PROPOSAL}, cursor=cursor)[0] == 200


def test_given_a_signed_cursor_outside_its_querys_window_when_backtested_then_it_is_a_400_and_reads_nothing(
    history: History,
) -> None:
    from usage_pricing import AppPricing
    from usage_pricing.core.utc import sortable as time_key
    from usage_pricing.ledger.backtest import cursor_binding

    backtests = history.world.pricing.backtests
    start, end = (
        datetime.fromisoformat(history.window["start"]),
        datetime.fromisoformat(history.window["end"]),
    )
    low, high = time_key(start), time_key(end)
    inside = time_key(history.t) + "#v1"
    binding = cursor_binding(
        "team_a",
        APP,
        (None, history.window["start"], history.window["end"], None),
        AppPricing.model_validate(PROPOSAL),
    )
    cases = [
        ({"l": high, "h": low, "b": inside}, "runs backwards"),
        ({"l": low, "h": low, "b": inside}, "empty"),
        ({"l": time_key(start - timedelta(days=30)), "h": high, "b": inside}, "another start"),
        ({"l": low, "h": time_key(end + timedelta(days=1)), "b": inside}, "another end"),
        ({"l": low, "h": high, "b": "2000-01-01T00:00:00.000000Z#old"}, "before the window"),
        ({"l": low, "h": high, "b": "~"}, "after the window"),
        ({"l": low, "h": high, "b": None}, "no position"),
        ({"l": low, "h": high}, "no position at all"),
    ]
    for position, why in cases:
        cursor = backtests.signer.seal("backtest", binding, position)
        status, problem = history.backtest({"pricing": PROPOSAL}, cursor=cursor)
        assert (status, [e["field"] for e in problem["errors"]]) == (400, ["cursor"]), why
        assert backtests.last_reads.queries == 0, why
    genuine = backtests.signer.seal("backtest", binding, {"l": low, "h": high, "b": inside})
    status, answer = history.backtest({"pricing": PROPOSAL}, cursor=genuine)
    assert (status, answer["tasks"]) == (200, 1), answer  # below v1: old


@pytest.mark.parametrize("secret", ["", "short"])
def test_given_no_cursor_secret_when_backtested_then_the_route_fails_closed_with_a_503(
    history: History, secret: str
) -> None:
    history.world.pricing = history.world.aws.handler(
        "pricing", "PricingFunction", CURSOR_SECRET=secret
    )
    status, problem = history.backtest({"pricing": PROPOSAL})
    assert (status, problem["title"]) == (503, "Service unavailable")
    assert "CURSOR_SECRET" in problem["detail"]
