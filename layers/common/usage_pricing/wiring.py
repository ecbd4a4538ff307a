"""Cold-start construction shared by the handlers: configuration read once, AWS resources and
repositories built once per process, tables injected."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from .cel import new_engine
from .config import Settings
from .pricing import PricingEvaluator
from .storage.aggregates import AggregateRepository
from .storage.ledger import LedgerRepository
from .storage.pricing import PricingRepository

if TYPE_CHECKING:
    from .storage.task_index import TaskIndex


class Wiring:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._dynamodb: Any = None
        self._client: Any = None

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = boto3.resource("dynamodb")
        return self._dynamodb

    def evaluator(self) -> PricingEvaluator:
        return PricingEvaluator(
            new_engine(self.settings.cel_engine), self.settings.platform_defaults()
        )

    def ledger(self) -> LedgerRepository:
        return LedgerRepository(
            self.dynamodb.Table(self.settings.billing_table),
            self.dynamodb.Table(self.settings.aggregates_table),
            shards=self.settings.aggregate_shards,
        )

    @property
    def dynamodb_client(self) -> Any:
        """A plain DynamoDB client, beside the resource's (which converts every value)."""
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def aggregates(self) -> AggregateRepository:
        return AggregateRepository(
            self.dynamodb_client,
            self.settings.aggregates_table,
            shards=self.settings.aggregate_shards,
        )

    def task_index(self) -> TaskIndex:
        from .storage.task_index import TaskIndex  # noqa: PLC0415 — the task list's alone

        return TaskIndex(self.dynamodb.Table(self.settings.billing_table))

    def pricing(self) -> PricingRepository:
        return PricingRepository(self.dynamodb.Table(self.settings.pricing_table))
