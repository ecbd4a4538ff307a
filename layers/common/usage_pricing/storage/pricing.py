"""The app pricing table: per app a draft, a META item holding the live version number, and one
immutable item per published version, sorted by publication time so "the version live at time
T" is a single Query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import ConflictError
from ..pricing import AppPricing
from .dynamo import storage_errors
from .ledger import _dynamo, _plain


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC microsecond timestamps: they compare as strings in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(app: str, sort: str) -> dict[str, str]:
    return {"pk": f"APP#{app}", "sk": sort}


@dataclass(frozen=True, slots=True)
class PricingRecordVersion:
    pricing: AppPricing
    version: int
    published_at: str


@dataclass(frozen=True, slots=True)
class PricingDraft:
    pricing: AppPricing
    revision: int
    updated_at: str


def _pricing(item: dict[str, Any]) -> AppPricing:
    return AppPricing.model_validate(_plain(item["pricing"]))


class PricingRepository:
    def __init__(self, table: Any) -> None:
        self.table = table
        self.client = table.meta.client

    def draft(self, app: str) -> PricingDraft | None:
        item = self._get(_key(app, "DRAFT"), "read draft pricing")
        if item is None:
            return None
        return PricingDraft(_pricing(item), int(item["revision"]), item["updated_at"])

    def save_draft(
        self, app: str, pricing: AppPricing, expected_revision: int, now: datetime
    ) -> PricingDraft:
        """Write the draft if nobody saved another since expected_revision (0: none existed)."""
        draft = PricingDraft(pricing, expected_revision + 1, timestamp(now))
        condition = "attribute_not_exists(pk)" if expected_revision == 0 else "revision = :expected"
        values = {} if expected_revision == 0 else {":expected": expected_revision}
        with storage_errors(
            "save draft pricing",
            on_condition=lambda: ConflictError(
                "the draft changed while it was being edited; retry"
            ),
        ):
            self.table.put_item(
                Item={
                    **_key(app, "DRAFT"),
                    "pricing": _dynamo(pricing.model_dump(mode="json")),
                    "revision": draft.revision,
                    "updated_at": draft.updated_at,
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        return draft

    def live(self, app: str) -> PricingRecordVersion | None:
        return self._latest(app, "V#~")

    def live_at(self, app: str, moment: datetime) -> PricingRecordVersion | None:
        return self._latest(app, f"V#{timestamp(moment)}#~")

    def _latest(self, app: str, upper: str) -> PricingRecordVersion | None:
        with storage_errors("read live pricing"):
            items = self.table.query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={":pk": f"APP#{app}", ":low": "V#", ":high": upper},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )["Items"]
        if not items:
            return None
        item = items[0]
        return PricingRecordVersion(_pricing(item), int(item["version"]), item["published_at"])

    def publish(self, app: str, pricing: AppPricing, now: datetime) -> PricingRecordVersion:
        meta = self._get(_key(app, "META"), "read pricing versions") or {}
        current = int(meta.get("live_version", 0))
        published = PricingRecordVersion(pricing, current + 1, timestamp(now))
        condition = (
            "attribute_not_exists(live_version)" if current == 0 else "live_version = :current"
        )
        values: dict[str, Any] = {":next": published.version}
        if current:
            values[":current"] = current
        with storage_errors(
            "publish pricing",
            on_condition=lambda: ConflictError("another publish happened at the same time; retry"),
        ):
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": _key(app, "META"),
                            "UpdateExpression": "SET live_version = :next",
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": {
                                **_key(app, f"V#{published.published_at}#{published.version:06d}"),
                                "pricing": _dynamo(pricing.model_dump(mode="json")),
                                "version": published.version,
                                "published_at": published.published_at,
                            },
                        }
                    },
                ]
            )
        return published

    def _get(self, key: dict[str, str], action: str) -> dict[str, Any] | None:
        with storage_errors(action):
            item: dict[str, Any] | None = self.table.get_item(Key=key, ConsistentRead=True).get(
                "Item"
            )
        return item
