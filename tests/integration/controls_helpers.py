"""The spend controls' test world: budgets, holds and billing handlers on moto, and a recorder of the events they send."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.conftest import AwsWorld
from tests.integration.billing_helpers import Billing


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.fail = 0

    def publisher(self, _bus: str) -> Recorder:
        return self

    def put(self, entries: Sequence[Any]) -> list[bool]:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("EventBridge unreachable")
        self.sent += list(entries)
        return [True] * len(entries)

    def kinds(self) -> list[tuple[str, int]]:
        return [(e.detail_type, e.detail["threshold"]) for e in self.sent]


class Controls(Billing):
    def __init__(self, aws: AwsWorld) -> None:
        super().__init__(aws)
        self.budgets = aws.handler("budgets", "BudgetsFunction")
        self.holds = aws.handler("authorizations", "AuthorizationsFunction")

    def put(self, budget_id: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.budgets,
            "PUT /budgets/{budgetID}",
            f"/budgets/{budget_id}",
            {"budgetID": budget_id},
            body=body,
            **kwargs,
        )

    def get(self, budget_id: str, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.budgets,
            "GET /budgets/{budgetID}",
            f"/budgets/{budget_id}",
            {"budgetID": budget_id},
            **kwargs,
        )

    def list(self, **kwargs: Any) -> tuple[int, Any]:
        return self.http(self.budgets, "GET /budgets", "/budgets", {}, **kwargs)

    def delete(self, budget_id: str, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.budgets,
            "DELETE /budgets/{budgetID}",
            f"/budgets/{budget_id}",
            {"budgetID": budget_id},
            **kwargs,
        )

    def authorize(self, body: Any, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.holds,
            "POST /usage/authorizations",
            "/usage/authorizations",
            {},
            body=body,
            **kwargs,
        )

    def release(self, task_id: str, **kwargs: Any) -> tuple[int, Any]:
        return self.http(
            self.holds,
            "DELETE /usage/authorizations/{taskID}",
            f"/usage/authorizations/{task_id}",
            {"taskID": task_id},
            **kwargs,
        )

    def charged(self, task_id: str) -> int:
        status, cost = self.cost(task_id)
        assert status == 200, cost
        return int(cost["charged"]["value"])


def fig(value: int) -> dict[str, Any]:
    from usage_pricing.core.money import to_dollars

    return {"value": value, "dollars": to_dollars(value)}
