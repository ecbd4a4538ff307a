"""Task events and SQS batches for the billing tests."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from tests.conftest import AwsWorld, LambdaContext
from tests.events import http_event

NOW = datetime.now(UTC).replace(microsecond=0)


def completed(
    task_id: str,
    *,
    team: str = "team_a",
    app: str = "team_a/flux",
    status: str = "completed",
    completed_at: datetime | None = None,
    elapsed_ms: int = 600_000,
    images: int = 2,
    resources: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    done = completed_at or datetime.now(UTC) + timedelta(seconds=1)
    detail = {
        "task_id": task_id, "team_id": team, "app": app, "app_version": "1.0.0", "function": "run",
        "status": status, "started_at": (done - timedelta(milliseconds=elapsed_ms)).isoformat(),
        "completed_at": done.isoformat(), "elapsed_ms": elapsed_ms, "tier": "cloud",
        "resources": resources if resources is not None else [{"name": "gpu0", "type": "gpu", "model": "llm-micro", "meter": "llm/micro"}],
        "task_inputs": {"steps": 20},
        "output_meta": {"inputs": [], "outputs": [{"type": "image", "width": 1024, "height": 1024, "count": images}]},
        **extra,
    }  # fmt: skip
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Task Completed", "source": "inference.tasks",
            "account": "123456789012", "time": done.isoformat(), "region": "us-east-1", "resources": [], "detail": detail}  # fmt: skip


def refunded(task_id: str, *, team: str = "team_a", reason: str = "goodwill") -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Task Refunded", "source": "inference.tasks",
            "detail": {"task_id": task_id, "team_id": team, "reason": reason, "refunded_at": datetime.now(UTC).isoformat()}}  # fmt: skip


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"msg-{index}",
                "receiptHandle": f"rh-{index}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:BillingQueue",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def aggregate_totals(
    dynamodb: Any, granularity: str, team: str = "team_a", shards: int = 4
) -> Counter[str]:
    """Every counter of the team's aggregates at one granularity, summed over buckets, apps and
    shards (paginating, as the readers do; a counter never written is 0). Keys and counters are
    decoded by the aggregate schema module, as the readers decode them."""
    from usage_pricing.storage.aggregates import Granularity, decode_item, partition_key

    totals: Counter[str] = Counter()
    table = dynamodb.Table("AggregatesTable")
    for shard in range(shards):
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {
                ":pk": partition_key(team, Granularity(granularity), shard)
            },
        }
        while True:
            page = table.query(**request)
            for item in page["Items"]:
                totals.update(decode_item(item).counters)
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return totals


def run_concurrently(work: Callable[[], None], workers: int = 8) -> None:
    """Run `work` on `workers` threads at once and wait for all of them."""
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Billing:
    def __init__(self, aws: AwsWorld) -> None:
        self.aws = aws
        self.billing = aws.handler("billing", "BillingFunction")
        self.task_cost = aws.handler("task_cost", "TaskCostFunction")
        self.pricing = aws.handler("pricing", "PricingFunction")

    def deliver(self, *bodies: Any) -> list[str]:
        result = self.billing.lambda_handler(sqs_batch(*bodies), LambdaContext())
        return [f["itemIdentifier"] for f in result["batchItemFailures"]]

    def http(
        self,
        handler: ModuleType,
        route_key: str,
        path: str,
        params: dict[str, str],
        *,
        team: str = "team_a",
        scopes: str = "*",
        body: Any = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = None if body is None else json.dumps(body)  # a str body is sent as a JSON string
        event = http_event(
            route_key,
            path,
            team=team,
            scopes=scopes,
            query=query,
            body=sent,
            path_parameters=params,
        )
        response = handler.lambda_handler(event, LambdaContext())
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    def cost(self, task_id: str, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.task_cost,
            "GET /usage/tasks/{taskID}/cost",
            f"/usage/tasks/{task_id}/cost",
            {"taskID": task_id},
            **kwargs,
        )

    def pricing_route(
        self,
        method: str,
        app: str,
        suffix: str = "",
        *,
        version: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        namespace, name = app.split("/")
        route = f"{method} /apps/{{namespace}}/{{name}}/pricing{suffix}"
        path = f"/apps/{app}/pricing{suffix}"
        params = {"namespace": namespace, "name": name}
        if version is not None:
            route, path = route + "/{version}", f"{path}/{version}"
            params["version"] = version
        return self.http(self.pricing, route, path, params, **kwargs)

    def patch(self, app: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("PATCH", app, body=body, **kwargs)

    def publish(self, app: str, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("POST", app, "/publish", **kwargs)

    def view(self, app: str, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("GET", app, **kwargs)

    def scheduled(self, app: str, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("GET", app, "/scheduled", **kwargs)

    def cancel(self, app: str, version: int | str, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("DELETE", app, "/scheduled", version=str(version), **kwargs)

    def backtest(self, app: str, **kwargs: Any) -> tuple[int, Any]:
        return self.pricing_route("POST", app, "/backtest", **kwargs)

    def records(self) -> list[dict[str, Any]]:
        return self.aws.dynamodb.Table("BillingTable").scan()["Items"]  # type: ignore[no-any-return]

    def aggregates(self, granularity: str = "D", team: str = "team_a") -> dict[str, int]:
        return aggregate_totals(self.aws.dynamodb, granularity, team)


class Clock:
    """One moment for the pricing store and billing alike; tests move it."""

    def __init__(self, world: Billing, now: datetime) -> None:
        self.now = now
        world.pricing.store.clock = self
        world.billing.consumer.service.clock = self

    def __call__(self) -> datetime:
        return self.now


def iso_micro(moment: datetime) -> str:
    """A moment as the pricing store writes effective times: UTC, microseconds, a Z."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def publish_pricing(
    world: Billing,
    body: dict[str, Any],
    effective_at: datetime | None = None,
    *,
    app: str = "team_a/flux",
) -> Any:
    """PATCH the draft of `app`, then publish it now or from `effective_at`; the publish view."""
    assert world.patch(app, body)[0] == 200
    status, view = world.publish(
        app, body=None if effective_at is None else {"effective_at": iso_micro(effective_at)}
    )
    assert status == 200, view
    return view
