"""The app pricing table: per app a draft, a META item holding the latest version number, and one
immutable item per published version, sorted by the time it takes effect, so "the version live at
time T" is a single Query.

    pk "APP#{app}"   sk "DRAFT"                                 the draft and its revision
                     sk "META"                                  live_version: the latest version
                     sk "V#{effective_at}#{version:06d}"        a published version
                     sk "CANCELLED#{version:06d}"               a scheduled version, cancelled

A version takes effect when it is published, or at the effective_at it was published with
(docs/billing.md, scheduled prices). The version live at T is the one with the latest
effective_at ≤ T (of two taking effect at the same instant, the later version), so publishing
never changes what priced a task that completed before: billing asks for the version live at
completed_at. Items written before scheduled prices carry no effective_at: it is their
published_at, which their key holds.

Cancelling a scheduled version moves its item out of the "V#" range (one transaction: delete the
version, put its CANCELLED# record), so billing's single Query can never meet it, and its number
is never reused (META's live_version is not lowered)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from usage_pricing.core.errors import ConflictError, NotFoundError
from usage_pricing.core.utc import sortable
from usage_pricing.pricing.model import AppPricing
from usage_pricing.storage.dynamo import from_dynamo, storage_errors, to_dynamo


def _key(app: str, sort: str) -> dict[str, str]:
    return {"pk": f"APP#{app}", "sk": sort}


def _cancelled_key(number: int) -> str:
    return f"CANCELLED#{number:06d}"


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
    return AppPricing.model_validate(from_dynamo(item["pricing"]))


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
        draft = PricingDraft(pricing, expected_revision + 1, sortable(now))
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
                    "pricing": to_dynamo(pricing.model_dump(mode="json")),
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
        items = self._versions(app, "V#", f"V#{sortable(moment)}#~", latest_only=True)
        return _version(items[0]) if items else None

    def next_after(self, app: str, moment: datetime) -> PricingRecordVersion | None:
        """The first version to take effect after `moment`: when the version live at `moment`
        stops being live (None: no later version is published). One item read, however many
        follow."""
        items = self._versions(app, f"V#{sortable(moment)}#~", "V#~", earliest_only=True)
        return _version(items[0]) if items else None

    def scheduled(self, app: str, now: datetime) -> list[PricingRecordVersion]:
        """Versions published to take effect after `now`, soonest first."""
        return [_version(item) for item in self._versions(app, f"V#{sortable(now)}#~", "V#~")]

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
        self,
        app: str,
        low: str,
        high: str,
        *,
        latest_only: bool = False,
        earliest_only: bool = False,
    ) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": f"APP#{app}", ":low": low, ":high": high},
            "ConsistentRead": True,
        }
        if latest_only:
            request.update(ScanIndexForward=False, Limit=1)
        elif earliest_only:
            request.update(Limit=1)
        found: list[dict[str, Any]] = []
        while True:
            with storage_errors("read live pricing"):
                page = self.table.query(**request)
            found.extend(page["Items"])
            if latest_only or earliest_only or "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def publish(
        self,
        app: str,
        pricing: AppPricing,
        now: datetime,
        effective_at: datetime | None = None,
        *,
        max_scheduled: int | None = None,
    ) -> PricingRecordVersion:
        """Publish `pricing` as the next version, taking effect now or at `effective_at` (which
        the caller has checked is far enough ahead). With `max_scheduled`, a scheduled publish
        is refused while that many versions are already scheduled: counted after META is read,
        and the write is conditioned on META, so two publishes racing cannot both pass the
        count (a cancel racing it only lowers the count)."""
        meta = self._get(_key(app, "META"), "read pricing versions") or {}
        current = int(meta.get("live_version", 0))
        scheduled = f"V#{sortable(now)}#~", "V#~"
        if (
            effective_at is not None
            and max_scheduled is not None
            and len(self._versions(app, *scheduled)) >= max_scheduled
        ):
            raise ConflictError(
                f"{app} already has {max_scheduled} scheduled versions, the most it may have; "
                "cancel one (DELETE …/pricing/scheduled/{version}) or wait for one to take effect"
            )
        published = PricingRecordVersion(
            pricing, current + 1, sortable(now), sortable(effective_at or now)
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
                                "pricing": to_dynamo(pricing.model_dump(mode="json")),
                                "version": published.version,
                                "published_at": published.published_at,
                                "effective_at": published.effective_at,
                            },
                        }
                    },
                ]
            )
        return published

    def cancel(
        self, app: str, number: int, clock: Callable[[], datetime], lock: timedelta
    ) -> PricingRecordVersion:
        """Cancel scheduled version `number`, which must still be more than `lock` ahead of now
        (the completion-time allowance: until then no task priced by it can have been billed).

        NotFoundError when no such version was ever published or it is already cancelled;
        ConflictError when it has taken effect or is within `lock` of doing so. The read order
        makes the answer true at one moment: META first (a number beyond live_version did not
        exist then), then the scheduled versions, then the cancellation record (a version
        neither scheduled nor cancelled has taken effect: cancel removes one and writes the other
        in one transaction). The write itself is conditioned on the version still existing and
        its effective_at still lying beyond now + lock, with `clock` read again just before it, so
        neither a concurrent cancel nor the passing of time can slip between check and write."""
        now = clock()
        meta = self._get(_key(app, "META"), "read pricing versions") or {}
        if not 1 <= number <= int(meta.get("live_version", 0)):
            raise NotFoundError(f"{app} has no scheduled version {number}")
        item = next(
            (
                item
                for item in self._versions(app, f"V#{sortable(now)}#~", "V#~")
                if int(item["version"]) == number
            ),
            None,
        )
        if item is None:
            if self._get(_key(app, _cancelled_key(number)), "read cancelled pricing"):
                raise NotFoundError(f"{app} has no scheduled version {number}: it was cancelled")
            raise ConflictError(f"{app} version {number} has already taken effect")
        version = _version(item)
        too_late = ConflictError(
            f"{app} version {number} takes effect at {version.effective_at}: it can be "
            f"cancelled only until {int(lock.total_seconds() // 60)} minutes before (tasks "
            "completing after it may already be billed with it)"
        )
        if version.effective_at <= sortable(now + lock):
            raise too_late
        return self._remove(app, item, version, (max(now, clock()), lock), too_late)

    def _remove(
        self,
        app: str,
        item: dict[str, Any],
        version: PricingRecordVersion,
        when: tuple[datetime, timedelta],  # the write's moment, and the lock
        too_late: ConflictError,
    ) -> PricingRecordVersion:
        moment, lock = when

        def failed() -> ConflictError | NotFoundError:
            # The version left the range (a concurrent cancel) or came within the lock.
            if self._get(_key(app, _cancelled_key(version.version)), "read cancelled pricing"):
                return NotFoundError(f"{app} has no scheduled version {version.version}")
            return too_late

        with storage_errors("cancel scheduled pricing", on_condition=failed):
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table.name,
                            "Key": {"pk": item["pk"], "sk": item["sk"]},
                            "ConditionExpression": (
                                "attribute_exists(pk) AND effective_at > :cutoff"
                            ),
                            "ExpressionAttributeValues": {":cutoff": sortable(moment + lock)},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": {
                                **_key(app, _cancelled_key(version.version)),
                                "pricing": item["pricing"],
                                "version": version.version,
                                "published_at": version.published_at,
                                "effective_at": version.effective_at,
                                "cancelled_at": sortable(moment),
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        return version

    def _get(self, key: dict[str, str], action: str) -> dict[str, Any] | None:
        with storage_errors(action):
            item: dict[str, Any] | None = self.table.get_item(Key=key, ConsistentRead=True).get(
                "Item"
            )
        return item
