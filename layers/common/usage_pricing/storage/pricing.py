"""The app pricing table: per app a draft, a META item holding the latest version number, and one
immutable item per published version, sorted by the time it takes effect, so "the version live at
time T" is a single Query.

    pk "APP#{app}"   sk "DRAFT"                                 the draft and its revision
                     sk "META"                                  live_version: the latest version
                     sk "V#{effective_at}#{version:06d}"        a published version

A version takes effect when it is published, or at the effective_at it was published with (SPEC
§6, scheduled prices). The version live at T is the one with the latest effective_at ≤ T (of two
taking effect at the same instant, the later version), so publishing never changes what priced a
task that completed before: billing asks for the version live at completed_at. Items written
before scheduled prices carry no effective_at: it is their published_at, which their key holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from ..errors import ConflictError
from ..pricing import AppPricing
from .dynamo import storage_errors
from .ledger import _dynamo, _plain


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC microsecond timestamps: they compare as strings in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(app: str, sort: str) -> dict[str, str]:
    return {"pk": f"APP#{app}", "sk": sort}


# A plain slotted class and a NamedTuple, not dataclasses: a dataclass's generated methods are
# exec'd at import, a cost of every cold start.


class PricingRecordVersion:
    __slots__ = ("effective_at", "pricing", "published_at", "version")

    def __init__(
        self,
        pricing: AppPricing,
        version: int,
        published_at: str,
        effective_at: str = "",  # when it takes effect; "" read as published_at
    ) -> None:
        self.pricing = pricing
        self.version = version
        self.published_at = published_at
        self.effective_at = effective_at or published_at


class PricingDraft(NamedTuple):
    pricing: AppPricing
    revision: int
    updated_at: str


def _pricing(item: dict[str, Any]) -> AppPricing:
    return AppPricing.model_validate(_plain(item["pricing"]))


def _version(item: dict[str, Any]) -> PricingRecordVersion:
    return PricingRecordVersion(
        _pricing(item),
        int(item["version"]),
        item["published_at"],
        item.get("effective_at", item["published_at"]),
    )


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

    def live(self, app: str, now: datetime | None = None) -> PricingRecordVersion | None:
        """The version pricing tasks that complete now (None: nothing published yet)."""
        return self.live_at(app, now or datetime.now(UTC))

    def live_at(self, app: str, moment: datetime) -> PricingRecordVersion | None:
        """The version live at `moment`: the latest to have taken effect by then."""
        items = self._versions(app, "V#", f"V#{timestamp(moment)}#~", latest_only=True)
        return _version(items[0]) if items else None

    def scheduled(self, app: str, now: datetime) -> list[PricingRecordVersion]:
        """Versions published to take effect after `now`, soonest first."""
        return [_version(item) for item in self._versions(app, f"V#{timestamp(now)}#~", "V#~")]

    def version(self, app: str, number: int) -> PricingRecordVersion | None:
        """Published version `number` of the app, live or not (what priced a record)."""
        for item in self._versions(app, "V#", "V#~"):
            if int(item["version"]) == number:
                return _version(item)
        return None

    def versions(self, app: str) -> list[PricingRecordVersion]:
        """Every published version, in the order they take effect."""
        return [_version(item) for item in self._versions(app, "V#", "V#~")]

    def _versions(
        self, app: str, low: str, high: str, *, latest_only: bool = False
    ) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": f"APP#{app}", ":low": low, ":high": high},
            "ConsistentRead": True,
        }
        if latest_only:
            request.update(ScanIndexForward=False, Limit=1)
        found: list[dict[str, Any]] = []
        while True:
            with storage_errors("read live pricing"):
                page = self.table.query(**request)
            found.extend(page["Items"])
            if latest_only or "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def publish(
        self,
        app: str,
        pricing: AppPricing,
        now: datetime,
        effective_at: datetime | None = None,
    ) -> PricingRecordVersion:
        """Publish `pricing` as the next version, taking effect now or at `effective_at` (which
        the caller has checked is not in the past)."""
        meta = self._get(_key(app, "META"), "read pricing versions") or {}
        current = int(meta.get("live_version", 0))
        published = PricingRecordVersion(
            pricing, current + 1, timestamp(now), timestamp(effective_at or now)
        )
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
                                **_key(app, f"V#{published.effective_at}#{published.version:06d}"),
                                "pricing": _dynamo(pricing.model_dump(mode="json")),
                                "version": published.version,
                                "published_at": published.published_at,
                                "effective_at": published.effective_at,
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
