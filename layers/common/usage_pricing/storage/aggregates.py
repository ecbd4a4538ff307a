"""Reads of the spend aggregates the ledger maintains: one Query per shard over a key range, so a
range costs reads in proportion to buckets × apps × shards, never to the number of records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from ..buckets import Granularity
from .dynamo import storage_errors

KEY_ATTRIBUTES = frozenset({"pk", "sk", "app", "bucket", "expires_at"})


@dataclass(frozen=True)
class AggregateItem:
    bucket: str
    app: str
    counters: dict[str, int]


@dataclass
class ReadStats:
    items: int = 0
    queries: int = 0


class AggregateRepository:
    def __init__(self, table: Any, *, shards: int = 4) -> None:
        self.table = table
        self.shards = shards
        self.stats = ReadStats()

    def read(
        self, team_id: str, granularity: Granularity, first_bucket: str, last_bucket: str
    ) -> list[AggregateItem]:
        """Every (bucket, app) item of the team from first_bucket to last_bucket inclusive,
        shards not yet summed."""
        found = []
        for shard in range(self.shards):
            condition = Key("pk").eq(f"{team_id}#{granularity.value}#{shard}") & Key("sk").between(
                first_bucket, f"{last_bucket}#~"
            )
            request: dict[str, Any] = {"KeyConditionExpression": condition}
            while True:
                with storage_errors("read spend aggregates"):
                    page = self.table.query(**request)
                self.stats.queries += 1
                for item in page["Items"]:
                    counters = {
                        name: int(value)
                        for name, value in item.items()
                        if name not in KEY_ATTRIBUTES and isinstance(value, Decimal)
                    }
                    found.append(AggregateItem(item["bucket"], item["app"], counters))
                self.stats.items += len(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found
