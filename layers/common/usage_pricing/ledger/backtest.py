"""The backtest (docs/api.md): a proposed pricing re-prices the team's own billed tasks of an app.

POST /apps/{namespace}/{name}/pricing/backtest, for the namespace's own team (another namespace
is a 403). The tasks are the team's records of the app completed in the window (default the last
7 days), newest first, at most `limit` (default 1,000, at most 10,000) read through the
by_team_app_time index. Each is priced again from
what its record keeps (usage_pricing.ledger.charges) with the proposed pricing (default: the draft)
and
this deployment's platform defaults, as billing would price it today; its current figures are
what it was charged. Failed and cancelled tasks stay 0 (discounted in full), refunded tasks are
left out, tasks that need review count with what they were charged. Nothing is written.

Figures are integer microcents. A sum that leaves int64 is reported as null and named in
`figure_errors` ({field, message}, the spend answers' shape; absent otherwise), never as a wrong
number.

Every request is bounded (docs/api.md): a deadline inside the function's timeout (Lambda's remaining
time less MARGIN_MS) checked between tasks, and a read budget (MAX_ITEMS records in at most
MAX_QUERIES Queries of PAGE_SIZE). A backtest stops at whichever comes first of `limit`, the
deadline and the read budget, with `truncated: true`, `truncated_reason` saying which, and
`next_cursor`: a cursor sealed with the deployment's secret (usage_pricing.core.cursors), bound to
the
team, the app, the query's window and the proposed pricing, that holds the window and the
position of the last task read. Sent back as `cursor` with the same query and body, it prices the
older tasks that come next; each answer's figures are its own tasks' (a client adds them up).
Every request prices at least one task, so a walk always moves on. A cursor whose window is not
its query's, or whose position lies outside it, is a 400 naming `cursor`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from usage_pricing.core.cursors import CursorSigner, check_window, cursor_outside
from usage_pricing.core.deadline import BudgetPolicy, WorkBudget
from usage_pricing.core.errors import (
    FieldIssue,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    join_issues,
)
from usage_pricing.core.fees import ADJUSTMENT, FEE_GROUPS, FEES, declare_fields
from usage_pricing.core.money import to_dollars
from usage_pricing.core.scopes import Caller
from usage_pricing.core.utc import sortable, utc_iso
from usage_pricing.core.views import FigureError, Figures, absent
from usage_pricing.core.windows import Span, resolve_span
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import LedgerRepository, RecordReads
from usage_pricing.pricing.evaluator import PricingEvaluator
from usage_pricing.pricing.model import AppPricing, validate_pricing
from usage_pricing.pricing.repository import PricingRepository

if TYPE_CHECKING:  # the pricing function's cold start loads only what its routes declare
    from usage_pricing.pricing.cel import CelEngine

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000
DEFAULT_RANGE = "7d"
LARGEST = 20
ERROR_EXAMPLES = 10
NOT_REPRODUCIBLE = "billed before records kept their inputs: it cannot be priced again"
# The pricing function's timeout is 29 s (template.yaml). The margin covers what may run after
# the last check: one task priced (bounded by the pricing work budget), one Query page of
# PAGE_SIZE records being read and decoded, and the answer's shaping and way out.
TIMEOUT_MS = 29_000
MARGIN_MS = 4_000
MAX_ITEMS = 12_000  # a full `limit` of 10,000 and 2,000 refunded records (left out) besides
MAX_QUERIES = 60
PAGE_SIZE = 250
CURSOR_PURPOSE = "backtest"
TruncatedReason = Literal["limit", "deadline", "read_budget"]


class BacktestRequest(BaseModel):
    """The body: the pricing to try, or nothing for the app's draft."""

    model_config = ConfigDict(extra="forbid")

    pricing: AppPricing | None = Field(
        default=None, description="The proposed pricing; absent: the app's draft."
    )


class Money(BaseModel):
    """A money figure as every answer shows one (docs/money.md): microcents and the dollars string
    beside them; both null when the sum leaves int64 (named in `overflow`)."""

    value: int | None = Field(description="Microcents.")
    dollars: str | None = Field(description="The value in dollars, for people.")

    @classmethod
    def of(cls, value: int | None) -> Money:
        return cls(value=value, dollars=None if value is None else to_dollars(value))


class Charged(BaseModel):
    charged: Money = Field(description="The sum over the tasks.")


class FeeComparison(BaseModel):
    current: Money
    proposed: Money


class PerFee(BaseModel):
    """The charged share of each fee, and the adjustment (charged minus the fees' shares, such as
    a minimum charge in total_expression): each side adds up to its charged."""

    declare_fields(vars(), FeeComparison, attribute=lambda fee: fee.name)
    adjustment: FeeComparison


class TaskDifference(BaseModel):
    task_id: str
    completed_at: str
    current: Money = Field(description="What the task was charged.")
    proposed: Money = Field(description="What the proposed pricing charges it.")


class ErrorExample(BaseModel):
    task_id: str
    completed_at: str
    errors: dict[str, str] = Field(description="Message by component (resource_fee, …, total).")


class BacktestErrors(BaseModel):
    count: int = Field(description="Tasks the proposed pricing prices with a formula error.")
    examples: list[ErrorExample] = Field(description=f"Up to {ERROR_EXAMPLES}, distinct errors.")


class Backtest(BaseModel):
    tasks: int = Field(description="Tasks priced again (refunded tasks are left out).")
    current: Charged
    proposed: Charged
    difference: Money = Field(description="proposed − current charged.")
    difference_percent: float | None = Field(
        default=None, exclude_if=absent, description="Omitted when current is 0."
    )
    per_fee: PerFee
    errors: BacktestErrors
    examples: list[TaskDifference] = Field(
        description=f"The {LARGEST} largest differences, largest first."
    )
    truncated: bool = Field(
        description="The window holds more tasks than this answer priced (see truncated_reason); "
        "next_cursor continues with them."
    )
    truncated_reason: TruncatedReason | None = Field(
        default=None,
        exclude_if=absent,
        description="Why the answer stopped, when truncated: `limit` (it priced limit tasks), "
        "`deadline` (the request's time ran out) or `read_budget` (it read the records one "
        "request may read). Absent when not truncated.",
    )
    next_cursor: str | None = Field(
        default=None,
        exclude_if=absent,
        description="When truncated: send it as the `cursor` query parameter with the same "
        "window, app and body to price the older tasks that come next. Each answer's figures "
        "cover its own tasks; add the answers up. Absent when not truncated.",
    )
    figure_errors: list[FigureError] | None = Field(
        default=None,
        exclude_if=absent,
        description="Figures whose sum leaves int64 (reported as null), each {field, message} "
        "as in the spend answers' `errors` (the name `errors` is the formula-error tally here); "
        "absent when none do.",
    )


# ---- the window ----------------------------------------------------------------------------


def cursor_binding(
    team_id: str, app: str, window: tuple[str | None, ...], proposed: AppPricing
) -> tuple[bytes, ...]:
    """What a backtest cursor is bound to: the team, the app, the query's window parameters
    (range, start, end, tz, as sent) and the proposed pricing (a walk adds up one proposal)."""
    import hashlib  # noqa: PLC0415 — on a request only

    return (
        team_id.encode(),
        app.encode(),
        "\n".join(str(part) for part in window).encode(),
        hashlib.sha256(proposed.model_dump_json().encode()).digest(),
    )


def _position(content: dict[str, Any], span: Span, now: datetime) -> tuple[datetime, datetime, str]:
    """A backtest cursor's window and position, if they are its own query's, else a 400."""
    first, last = check_window(content.get("l"), content.get("h"), span, now)
    before = content.get("b")
    # The reads run over index keys one second wider than the window (storage.ledger): the
    # position lies between those bounds.
    lowest, highest = sortable(first - timedelta(seconds=2)), sortable(last + timedelta(seconds=2))
    if not (isinstance(before, str) and lowest <= before <= highest):
        raise cursor_outside("its position is not inside its window")
    return first, last, before


# ---- the run ----------------------------------------------------------------------------------


class _Tally:
    """Current and proposed sums, in all and per fee group. A plain slotted class, not a
    dataclass: its generated methods would be exec'd at every cold start."""

    __slots__ = ("current", "fees", "proposed")

    def __init__(
        self, current: int = 0, proposed: int = 0, fees: dict[str, list[int]] | None = None
    ) -> None:
        self.current = current
        self.proposed = proposed
        self.fees = fees if fees is not None else {g: [0, 0] for g in FEE_GROUPS}

    def add(self, current: dict[str, int], proposed: dict[str, int]) -> None:
        for group in FEE_GROUPS:
            pair = self.fees[group]
            pair[0] += current[group]
            pair[1] += proposed[group]


class BacktestService:
    def __init__(
        self,
        ledger: LedgerRepository,
        pricing: PricingRepository,
        evaluator: PricingEvaluator,
        checker: CelEngine,
        *,
        signer: CursorSigner,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.pricing = pricing
        self.evaluator = evaluator
        self.checker = checker
        self.signer = signer
        self.clock = clock
        self.budget = BudgetPolicy(
            margin_ms=MARGIN_MS,
            max_items=MAX_ITEMS,
            max_queries=MAX_QUERIES,
            fallback_ms=TIMEOUT_MS,
        )
        self.last_reads = RecordReads()  # of the latest run, for the benchmark

    def run(
        self,
        caller: Caller,
        namespace: str,
        app: str,
        request: BacktestRequest | None = None,
        *,
        range_name: str | None = None,
        start: str | None = None,
        end: str | None = None,
        tz_name: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        context: Any = None,
    ) -> Backtest:
        """The backtest, within the budget of the request `context` (the Lambda context) is
        running."""
        if caller.team_id != namespace:
            raise ForbiddenError(
                f"team {caller.team_id} cannot backtest apps in namespace {namespace}"
            )
        self.signer.require()  # fail closed: no backtest without the secret its cursor needs
        budget = self.budget.start(context)
        if not 1 <= limit <= MAX_LIMIT:
            message = f"must be 1 to {MAX_LIMIT}"
            raise InvalidRequestError(f"limit: {message}", errors=[FieldIssue("limit", message)])
        now = self.clock()
        span = resolve_span(
            range_name=range_name,
            start=start,
            end=end,
            tz_name=tz_name,
            now=now,
            default_range=DEFAULT_RANGE,
        )
        proposed = self._proposed(app, request)
        binding = cursor_binding(caller.team_id, app, (range_name, start, end, tz_name), proposed)
        first, last, before = span.start, span.end, None
        if cursor is not None:
            first, last, before = _position(
                self.signer.open(CURSOR_PURPOSE, binding, cursor), span, now
            )
        self.last_reads = RecordReads()
        records = self.ledger.keyed_records(
            caller.team_id,
            first,
            last,
            app=app,
            newest_first=True,
            stats=self.last_reads,
            before=before,
            budget=budget,
            page_size=PAGE_SIZE,
        )
        answer, position = self._compare(proposed, records, limit, budget)
        if answer.truncated:
            # Below the last record read; if none was (only when the first Query's page held
            # nothing inside the window), below where this request began.
            resume = position or before or sortable(last + timedelta(seconds=1)) + "~"
            answer.next_cursor = self.signer.seal(
                CURSOR_PURPOSE,
                binding,
                {"l": sortable(first), "h": sortable(last), "b": resume},
            )
        return answer

    def _proposed(self, app: str, request: BacktestRequest | None) -> AppPricing:
        if request is not None and request.pricing is not None:
            pricing = request.pricing
            issues = [
                FieldIssue(f"pricing.{issue.field}", issue.message)
                for issue in validate_pricing(pricing, self.checker)
                if issue.field != "description"
            ]
            if issues:
                raise InvalidRequestError(
                    "a formula does not compile: " + join_issues(issues),
                    errors=issues,
                )
            return pricing
        draft = self.pricing.draft(app)
        if draft is None:
            raise NotFoundError(f"{app} has no draft pricing to backtest; send one as pricing")
        return draft.pricing

    def _compare(
        self,
        proposed: AppPricing,
        records: Iterable[tuple[str, BillingRecord]],
        limit: int,
        budget: WorkBudget,
    ) -> tuple[Backtest, str | None]:
        """The answer for `records` (newest first, each with its index key), and the key of the
        last record it read (the continuation's position)."""
        import heapq  # noqa: PLC0415 — on a request only, as is re-pricing

        from usage_pricing.ledger.charges import NotReproducibleError, reprice  # noqa: PLC0415

        tally = _Tally()
        tasks = errors = 0
        examples: list[ErrorExample] = []
        seen_errors: set[tuple[str, str]] = set()
        differences: list[tuple[int, str, str, int, int]] = []  # |Δ|, task, at, current, new
        reason: TruncatedReason | None = None
        position: str | None = None
        for key, record in records:
            if record.refunded:  # left out, but read: the walk moves past it
                position = key
                continue
            if tasks + errors >= limit:
                reason = "limit"
                break
            # Between tasks: the first is always priced, so that every request moves on.
            if tasks + errors and not budget.allows(read=False):
                reason = "deadline"
                break
            position = key
            completed_at = utc_iso(record.completed_at)
            try:
                charge = reprice(record, proposed, self.evaluator, self.evaluator.defaults)
            except NotReproducibleError:
                errors += 1
                self._example(examples, seen_errors, record, {"priced_from": NOT_REPRODUCIBLE})
                continue
            tasks += 1
            tally.current += record.charged
            tally.proposed += charge.charged
            tally.add(record.shares(), charge.shares())
            if charge.errors:
                errors += 1
                self._example(examples, seen_errors, record, charge.errors)
            delta = charge.charged - record.charged
            if delta:
                differences.append(
                    (abs(delta), record.task_id, completed_at, record.charged, charge.charged)
                )
        else:
            reason = budget.stopped  # the reads ended: at the window's end, or for the budget
        figures = Figures("the sum lies outside int64")
        difference = tally.proposed - tally.current
        percent = None
        if tally.current:
            percent = round(difference * 100 / tally.current, 2)
        per_fee: dict[str, Any] = {
            group: FeeComparison(
                current=Money.of(figures.check(pair[0], f"per_fee.{group}.current")),
                proposed=Money.of(figures.check(pair[1], f"per_fee.{group}.proposed")),
            )
            for group, pair in tally.fees.items()
        }
        return Backtest(
            tasks=tasks,
            current=Charged(charged=Money.of(figures.check(tally.current, "current.charged"))),
            proposed=Charged(charged=Money.of(figures.check(tally.proposed, "proposed.charged"))),
            difference=Money.of(figures.check(difference, "difference")),
            difference_percent=percent,
            per_fee=PerFee(
                **{fee.name: per_fee[fee.name] for fee in FEES}, adjustment=per_fee[ADJUSTMENT]
            ),
            errors=BacktestErrors(count=errors, examples=examples),
            examples=[
                TaskDifference(
                    task_id=task,
                    completed_at=at,
                    current=Money.of(current),
                    proposed=Money.of(new),
                )
                for _, task, at, current, new in heapq.nsmallest(
                    LARGEST, differences, key=lambda e: (-e[0], e[1])
                )
            ],
            truncated=reason is not None,
            truncated_reason=reason,
            figure_errors=figures.result(),
        ), position

    @staticmethod
    def _example(
        examples: list[ErrorExample],
        seen: set[tuple[str, str]],
        record: BillingRecord,
        errors: dict[str, str],
    ) -> None:
        """Keep up to ERROR_EXAMPLES examples, each showing an error not shown before."""
        if len(examples) >= ERROR_EXAMPLES:
            return
        new = {(name, message) for name, message in errors.items()} - seen
        if not new:
            return
        seen.update(new)
        examples.append(
            ErrorExample(
                task_id=record.task_id,
                completed_at=utc_iso(record.completed_at),
                errors=dict(errors),
            )
        )


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Backtest",
    "BacktestRequest",
    "BacktestService",
]
