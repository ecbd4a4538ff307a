"""The task list (SPEC §7): a team's billing records in a window, oldest first by completed_at
then task id, a page at a time.

Paging is by position, not offset: the cursor holds the window (fixed when the first page was
asked for, so a window that ends "now" does not move under a client paging through it) and the
index key of the last record returned. Records that arrive while a client pages appear in a
later page when they sort after its position, so the pages concatenate to the window's records
without a duplicate or a gap; only a record billed late, sorting before the position already
passed, is not seen by that walk.

The cursor is opaque and bound to the team and the query: it carries a keyed BLAKE2b digest over
the team id, the query's parameters and its content. A cursor altered by hand, made for another
query, or issued to another team is a 400. The digest is an integrity check, not a secret: a
cursor authorizes nothing, since the list is always read from the caller's own team."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from pydantic import BaseModel, Field

from .errors import FieldIssue, InvalidRequestError
from .fees import COMPONENTS, declare_fields
from .money import to_dollars
from .records import RESOURCE, BillingRecord, utc_iso
from .spend_params import DEFAULT_LIMIT
from .storage.ledger import time_key
from .storage.task_index import TaskIndex
from .views import Fee, FeeView
from .windows import RangeName, resolve_span

CURSOR_VERSION = 1
_CURSOR_KEY = b"usage-pricing task-list cursor v1"
CSV_COLUMNS = (
    "task_id",
    "app",
    "app_version",
    "status",
    "billing_status",
    "completed_at",
    # resource_fee_microcents, resource_fee_usd, … total_usd: every component (fees.COMPONENTS)
    *(f"{c.field}_{unit}" for c in COMPONENTS for unit in ("microcents", "usd")),
    "discount_microcents",
    "discount_usd",
    "charged_microcents",
    "charged_usd",
    "refunded",
    "pricing_version",
)


# Here, not in records: only the task cost function shows it (pricing and billing never build it).
class TaskCost(BaseModel):
    """GET /usage/tasks/{taskID}/cost."""

    task_id: str
    app: str
    app_version: str
    status: str
    billing_status: str
    completed_at: str
    # resource_fee … total: every component (fees.COMPONENTS).
    declare_fields(vars(), FeeView, components=COMPONENTS)
    discount: FeeView
    discount_reason: str | None = None
    charged: FeeView
    refunded: bool
    refunded_at: str | None = None
    refund_reason: str | None = None
    meter: str | None = Field(description="The first resource's inference meter, if it named one.")
    meter_price: FeeView | None = Field(description="The first resource's rate per hour.")
    inference_time: int = Field(description="Billed seconds: the elapsed time rounded up.")
    inference_cost: FeeView = Field(description="The resource fee: meter price × inference time.")
    errors: dict[str, str]
    pricing_version: int

    @classmethod
    def of(cls, record: BillingRecord) -> TaskCost:
        def fee(name: str, value: int) -> FeeView:
            return FeeView.of(Fee(value, record.errors.get(name)))

        price = record.meter_price_per_hour
        return cls(
            task_id=record.task_id,
            app=record.app,
            app_version=record.app_version,
            status=record.status,
            billing_status="refunded" if record.refunded else record.billing_status,
            completed_at=utc_iso(record.completed_at),
            **{name: fee(name, value) for name, value in record.component_values().items()},
            discount=fee("discount", record.discount),
            discount_reason=record.discount_reason,
            charged=fee("charged", record.charged),
            refunded=record.refunded,
            refunded_at=None if record.refunded_at is None else utc_iso(record.refunded_at),
            refund_reason=record.refund_reason,
            meter=record.meter,
            meter_price=None if price is None else FeeView.of(Fee(price)),
            inference_time=record.usage_seconds,
            inference_cost=fee(RESOURCE.field, record.component_values()[RESOURCE.field]),
            errors=record.errors,
            pricing_version=record.pricing_version,
        )


# NamedTuples, not dataclasses: a dataclass's generated methods are exec'd at import, a cost of
# every cold start.


class TaskListQuery(NamedTuple):
    range: RangeName | None = None
    start: str | None = None
    end: str | None = None
    tz: str | None = None
    apps: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def fingerprint(self) -> bytes:
        """What binds a cursor to its query: every parameter but the page size and the cursor."""
        content = {
            "range": self.range,
            "start": self.start,
            "end": self.end,
            "tz": self.tz,
            "app": sorted(set(self.apps)),
            "status": sorted(set(self.statuses)),
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


class TaskPage(BaseModel):
    data: list[TaskCost]
    has_more: bool
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same query) for the next page."
    )


class _Position(NamedTuple):
    low: str
    high: str
    after: str | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _digest(team_id: str, query: TaskListQuery, payload: bytes) -> bytes:
    mac = hashlib.blake2b(key=_CURSOR_KEY, digest_size=16)
    for part in (team_id.encode(), query.fingerprint(), payload):
        mac.update(len(part).to_bytes(4, "big") + part)
    return mac.digest()


def encode_cursor(team_id: str, query: TaskListQuery, position: _Position) -> str:
    payload = json.dumps(
        {"v": CURSOR_VERSION, "l": position.low, "h": position.high, "a": position.after},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_digest(team_id, query, payload))}"


def _bad_cursor() -> InvalidRequestError:
    message = (
        "is not a cursor of this query and team: pass next_cursor back unchanged, with the "
        "same query"
    )
    return InvalidRequestError(f"cursor {message}", errors=[FieldIssue("cursor", message)])


def decode_cursor(team_id: str, query: TaskListQuery, cursor: str) -> _Position:
    try:
        encoded, _, digest = cursor.partition(".")
        payload, claimed = _unb64(encoded), _unb64(digest)
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    import hmac  # noqa: PLC0415 — only a request with a cursor needs it

    if not hmac.compare_digest(claimed, _digest(team_id, query, payload)):
        raise _bad_cursor()
    try:
        content = json.loads(payload)
    except ValueError:
        raise _bad_cursor() from None
    if not isinstance(content, dict) or content.get("v") != CURSOR_VERSION:
        raise _bad_cursor()
    low, high, after = content.get("l"), content.get("h"), content.get("a")
    if not (isinstance(low, str) and isinstance(high, str) and isinstance(after, str)):
        raise _bad_cursor()
    return _Position(low, high, after)


class TaskPageAnswer(NamedTuple):
    model: TaskPage
    records: list[BillingRecord]

    @property
    def next_cursor(self) -> str | None:
        return self.model.next_cursor

    def csv_rows(self) -> Iterable[Sequence[object]]:
        for record, view in zip(self.records, self.model.data, strict=True):
            row: list[object] = [
                view.task_id,
                view.app,
                view.app_version,
                view.status,
                view.billing_status,
                view.completed_at,
            ]
            for value in (
                *record.component_values().values(),
                record.discount,
                record.charged,
            ):
                row += [value, to_dollars(value)]
            row += ["true" if record.refunded else "false", record.pricing_version]
            yield row


class TaskList:
    def __init__(
        self,
        index: TaskIndex,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.index = index
        self.clock = clock

    def page(self, team_id: str, query: TaskListQuery) -> TaskPageAnswer:
        span = resolve_span(  # validated on every page, though later pages use the cursor's
            range_name=query.range,
            start=query.start,
            end=query.end,
            tz_name=query.tz,
            now=self.clock(),
            default_range="7d",
        )
        if query.cursor is not None:
            position = decode_cursor(team_id, query, query.cursor)
        else:
            position = _Position(time_key(span.start), time_key(span.end), None)
        found, more = self.index.page(
            team_id,
            position.low,
            position.high,
            after=position.after,
            limit=query.limit,
            apps=query.apps,
            statuses=query.statuses,
        )
        next_cursor = None
        if more and found:
            next_cursor = encode_cursor(
                team_id, query, _Position(position.low, position.high, found[-1][0])
            )
        records = [record for _, record in found]
        model = TaskPage(
            data=[TaskCost.of(record) for record in records],
            has_more=next_cursor is not None,
            next_cursor=next_cursor,
        )
        return TaskPageAnswer(model, records)
