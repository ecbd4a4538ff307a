"""The analytics world: real billing into moto tables, the breakdown and summary handlers read
back under an injected clock. Shared by the analytics, CSV-safety, costs-feed and spend-bounds
tests."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from tests.conftest import AwsWorld, LambdaContext
from tests.events import http_event

from .billing_helpers import completed, sqs_batch

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)
# llm/micro for 600 s with no published pricing: the resource fee only.
CHARGE = 5_232_498


class Analytics:
    def __init__(self, aws: AwsWorld) -> None:
        self.aws = aws
        self.billing = aws.handler("billing", "BillingFunction")
        self.breakdown_fn = aws.handler("breakdown", "BreakdownFunction")
        self.summary_fn = aws.handler("summary", "SummaryFunction")
        self.set_now(NOW)

    def set_now(self, now: datetime) -> None:
        self.breakdown_fn.analytics.clock = lambda: now
        self.summary_fn.summaries.clock = lambda: now
        self.billing.consumer.service.clock = lambda: max(now, datetime.now(UTC))

    def bill(self, *events: Any) -> None:
        result = self.billing.lambda_handler(sqs_batch(*events), LambdaContext())
        assert result == {"batchItemFailures": []}

    def call(
        self,
        module: ModuleType,
        path: str,
        query: dict[str, str],
        *,
        team: str = "team_a",
        scopes: str = "billing:read",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        event = http_event(f"GET {path}", team=team, scopes=scopes, query=query, headers=headers)
        return module.lambda_handler(event, LambdaContext())  # type: ignore[no-any-return]

    def get(
        self, module: ModuleType, path: str, query: dict[str, str], **kwargs: Any
    ) -> tuple[int, Any]:
        response = self.call(module, path, query, **kwargs)
        return response["statusCode"], json.loads(response["body"])

    def breakdown(self, **query: str) -> Any:
        status, body = self.get(self.breakdown_fn, "/usage/breakdown", query)
        assert status == 200, body
        return body

    def summary(self, **query: str) -> Any:
        status, body = self.get(self.summary_fn, "/usage/summary", query)
        assert status == 200, body
        return body

    def csv(
        self, module: ModuleType, path: str, query: dict[str, str], **kwargs: Any
    ) -> list[dict[str, str]]:
        response = self.call(module, path, query, **kwargs)
        assert response["statusCode"] == 200, response["body"]
        assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
        assert response["headers"]["Content-Disposition"].startswith("attachment; filename=")
        return list(csv.DictReader(io.StringIO(response["body"])))


def at(moment: datetime, task: str, **kwargs: Any) -> dict[str, Any]:
    return completed(task, completed_at=moment, **kwargs)
