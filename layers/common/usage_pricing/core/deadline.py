"""The work one request may do (docs/api.md, "every request is bounded"): a deadline inside its
function's timeout, and a read budget.

A route that reads or prices in proportion to what a team has stored (the task list's `status`
filter, the backtest) asks its `WorkBudget` before each unit of work (a Query page, a task priced)
and, once it says stop, answers with what it has and a continuation, instead of running into the
function's timeout (a 5xx at the gateway, a whole invocation burnt, nothing for the caller).

The deadline is Lambda's own: `context.get_remaining_time_in_millis()` when the request started,
less a safety margin that covers what still runs after the last check (one more unit of work,
shaping the answer, the response's way out). A context that cannot tell (a test's, a direct
call) gets the function's configured timeout (`BudgetPolicy.fallback_ms`, held equal to
template.yaml's by the tests). The clock is injected, so tests drive the deadline without
sleeping: a budget reads its clock exactly once per `expired()` (and per `allows()`), no more.

Plain slotted classes, not dataclasses: a dataclass's generated methods would be exec'd at every
cold start."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

StopReason = Literal["deadline", "read_budget"]


class WorkBudget:
    """One request's deadline (on `clock`, in seconds) and read budget (items and Query calls)."""

    __slots__ = ("_clock", "deadline", "items", "max_items", "max_queries", "queries", "stopped")

    def __init__(
        self,
        seconds: float,
        *,
        max_items: int,
        max_queries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.deadline = clock() + seconds
        self.max_items = max_items
        self.max_queries = max_queries
        self.items = 0  # items read (as DynamoDB counts them: evaluated, before a filter)
        self.queries = 0
        self.stopped: StopReason | None = None  # why the budget last said no

    def expired(self) -> bool:
        """Whether the deadline has passed (one read of the clock)."""
        if self._clock() >= self.deadline:
            self.stopped = "deadline"
            return True
        return False

    def items_left(self) -> int:
        return max(0, self.max_items - self.items)

    def allows(self, *, read: bool = True) -> bool:
        """Whether one more unit of work may start: a Query (`read`, the default: within the read
        budget and the deadline) or a task priced (`read=False`: within the deadline)."""
        if read and (self.queries >= self.max_queries or self.items >= self.max_items):
            self.stopped = "read_budget"
            return False
        return not self.expired()

    def spend(self, *, items: int, queries: int = 1) -> None:
        self.items += items
        self.queries += queries

    def within(self, seconds: float, *, max_items: int, max_queries: int) -> WorkBudget:
        """A budget for part of this request's work (an optional part, as the task list's
        count): it ends `seconds` from now or at this budget's deadline, whichever is first, and
        has a read budget of its own (its reads are not this budget's)."""
        now = self._clock()
        return WorkBudget(
            max(0.0, min(seconds, self.deadline - now)),
            max_items=max_items,
            max_queries=max_queries,
            clock=self._clock,
        )


class BudgetPolicy:
    """How a route budgets its requests: the margin kept before Lambda's deadline, the read
    budget, the function's timeout (for a context that does not tell the remaining time), and the
    clock. Tests change these on the service a handler built (e.g. `tasks.budget.max_items = 7`,
    `backtests.budget.clock = ticking`)."""

    __slots__ = ("clock", "fallback_ms", "margin_ms", "max_items", "max_queries")

    def __init__(
        self,
        *,
        margin_ms: int,
        max_items: int,
        max_queries: int,
        fallback_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.margin_ms = margin_ms
        self.max_items = max_items
        self.max_queries = max_queries
        self.fallback_ms = fallback_ms
        self.clock = clock

    def start(self, context: Any = None) -> WorkBudget:
        """The budget of a request that `context` (the Lambda context, or None) is running."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        remaining_ms = int(remaining()) if callable(remaining) else self.fallback_ms
        return WorkBudget(
            max(0, remaining_ms - self.margin_ms) / 1000,
            max_items=self.max_items,
            max_queries=self.max_queries,
            clock=self.clock,
        )


__all__ = ["BudgetPolicy", "StopReason", "WorkBudget"]
