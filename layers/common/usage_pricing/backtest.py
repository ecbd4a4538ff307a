"""The backtest (SPEC §7): a proposed pricing re-prices the team's own billed tasks of an app.

POST /apps/{namespace}/{name}/pricing/backtest, for the namespace's own team (another namespace
is a 403). The tasks are the team's records of the app completed in the window (default the last
7 days), newest first, at most `limit` (default 1,000, at most 10,000) read through the
by_team_app_time index; `truncated` says whether the window holds more. Each is priced again from
what its record keeps (usage_pricing.charges) with the proposed pricing (default: the draft) and
this deployment's platform defaults, as billing would price it today; its current figures are
what it was charged. Failed and cancelled tasks stay 0 (discounted in full), refunded tasks are
left out, tasks that need review count with what they were charged. Nothing is written.

Figures are integer microcents. A sum that leaves int64 is reported as null and named in
`overflow` (absent otherwise), never as a wrong number."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import FieldIssue, ForbiddenError, InvalidRequestError, NotFoundError
from .fees import ADJUSTMENT, FEE_GROUPS, FEES, declare_fields
from .money import INT64_MAX, to_dollars
from .pricing import AppPricing, PricingEvaluator, validate_pricing
from .records import BillingRecord, utc_iso
from .scopes import Caller
from .storage.ledger import LedgerRepository, RecordReads
from .storage.pricing import PricingRepository
from .windows import resolve_span

if TYPE_CHECKING:  # the pricing function's cold start loads only what its routes declare
    from .cel import CelEngine

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000
DEFAULT_RANGE = "7d"
LARGEST = 20
ERROR_EXAMPLES = 10
INT64_MIN = -INT64_MAX - 1
NOT_REPRODUCIBLE = "billed before records kept their inputs: it cannot be priced again"


class BacktestRequest(BaseModel):
    """The body: the pricing to try, or nothing for the app's draft."""

    model_config = ConfigDict(extra="forbid")

    pricing: AppPricing | None = Field(
        default=None, description="The proposed pricing; absent: the app's draft."
    )


class Money(BaseModel):
    """A money figure as every answer shows one (SPEC §3): microcents and the dollars string
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


def _absent(value: object) -> bool:
    return value is None


class Backtest(BaseModel):
    tasks: int = Field(description="Tasks priced again (refunded tasks are left out).")
    current: Charged
    proposed: Charged
    difference: Money = Field(description="proposed − current charged.")
    difference_percent: float | None = Field(
        default=None, exclude_if=_absent, description="Omitted when current is 0."
    )
    per_fee: PerFee
    errors: BacktestErrors
    examples: list[TaskDifference] = Field(
        description=f"The {LARGEST} largest differences, largest first."
    )
    truncated: bool = Field(description="The window holds more tasks than limit.")
    overflow: list[str] | None = Field(
        default=None,
        exclude_if=_absent,
        description="Figures whose sum leaves int64 (reported as null); absent when none do.",
    )


# ---- the window ----------------------------------------------------------------------------


def resolve_window(
    *,
    range_name: str | None,
    start: str | None,
    end: str | None,
    tz_name: str | None,
    now: datetime,
    default_range: str = DEFAULT_RANGE,
) -> tuple[datetime, datetime]:
    """[start, end) in UTC per SPEC §7's time windows (usage_pricing.windows, as every window
    route reads them): `range` back from now, or `start`/`end`."""
    span = resolve_span(
        range_name=range_name,
        start=start,
        end=end,
        tz_name=tz_name,
        now=now,
        default_range=default_range,
    )
    return span.start, span.end


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


def _int64(value: int, name: str, overflow: list[str]) -> int | None:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    overflow.append(name)
    return None


class BacktestService:
    def __init__(
        self,
        ledger: LedgerRepository,
        pricing: PricingRepository,
        evaluator: PricingEvaluator,
        checker: CelEngine,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.pricing = pricing
        self.evaluator = evaluator
        self.checker = checker
        self.clock = clock
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
    ) -> Backtest:
        if caller.team_id != namespace:
            raise ForbiddenError(
                f"team {caller.team_id} cannot backtest apps in namespace {namespace}"
            )
        if not 1 <= limit <= MAX_LIMIT:
            message = f"must be 1 to {MAX_LIMIT}"
            raise InvalidRequestError(f"limit: {message}", errors=[FieldIssue("limit", message)])
        first, last = resolve_window(
            range_name=range_name, start=start, end=end, tz_name=tz_name, now=self.clock()
        )
        proposed = self._proposed(app, request)
        self.last_reads = RecordReads()
        records = self.ledger.records(
            caller.team_id, first, last, app=app, newest_first=True, stats=self.last_reads
        )
        return self._compare(proposed, (r for r in records if not r.refunded), limit)

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
                    "a formula does not compile: "
                    + "; ".join(f"{i.field}: {i.message}" for i in issues),
                    errors=issues,
                )
            return pricing
        draft = self.pricing.draft(app)
        if draft is None:
            raise NotFoundError(f"{app} has no draft pricing to backtest; send one as pricing")
        return draft.pricing

    def _compare(
        self, proposed: AppPricing, records: Iterable[BillingRecord], limit: int
    ) -> Backtest:
        import heapq  # noqa: PLC0415 — on a request only, as is re-pricing

        from .charges import NotReproducibleError, record_shares, reprice  # noqa: PLC0415

        tally = _Tally()
        tasks = errors = 0
        examples: list[ErrorExample] = []
        seen_errors: set[tuple[str, str]] = set()
        differences: list[tuple[int, str, str, int, int]] = []  # |Δ|, task, at, current, new
        truncated = False
        for record in records:
            if tasks + errors >= limit:
                truncated = True
                break
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
            tally.add(record_shares(record), charge.shares())
            if charge.errors:
                errors += 1
                self._example(examples, seen_errors, record, charge.errors)
            delta = charge.charged - record.charged
            if delta:
                differences.append(
                    (abs(delta), record.task_id, completed_at, record.charged, charge.charged)
                )
        overflow: list[str] = []
        difference = tally.proposed - tally.current
        percent = None
        if tally.current:
            percent = round(difference * 100 / tally.current, 2)
        per_fee: dict[str, Any] = {
            group: FeeComparison(
                current=Money.of(_int64(pair[0], f"per_fee.{group}.current", overflow)),
                proposed=Money.of(_int64(pair[1], f"per_fee.{group}.proposed", overflow)),
            )
            for group, pair in tally.fees.items()
        }
        return Backtest(
            tasks=tasks,
            current=Charged(charged=Money.of(_int64(tally.current, "current.charged", overflow))),
            proposed=Charged(
                charged=Money.of(_int64(tally.proposed, "proposed.charged", overflow))
            ),
            difference=Money.of(_int64(difference, "difference", overflow)),
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
            truncated=truncated,
            overflow=overflow or None,
        )

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
    "resolve_window",
]
