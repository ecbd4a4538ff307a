"""The billing function, the task-cost endpoint and the pricing store against moto tables and
queues built from template.yaml."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event

from .billing_helpers import (
    NOW,
    Billing,
    completed,
    refunded,
    run_concurrently,
)

SEED_PRICING = {
    "prices": {"per_image": 200_000},
    "inference_expression": "image_count(output_meta.outputs) * prices.per_image",
}


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


def publish_seed_pricing(world: Billing, app: str = "team_a/flux", team: str = "team_a") -> None:
    assert world.patch(app, SEED_PRICING, team=team)[0] == 200
    assert world.publish(app, team=team)[0] == 200


def test_seed_example_costs_exactly(world: Billing) -> None:
    publish_seed_pricing(world)
    assert (
        world.deliver(completed("t1", completed_at=datetime.now(UTC) + timedelta(seconds=5))) == []
    )
    status, cost = world.cost("t1")
    assert status == 200
    assert cost["resource_fee"] == {"value": 5_232_498, "dollars": "0.05232498"}
    assert cost["inference_fee"] == {"value": 400_000, "dollars": "0.004"}
    assert cost["total"] == {"value": 5_632_498, "dollars": "0.05632498"}
    assert cost["charged"] == {"value": 5_632_498, "dollars": "0.05632498"}
    assert cost["discount"] == {"value": 0, "dollars": "0.00"}
    assert cost["meter"] == "llm/micro"
    assert cost["meter_price"] == {"value": 31_394_988, "dollars": "0.31394988"}
    assert (cost["inference_time"], cost["inference_cost"]["value"]) == (600, 5_232_498)
    assert (
        cost["status"],
        cost["billing_status"],
        cost["refunded"],
        cost["errors"],
        cost["pricing_version"],
    ) == ("completed", "charged", False, {}, 1)


def test_no_pricing_means_platform_defaults(world: Billing) -> None:
    world.deliver(completed("t1", app="team_a/unpriced"))
    cost = world.cost("t1")[1]
    assert (cost["total"]["value"], cost["inference_fee"]["value"], cost["pricing_version"]) == (
        5_232_498,
        0,
        0,
    )


def test_redelivery_charges_once(world: Billing) -> None:
    publish_seed_pricing(world)
    event = completed("t1")
    for _ in range(3):
        assert world.deliver(event) == []
    assert world.deliver(event, event) == []
    assert len(world.records()) == 1
    assert world.aggregates("D")["cost"] == 5_632_498
    assert world.aggregates("D")["calls"] == 1


def test_concurrent_duplicates_charge_once(world: Billing) -> None:
    publish_seed_pricing(world)
    event = completed("t-concurrent")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        try:
            barrier.wait()
            world.billing.consumer.process(json.dumps(event), "m")
        except BaseException as error:
            errors.append(error)

    run_concurrently(deliver)
    assert errors == []
    assert len(world.records()) == 1
    for granularity in "MQHD":
        assert world.aggregates(granularity)["cost"] == 5_632_498
        assert world.aggregates(granularity)["calls"] == 1


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_and_cancelled_tasks_are_recorded_not_charged(world: Billing, status: str) -> None:
    publish_seed_pricing(world)
    world.deliver(completed("t1", status=status))
    cost = world.cost("t1")[1]
    assert cost["total"]["value"] == 5_632_498
    assert cost["discount"]["value"] == 5_632_498
    assert cost["discount_reason"] == "task_failed"
    assert cost["charged"] == {"value": 0, "dollars": "0.00"}
    assert (cost["status"], cost["billing_status"]) == (status, "not_charged")
    assert world.aggregates("D")["cost"] == 0


def test_formula_error_charges_the_component_zero_and_needs_review(
    world: Billing, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        world.patch(
            "team_a/flux",
            {
                "prices": {"per_image": 200_000},
                "inference_expression": "prices.per_image / (image_count(outputs) - 2)",
            },
        )[0]
        == 200
    )
    world.publish("team_a/flux")
    assert world.deliver(completed("t1")) == []
    cost = world.cost("t1")[1]
    assert cost["billing_status"] == "needs_review"
    assert cost["inference_fee"]["value"] == 0
    assert "divide by zero" in cost["inference_fee"]["error"]
    assert "divide by zero" in cost["errors"]["inference_fee"]
    assert cost["charged"]["value"] == 5_232_498
    assert "BillingNeedsReview" in capsys.readouterr().out  # the EMF metric


def test_refund_reverses_once(world: Billing) -> None:
    publish_seed_pricing(world)
    world.deliver(completed("t1"), completed("t2", images=1))
    assert world.aggregates("D")["cost"] == 5_632_498 + 5_432_498
    assert world.deliver(refunded("t1")) == []
    assert world.deliver(refunded("t1")) == []
    assert world.deliver(refunded("t1"), refunded("t1")) == []
    cost = world.cost("t1")[1]
    assert (cost["refunded"], cost["billing_status"], cost["refund_reason"]) == (
        True,
        "refunded",
        "goodwill",
    )
    assert cost["refunded_at"]
    for granularity in "MQHD":
        totals = world.aggregates(granularity)
        assert (totals["cost"], totals["calls"]) == (5_432_498, 1)
        assert totals["u:total"] == 600


def test_refund_before_its_charge_is_retried(world: Billing) -> None:
    assert world.deliver(refunded("t-later")) == ["msg-0"]


def test_refund_from_another_team_is_dead_lettered(world: Billing, aws: AwsWorld) -> None:
    world.deliver(completed("t1"))
    assert world.deliver(refunded("t1", team="team_b")) == []
    [message] = aws.dead_letters()
    assert (
        message["MessageAttributes"]["reason"]["StringValue"] == "task t1 belongs to another team"
    )
    assert world.cost("t1")[1]["refunded"] is False


def test_poison_event_is_dead_lettered_without_blocking_its_batch(
    world: Billing, aws: AwsWorld
) -> None:
    publish_seed_pricing(world)
    bad_schema = completed("t-bad")
    bad_schema["detail"]["elapsed_ms"] = -5
    failures = world.deliver(
        completed("t1"), "{not json", bad_schema, {"source": "elsewhere"}, completed("t2")
    )
    assert failures == []
    assert {r["task_id"] for r in world.records()} == {"t1", "t2"}
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in aws.dead_letters())
    assert len(reasons) == 3
    assert any(
        "detail.elapsed_ms: Input should be greater than or equal to 0" in r for r in reasons
    )
    assert "invalid event: event: event is not valid JSON" in reasons


def test_pricing_republished_between_tasks_bills_each_with_its_own_version(world: Billing) -> None:
    publish_seed_pricing(world)
    world.deliver(completed("t1", completed_at=datetime.now(UTC) + timedelta(seconds=30)))
    assert world.patch("team_a/flux", {"prices": {"per_image": 300_000}})[0] == 200
    assert world.publish("team_a/flux")[1]["live"]["version"] == 2

    world.deliver(completed("t2", completed_at=datetime.now(UTC) + timedelta(seconds=60)))
    first, second = world.cost("t1")[1], world.cost("t2")[1]
    assert (first["pricing_version"], first["inference_fee"]["value"]) == (1, 400_000)
    assert (second["pricing_version"], second["inference_fee"]["value"]) == (2, 600_000)


def test_a_task_completed_before_any_publish_uses_defaults(world: Billing) -> None:
    world.deliver(completed("t-early", completed_at=NOW - timedelta(days=1)))
    publish_seed_pricing(world)
    assert world.cost("t-early")[1]["pricing_version"] == 0


def test_another_teams_task_is_404(world: Billing) -> None:
    world.deliver(completed("t1"))
    status, problem = world.cost("t1", team="team_b")
    assert (status, problem["title"], problem["detail"]) == (404, "Not found", "no task t1")
    assert world.cost("nope")[0] == 404


@pytest.mark.parametrize(
    ("scopes", "status"),
    [("apps:read", 200), ("billing:read", 200), ("billing", 200), ("apps:write", 403)],
)
def test_task_cost_scopes(world: Billing, scopes: str, status: int) -> None:
    world.deliver(completed("t1"))
    assert world.cost("t1", scopes=scopes)[0] == status


def test_usage_events_are_recorded(world: Billing) -> None:
    resources = [
        {"name": "gpu0", "type": "gpu", "model": "A100", "count": 2, "price_per_hour": 360_000_000},
        {"name": "cpu0", "type": "cpu", "model": "graviton", "price_per_second": 10},
    ]
    world.deliver(completed("t1", resources=resources, elapsed_ms=1_500))
    totals = world.aggregates("H")
    assert totals["u:total"] == 2 * 2 + 2
    assert (totals["u:type:gpu"], totals["u:type:cpu"], totals["u:tier:cloud"]) == (4, 2, 6)
    assert (totals["u:model:A100"], totals["u:model:graviton"]) == (4, 2)
    cost = world.cost("t1")[1]
    assert cost["resource_fee"]["value"] == 2 * 360_000_000 * 2 // 3600 + 10 * 2
    assert cost["meter"] is None and cost["meter_price"]["value"] == 360_000_000


def test_sample_billing_event(world: Billing) -> None:
    publish_seed_pricing(world, app="team_local/flux-dev", team="team_local")
    result = world.billing.lambda_handler(sample_event("billing"), LambdaContext())
    assert result == {"batchItemFailures": []}
    status, cost = world.cost("task_sample_0001", team="team_local")
    assert status == 200
    assert cost["refunded"] is True  # the sample batch charges then refunds


# --- the pricing store -------------------------------------------------------------------------


def test_merge_patch_semantics(world: Billing) -> None:
    status, view = world.patch(
        "team_a/flux", {"prices": {"a": 1, "b": 2}, "inference_expression": "prices.a"}
    )
    assert status == 200 and view["draft"]["revision"] == 1 and view["live"] is None
    status, view = world.patch("team_a/flux", {"prices": {"b": 0, "c": 3}})
    pricing = view["draft"]["pricing"]
    assert pricing["prices"] == {"a": 1, "c": 3}
    assert pricing["inference_expression"] == "prices.a"  # absent fields stay
    assert view["draft"]["revision"] == 2
    status, view = world.patch("team_a/flux", {"inference_expression": ""})
    assert view["draft"]["pricing"]["inference_expression"] == ""


def test_description_is_wrapped_and_rendered_on_save(world: Billing) -> None:
    _, view = world.patch(
        "team_a/flux", {"prices": {"per_image": 200_000}, "description": "Per image pricing"}
    )
    assert view["draft"]["pricing"]["description"] == '"Per image pricing"'
    assert view["draft"]["pricing"]["description_rendered"] == "Per image pricing"
    _, view = world.patch(
        "team_a/flux", {"description": '"$" + to_dollars(prices.per_image) + " per image"'}
    )
    assert view["draft"]["pricing"]["description_rendered"] == "$0.002 per image"


def test_formula_errors_are_400_with_line_and_column(world: Billing) -> None:
    status, problem = world.patch(
        "team_a/flux",
        {
            "prices": {"x": 1},
            "inference_expression": "prices.x *\n 1.5",
            "royalty_expression": "partner_fee",
        },
    )
    assert status == 400
    assert {e["field"]: e["message"] for e in problem["errors"]} == {
        "inference_expression": "1:10: found no matching overload for '_*_' applied to '(int, double)'",
        "royalty_expression": "1:1: undeclared reference to 'partner_fee' (in container '')",
    }
    assert world.view("team_a/flux")[1]["draft"] is None  # nothing half-written


def test_read_pricing_of_another_namespace_but_not_write(world: Billing) -> None:
    publish_seed_pricing(world)
    status, view = world.view("team_a/flux", team="team_b", scopes="apps:read")
    assert status == 200 and view["live"]["version"] == 1
    assert world.patch("team_a/flux", {"prices": {"x": 1}}, team="team_b")[0] == 403
    assert world.publish("team_a/flux", team="team_b")[0] == 403
    assert world.view("team_a/flux", scopes="billing:read")[0] == 403


def test_publish_without_a_draft_is_404(world: Billing) -> None:
    status, problem = world.publish("team_a/flux")
    assert (status, problem["detail"]) == (404, "team_a/flux has no draft pricing to publish")


def test_publish_versions_increment(world: Billing) -> None:
    world.patch("team_a/flux", SEED_PRICING)
    assert world.publish("team_a/flux")[1]["live"]["version"] == 1
    assert world.publish("team_a/flux")[1]["live"]["version"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prices": {"x": -1}}, "prices.x"),
        ({"description_rendered": "x"}, "description_rendered"),
        ({"inference_expression": "1+" * 3000}, "inference_expression"),
    ],
)
def test_bad_patches_are_400(world: Billing, body: Any, field: str) -> None:
    status, problem = world.patch("team_a/flux", body)
    assert status == 400
    assert field in {e["field"] for e in problem["errors"]}


def test_sample_pricing_event(world: Billing) -> None:
    response = world.pricing.lambda_handler(sample_event("pricing"), LambdaContext())
    assert response["statusCode"] == 200
    assert (
        json.loads(response["body"])["draft"]["pricing"]["description_rendered"]
        == "Per image: see the store listing"
    )
