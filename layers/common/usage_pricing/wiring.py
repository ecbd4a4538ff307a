"""Cold-start construction shared by the handlers: configuration read once, AWS resources and
repositories built once per process, tables injected.

The DynamoDB resource is the seam for tests: `Wiring(dynamodb=...)` for one wiring, or
`Wiring.resource_factory` for the handlers, which build theirs at import (a test sets it, loads
a handler, and every repository of that handler sees the failing or faulty tables)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import boto3
from botocore.config import Config

from .cel import new_engine
from .config import Settings
from .pricing import PricingEvaluator
from .storage.aggregates import AggregateRepository
from .storage.api_keys import ApiKeyRepository
from .storage.ledger import LedgerRepository
from .storage.pricing import PricingRepository

# botocore's legacy retry mode gives DynamoDB 10 attempts (about 25 s of back-off), longer than a
# function's timeout: an outage would end as a timed-out function (a 500 at the gateway) instead
# of the StorageError that answers 503. Three attempts with standard back-off fail in seconds.
DYNAMODB_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})


def _boto3_dynamodb() -> Any:
    return boto3.resource("dynamodb", config=DYNAMODB_CONFIG)


class Wiring:
    resource_factory: ClassVar[Callable[[], Any]] = staticmethod(_boto3_dynamodb)

    def __init__(self, settings: Settings | None = None, *, dynamodb: Any = None) -> None:
        self.settings = settings or Settings.from_env()
        self._dynamodb: Any = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = type(self).resource_factory()
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

    def aggregates(self) -> AggregateRepository:
        return AggregateRepository(
            self.dynamodb.Table(self.settings.aggregates_table),
            shards=self.settings.aggregate_shards,
        )

    def api_keys(self) -> ApiKeyRepository:
        return ApiKeyRepository(self.dynamodb.Table(self.settings.api_keys_table))

    def pricing(self) -> PricingRepository:
        return PricingRepository(self.dynamodb.Table(self.settings.pricing_table))
