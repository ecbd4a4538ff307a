"""The task list (docs/api.md): a team's billing records in a window, oldest first by completed_at
then task id (or, with order=desc, newest first: exactly the reverse), a page at a time.

Paging is by position, not offset: the cursor holds the window (fixed when the first page was
asked for, so a window that ends "now" does not move under a client paging through it) and the
index key of the last record returned. Records that arrive while a client pages appear in a
later page when they sort after its position (in the query's order), so the pages concatenate
to the window's records without a duplicate or a gap; only a record billed late, sorting before
the position already passed in the walk's order, is not seen by that walk (newest first: any
record of the window billed after the walk went past its completion time).

The cursor is opaque and bound to the team and the query: it is sealed by usage_pricing.core.cursors
with the deployment's secret over the team id, the query's parameters and its content. A cursor
altered by hand, made for another query, issued to another team or by another deployment, or
signed with the constant key of earlier releases, is a 400; so is one whose window is not its
query's or whose position lies outside that window or runs backwards (which would otherwise
reach DynamoDB as inverted key bounds). Without the secret the list answers 503 (fail closed).

Every page is bounded (docs/api.md; storage.task_index): it reads at most TASK_LIST_BUDGET's items
and Queries and stops at a deadline inside the function's timeout. A `status` filter, which no
index serves, can therefore end a page with fewer rows than `limit`, or none, and still
`has_more`: its `next_cursor` continues from where the reads stopped.

The first page of a query without a `status` filter also says how many tasks the window holds
(`count`), from the spend aggregates and never from the records (spend.task_count): the window
widened to whole minutes (whole quarter-hours beyond the minute aggregates' three days), stated
as it was counted. A later page has no count (the client has the first page's), nor has a
status filter (the aggregates count calls, not statuses); nor a window whose count would pass
the aggregate reader's item limit. Those answer `count: null`, never a 422 for the list."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from usage_pricing.core.cursors import CursorSigner, check_window, cursor_outside
from usage_pricing.core.deadline import BudgetPolicy
from usage_pricing.core.fees import COMPONENTS, declare_fields
from usage_pricing.core.money import to_dollars
from usage_pricing.core.utc import sortable, utc_iso
from usage_pricing.core.views import Fee, FeeView, FigureError
from usage_pricing.core.windows import RangeName, Span, resolve_span
from usage_pricing.ledger.records import RESOURCE, BillingRecord
from usage_pricing.spend.exports import CsvExport
from usage_pricing.spend.params import DEFAULT_LIMIT, TaskOrder
from usage_pricing.spend.task_count import TaskCounter
from usage_pricing.spend.task_index import TaskIndex

CURSOR_PURPOSE = "task-list"
# The task list function's timeout is 10 s (template.yaml); the margin covers one more Query page
# and the answer's shaping and way out. 5,000 items: about 10 filtered Queries of 500.
TIMEOUT_MS = 10_000
MARGIN_MS = 2_500
MAX_ITEMS = 5_000
MAX_QUERIES = 50  # ≥ 2 per partition of the largest app filter (spend_params.MAX_APP_FILTERS)
# One row per task of the page (TaskPageAnswer.csv_rows); no figure of a record can pass int64.
TASKS_CSV = CsvExport(
    "tasks.csv",
    (
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
    ),
    int64_422=False,
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
    order: TaskOrder = "asc"

    def fingerprint(self) -> bytes:
        """What binds a cursor to its query: every parameter but the page size and the cursor.
        The order is named only when it is desc: so a cursor of one order is a 400 for the
        other, and the oldest-first cursors issued before the order existed stay valid."""
        content: dict[str, object] = {
            "range": self.range,
            "start": self.start,
            "end": self.end,
            "tz": self.tz,
            "app": sorted(set(self.apps)),
            "status": sorted(set(self.statuses)),
        }
        if self.order != "asc":
            content["order"] = self.order
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


class TaskCount(BaseModel):
    tasks: int = Field(
        description="Billed tasks (charged, refunded, failed or cancelled alike) completing in "
        "[start, end), from the spend aggregates."
    )
    start: str = Field(
        description="The window counted (inclusive): the list's start, widened to a whole UTC "
        "minute (a quarter-hour when it is more than about three days old)."
    )
    end: str = Field(description="The window counted (exclusive), widened like start.")


class TaskPage(BaseModel):
    data: list[TaskCost] = Field(
        description="Up to `limit` records, oldest first (newest first with order=desc). With a "
        "`status` filter a page reads a bounded number of records, so it may hold fewer (even "
        "none) while has_more is true."
    )
    has_more: bool = Field(
        description="The window may hold more records after this page: follow next_cursor."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same query) for the next page; it continues "
        "where this page stopped, whether at `limit` rows or at the request's read budget or "
        "deadline. Null when the window holds no more."
    )
    count: TaskCount | None = Field(
        description="How many tasks the window holds, on the first page (no cursor) of a query "
        "without `status`; start and end are the window counted, which is the list's when its "
        "bounds are whole minutes (whole quarter-hours beyond three days), and then the count is "
        "exact for it. Null on later pages, with a status filter, or when counting would read "
        "more aggregate items than a request may.",
    )


class _Position(NamedTuple):
    low: str
    high: str
    after: str | None


def _window_of(position: _Position, span: Span, now: datetime) -> _Position:
    """The cursor's position if its window is its query's and it lies inside it, else a 400."""
    check_window(position.low, position.high, span, now)
    if position.after is not None and not (position.low <= position.after < position.high):
        raise cursor_outside("its position is not inside its window")
    return position


class TaskPageAnswer(NamedTuple):
    model: TaskPage
    records: list[BillingRecord]
    errors: tuple[FigureError, ...] = ()

    @property
    def next_cursor(self) -> str | None:
        return self.model.next_cursor

    @property
    def export(self) -> CsvExport:
        return TASKS_CSV

    def csv_rows(self) -> Iterable[Sequence[object]]:
        """TASKS_CSV's rows: one per task, in the page's order."""
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
        signer: CursorSigner,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        counter: TaskCounter | None = None,
    ) -> None:
        self.index = index
        self.signer = signer
        self.clock = clock
        self.counter = counter
        self.budget = BudgetPolicy(
            margin_ms=MARGIN_MS,
            max_items=MAX_ITEMS,
            max_queries=MAX_QUERIES,
            fallback_ms=TIMEOUT_MS,
        )

    def _binding(self, team_id: str, query: TaskListQuery) -> tuple[bytes, bytes]:
        return team_id.encode(), query.fingerprint()

    def page(self, team_id: str, query: TaskListQuery, context: Any = None) -> TaskPageAnswer:
        """One page of the list, within the budget of the request `context` (the Lambda
        context) is running."""
        self.signer.require()  # fail closed: no page without the secret its cursor needs
        budget = self.budget.start(context)
        now = self.clock()
        span = resolve_span(  # validated on every page, though later pages use the cursor's
            range_name=query.range,
            start=query.start,
            end=query.end,
            tz_name=query.tz,
            now=now,
            default_range="7d",
        )
        if query.cursor is not None:
            content = self.signer.open(CURSOR_PURPOSE, self._binding(team_id, query), query.cursor)
            low, high, after = content.get("l"), content.get("h"), content.get("a")
            if not (isinstance(low, str) and isinstance(high, str) and isinstance(after, str)):
                raise cursor_outside("it holds no position")
            position = _window_of(_Position(low, high, after), span, now)
        else:
            position = _Position(sortable(span.start), sortable(span.end), None)
        count = None
        # Before the list's reads, so that these reads' time comes out of the list's deadline.
        if query.cursor is None and not query.statuses and self.counter is not None:
            counted = self.counter.count(
                team_id, span.start, span.end, now=now, apps=query.apps, budget=budget
            )
            if counted is not None:
                count = TaskCount(
                    tasks=counted.tasks, start=utc_iso(counted.start), end=utc_iso(counted.end)
                )
        found, resume_after = self.index.page(
            team_id,
            position.low,
            position.high,
            after=position.after,
            limit=query.limit,
            budget=budget,
            apps=query.apps,
            statuses=query.statuses,
            descending=query.order == "desc",
        )
        next_cursor = None
        if resume_after is not None:
            next_cursor = self.signer.seal(
                CURSOR_PURPOSE,
                self._binding(team_id, query),
                {"l": position.low, "h": position.high, "a": resume_after},
            )
        records = [record for _, record in found]
        model = TaskPage(
            data=[TaskCost.of(record) for record in records],
            has_more=next_cursor is not None,
            next_cursor=next_cursor,
            count=count,
        )
        return TaskPageAnswer(model, records)
