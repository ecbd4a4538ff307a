"""What a budget's period spent before the budget counted it (docs/spend-controls.md: a budget
made mid-period knows the period so far), from the aggregates with the breakdown's exact
local-calendar sums. It lives with the spend readers, above the spend controls, which take it as
a callable (usage_pricing.controls.budgets.BudgetService)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from usage_pricing.core.utc import utc_seconds
from usage_pricing.spend.aggregate_reader import AggregateRepository


class SpendSoFar:
    """What a period spent before a budget counted it, from the aggregates (the breakdown's
    exact local-calendar sums: usage_pricing.spend.breakdown)."""

    def __init__(self, aggregates: AggregateRepository, clock: Callable[[], datetime]) -> None:
        # The same table and budgets, read consistently: a charge committed before the seed
        # must be in it (controls.budgets.BudgetService._seed).
        self.aggregates = AggregateRepository(
            aggregates.table,
            shards=aggregates.shards,
            max_items=aggregates.max_items,
            consistent=True,
        )
        self.clock = clock

    def __call__(
        self, team_id: str, app: str | None, tz: str, start: datetime, end: datetime
    ) -> int:
        # Only a PUT reads the period so far: the budgets function does not load the breakdown at
        # import (docs/operations.md, cold start).
        from usage_pricing.spend.breakdown import SpendAnalytics  # noqa: PLC0415
        from usage_pricing.spend.query import SpendQuery  # noqa: PLC0415

        reader = SpendAnalytics(self.aggregates, self.clock)
        bucket: Literal["1h", "1d"] = "1h" if end - start <= timedelta(days=2) else "1d"
        answer = reader.breakdown(
            team_id,
            SpendQuery(
                start=utc_seconds(start),
                end=utc_seconds(end),
                tz=tz,
                bucket=bucket,
                apps=(app,) if app else (),
            ),
        )
        return sum(sum(bucket_costs.values()) for bucket_costs in answer.tally.cost)


__all__ = ["SpendSoFar"]
