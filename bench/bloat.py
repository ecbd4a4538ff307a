"""The largest aggregate item a hostile sequence of valid task events makes (storage.aggregates,
"Bounded dimensions"): `tasks` tasks of one app and one UTC day, each on 64 resources whose models
are distinct 128-character strings, billed by the real ledger into the local database (moto in
server mode, which enforces DynamoDB's 400 KB item limit). Before the bound, 46 such tasks took the
day item past 400 KB and every later charge of that app and day failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from usage_pricing import PricingEvaluator, new_engine
from usage_pricing.ledger.billing import BillingService
from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository
from usage_pricing.usage.events import TaskCompleted

from .capacity import item_size
from .localdb import local_database

TEAM = "team_bloat"
APP = f"{TEAM}/bloat"
RESOURCES = 64


class _NoPricing:
    def live_at(self, app: str, moment: datetime) -> None:
        return None


def _task(index: int, moment: datetime) -> TaskCompleted:
    done = moment + timedelta(seconds=index)
    return TaskCompleted.model_validate(
        {
            "task_id": f"bloat-{index:05d}",
            "team_id": TEAM,
            "app": APP,
            "status": "completed",
            "started_at": (done - timedelta(seconds=1)).isoformat(),
            "completed_at": done.isoformat(),
            "elapsed_ms": 1_000,
            "resources": [
                {
                    "name": f"r{r}",
                    "type": "gpu",
                    "model": f"{index:06d}-{r:02d}-" + "m" * 118,
                    "price_per_second": 5,
                }
                for r in range(RESOURCES)
            ],
        }
    )


def largest_aggregate_item(tasks: int) -> dict[str, Any]:
    with local_database() as database:
        resource = boto3.resource("dynamodb", endpoint_url=database.endpoint)
        ledger = LedgerRepository(resource.Table("BillingTable"), resource.Table("AggregatesTable"))
        service = BillingService(ledger, _NoPricing(), PricingEvaluator(new_engine("cel-expr")))  # type: ignore[arg-type]
        moment = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        moment -= timedelta(days=1)
        billed = 0
        for index in range(tasks):
            _, outcome = service.bill(_task(index, moment))
            billed += outcome is LedgerOutcome.WRITTEN
        table = resource.Table("AggregatesTable")
        page = table.scan()
        items = page["Items"]
        while "LastEvaluatedKey" in page:
            page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
            items += page["Items"]
        sizes = sorted(item_size(item) for item in items)
        return {"tasks": tasks, "billed": billed, "largest": sizes[-1], "items": len(sizes)}
