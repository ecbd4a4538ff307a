"""Task lifecycle events (docs/billing.md), as EventBridge delivers them (source
"inference.tasks")."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from usage_pricing.core.factories import empty_dict, empty_list
from usage_pricing.core.jsonsafe import JsonObject
from usage_pricing.core.limits import (
    CLOCK_SKEW,
    MAX_EVENT_TEXT,
    MAX_RESOURCES,
    AppPath,
    Identifier,
    printable,
)
from usage_pricing.core.utc import EARLIEST, utc_iso
from usage_pricing.usage.meta import OutputMeta
from usage_pricing.usage.meters import Resource

# Free text of an event: short and printable (limits.printable), whatever it feeds.
EventText = Annotated[str, Field(max_length=MAX_EVENT_TEXT), AfterValidator(printable)]
EVENT_SOURCE = "inference.tasks"
# Plausible completion times (docs/billing.md): nothing before 2000, nothing later than a little
# clock
# skew (limits.CLOCK_SKEW) after the moment billing runs. Outside that a task is a poison event,
# never a charge that no breakdown can show (or an aggregate key that sorts wrongly, or an expiry
# that overflows).
EARLIEST_COMPLETION = EARLIEST


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+14:00 or 9999-12-31T23:59-14:00: no UTC instant to bill.
        raise ValueError("is outside the range of UTC times") from None


class TaskCompleted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: Identifier
    team_id: Identifier
    app: AppPath = Field(description="namespace/name")
    app_version: EventText = ""
    function: EventText = "run"
    status: Literal["completed", "failed", "cancelled"]
    started_at: AwareDatetime
    completed_at: AwareDatetime
    elapsed_ms: Annotated[int, Field(ge=0, le=366 * 86_400_000, strict=True)]
    tier: Literal["cloud", "private"] = "cloud"
    resources: Annotated[list[Resource], Field(max_length=MAX_RESOURCES)] = Field(
        default_factory=empty_list
    )
    task_inputs: JsonObject = Field(default_factory=empty_dict)
    output_meta: OutputMeta | None = None

    _to_utc = field_validator("started_at", "completed_at")(_utc)

    @model_validator(mode="after")
    def _ordered_times(self) -> TaskCompleted:
        if self.completed_at < EARLIEST_COMPLETION:
            raise ValueError(
                f"completed_at {self.completed_at.isoformat()} is before {utc_iso(EARLIEST)}"
            )
        if self.started_at > self.completed_at:
            raise ValueError("started_at is after completed_at")
        return self

    def implausible_at(self, now: datetime) -> str | None:
        """Why this task cannot be billed at `now` (a completion in the future), or None."""
        if self.completed_at > now + CLOCK_SKEW:
            return (
                f"invalid event: completed_at {self.completed_at.isoformat()} is more than"
                f" {int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future"
            )
        return None

    def fingerprint(self) -> str:
        """A digest of everything billing prices from (docs/billing.md): the same task id with
        another
        fingerprint is a conflict, not a duplicate."""
        # `function` is not priced; a missing output_meta prices like an empty one.
        content = self.model_dump(mode="json", exclude={"task_id", "function", "output_meta"})
        content["output_meta"] = (self.output_meta or OutputMeta()).model_dump(mode="json")
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


class TaskRefunded(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: Identifier
    team_id: Identifier
    reason: Annotated[EventText, Field(min_length=1)]
    refunded_at: AwareDatetime

    _to_utc = field_validator("refunded_at")(_utc)

    def implausible_at(self, now: datetime) -> str | None:
        """Why this refund cannot be applied at `now` (a refund in the future), or None. Its other
        bound, the task's completion, needs the record (storage.ledger.LedgerRepository.refund)."""
        if self.refunded_at > now + CLOCK_SKEW:
            return (
                f"invalid event: refunded_at {self.refunded_at.isoformat()} is more than"
                f" {int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future"
            )
        return None


class _Envelope(BaseModel):
    """The EventBridge event around a detail (fields EventBridge fills in are optional here)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = ""
    version: str = "0"
    account: str = ""
    region: str = ""
    time: str = ""
    resources: list[str] = Field(default_factory=empty_list)
    source: Literal["inference.tasks"]


class TaskCompletedEvent(_Envelope):
    detail_type: Literal["Task Completed"] = Field(alias="detail-type")
    detail: TaskCompleted


class TaskRefundedEvent(_Envelope):
    detail_type: Literal["Task Refunded"] = Field(alias="detail-type")
    detail: TaskRefunded


TaskEvent = Annotated[TaskCompletedEvent | TaskRefundedEvent, Field(discriminator="detail_type")]


class TaskEventEnvelope(BaseModel):
    event: TaskEvent

    @classmethod
    def parse(cls, payload: Any) -> TaskCompletedEvent | TaskRefundedEvent:
        return cls.model_validate({"event": payload}).event


__all__ = [
    "CLOCK_SKEW",
    "EARLIEST_COMPLETION",
    "EVENT_SOURCE",
    "TaskCompleted",
    "TaskCompletedEvent",
    "TaskEventEnvelope",
    "TaskRefunded",
    "TaskRefundedEvent",
]
