"""Cold-start construction shared by the handlers: configuration read once, AWS resources,
engines and repositories built once per process (each method returns the same object every
call), tables injected.

Every import below is made by the method that needs it, so a handler loads only what it wires:
the evaluate function never imports boto3, the breakdown function never imports a CEL engine
(docs/operations.md, cold start).

The DynamoDB resource is the seam for tests: `Wiring(dynamodb=...)` for one wiring, or
`Wiring.resource_factory` for the handlers, which build theirs at import (a test sets it, loads
a handler, and every repository of that handler sees the failing or faulty tables)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from usage_pricing.runtime.config import Settings

if TYPE_CHECKING:
    from usage_pricing.controls.charging import BudgetCharges
    from usage_pricing.controls.outbox import OutboxRelay, Publisher
    from usage_pricing.controls.store import ControlsStore
    from usage_pricing.core.cursors import CursorSigner
    from usage_pricing.edge.key_store import ApiKeyRepository
    from usage_pricing.ledger.repository import LedgerRepository
    from usage_pricing.pricing.cel import CelEngine
    from usage_pricing.pricing.evaluator import PricingEvaluator
    from usage_pricing.pricing.repository import PricingRepository
    from usage_pricing.spend.aggregate_reader import AggregateRepository
    from usage_pricing.spend.task_index import TaskIndex


def _boto3_dynamodb() -> Any:
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    # botocore's legacy retry mode gives DynamoDB 10 attempts (about 25 s of back-off), longer
    # than a function's timeout: an outage would end as a timed-out function (a 500 at the
    # gateway) instead of the StorageError that answers 503. Three attempts with standard
    # back-off fail in seconds.
    return boto3.resource(
        "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3})
    )


def _eventbridge_publisher(bus_name: str) -> Publisher:
    import boto3  # noqa: PLC0415

    from usage_pricing.controls.outbox import EventBridgePublisher  # noqa: PLC0415

    return EventBridgePublisher(boto3.client("events"), bus_name)


class Wiring:
    resource_factory: ClassVar[Callable[[], Any]] = staticmethod(_boto3_dynamodb)
    # Where threshold events go: EventBridge, or (the local stack, tests) a recorder.
    publisher_factory: ClassVar[Callable[[str], Publisher]] = staticmethod(_eventbridge_publisher)

    def __init__(self, settings: Settings | None = None, *, dynamodb: Any = None) -> None:
        self.settings = settings or Settings.from_env()
        self._dynamodb: Any = dynamodb
        self._engines: dict[str, CelEngine] = {}

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = type(self).resource_factory()
        return self._dynamodb

    def engine(self, name: str | None = None) -> CelEngine:
        """The CEL engine `name` (default: the configured one), one instance per name."""
        from usage_pricing.pricing.cel import new_engine  # noqa: PLC0415

        name = name or self.settings.cel_engine
        if name not in self._engines:
            self._engines[name] = new_engine(name)
        return self._engines[name]

    @cached_property
    def _evaluator(self) -> PricingEvaluator:
        from usage_pricing.pricing.evaluator import PricingEvaluator  # noqa: PLC0415

        return PricingEvaluator(self.engine(), self.settings.platform_defaults())

    def evaluator(self) -> PricingEvaluator:
        return self._evaluator

    @cached_property
    def _ledger(self) -> LedgerRepository:
        from usage_pricing.ledger.repository import LedgerRepository  # noqa: PLC0415

        return LedgerRepository(
            self.dynamodb.Table(self.settings.billing_table),
            self.dynamodb.Table(self.settings.aggregates_table),
            shards=self.settings.aggregate_shards,
        )

    def ledger(self) -> LedgerRepository:
        return self._ledger

    @cached_property
    def _aggregates(self) -> AggregateRepository:
        from usage_pricing.spend.aggregate_reader import AggregateRepository  # noqa: PLC0415

        return AggregateRepository(
            self.dynamodb.Table(self.settings.aggregates_table),
            shards=self.settings.aggregate_shards,
        )

    def aggregates(self) -> AggregateRepository:
        return self._aggregates

    @cached_property
    def _task_index(self) -> TaskIndex:
        from usage_pricing.spend.task_index import TaskIndex  # noqa: PLC0415

        return TaskIndex(self.dynamodb.Table(self.settings.billing_table))

    def task_index(self) -> TaskIndex:
        return self._task_index

    @cached_property
    def _api_keys(self) -> ApiKeyRepository:
        from usage_pricing.edge.key_store import ApiKeyRepository  # noqa: PLC0415

        return ApiKeyRepository(self.dynamodb.Table(self.settings.api_keys_table))

    def api_keys(self) -> ApiKeyRepository:
        return self._api_keys

    @cached_property
    def _pricing(self) -> PricingRepository:
        from usage_pricing.pricing.repository import PricingRepository  # noqa: PLC0415

        return PricingRepository(self.dynamodb.Table(self.settings.pricing_table))

    def pricing(self) -> PricingRepository:
        return self._pricing

    @cached_property
    def _cursor_signer(self) -> CursorSigner:
        from usage_pricing.core.cursors import CursorSigner  # noqa: PLC0415

        return CursorSigner(self.settings.cursor_secret.get_secret_value() or None)

    def cursor_signer(self) -> CursorSigner:
        """Signs this deployment's cursors; without CURSOR_SECRET it refuses (fail closed)."""
        return self._cursor_signer

    @cached_property
    def _controls_store(self) -> ControlsStore:
        from usage_pricing.controls.store import ControlsStore  # noqa: PLC0415

        return ControlsStore(self.dynamodb.Table(self.settings.controls_table))

    def controls_store(self) -> ControlsStore:
        return self._controls_store

    @cached_property
    def _budget_charges(self) -> BudgetCharges | None:
        if not self.settings.controls_table:
            return None
        from usage_pricing.controls.charging import BudgetCharges  # noqa: PLC0415

        return BudgetCharges(self.controls_store())

    def budget_charges(self) -> BudgetCharges | None:
        """The budget items of every charge (None where no controls table is configured)."""
        return self._budget_charges

    @cached_property
    def _outbox_relay(self) -> OutboxRelay | None:
        if not self.settings.controls_table:
            return None
        from usage_pricing.controls.outbox import OutboxRelay  # noqa: PLC0415

        publisher = type(self).publisher_factory(self.settings.event_bus_name)
        return OutboxRelay(self.controls_store(), publisher)

    def outbox_relay(self) -> OutboxRelay | None:
        return self._outbox_relay
