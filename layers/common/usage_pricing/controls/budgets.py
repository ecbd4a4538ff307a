"""Budgets (docs/spend-controls.md): create or replace, read with the current period's figures,
list, delete. Every change bumps the team's budget-set revision, which every charge's
transaction checks, so no charge commits against a stale view of the budgets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from usage_pricing.controls.keys import counter_key
from usage_pricing.controls.model import (
    BUDGET_ID,
    MAX_APPLICABLE,
    MAX_BUDGETS,
    Amount,
    Budget,
    BudgetList,
    BudgetRequest,
    BudgetView,
)
from usage_pricing.controls.periods import (
    counter_expiry,
    now_minute,
    period_bounds,
    period_key,
)
from usage_pricing.controls.store import ControlsStore, CounterState, Transaction
from usage_pricing.controls.thresholds import crossed
from usage_pricing.core.errors import ConflictError, FieldIssue, InvalidRequestError, NotFoundError
from usage_pricing.core.utc import utc_seconds
from usage_pricing.core.windows import zone

SAVE_ATTEMPTS = 3


def check_budget_id(budget_id: str) -> str:
    if not BUDGET_ID.fullmatch(budget_id):
        raise InvalidRequestError(
            "invalid budget id",
            errors=[FieldIssue("budgetID", "must be 1 to 64 of a-z, 0-9, _ and -")],
        )
    return budget_id


class BudgetService:
    def __init__(
        self,
        store: ControlsStore,
        spend_so_far: Callable[[str, str | None, str, datetime, datetime], int],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.spend_so_far = spend_so_far
        self.clock = clock

    def put(self, team_id: str, budget_id: str, request: BudgetRequest) -> tuple[BudgetView, bool]:
        """Create or replace; True when created."""
        check_budget_id(budget_id)
        for attempt in range(SAVE_ATTEMPTS):
            revision, budgets = self.store.team(team_id)
            existing = next((b for b in budgets if b.budget_id == budget_id), None)
            others = [b for b in budgets if b.budget_id != budget_id]
            if existing is None and len(others) >= MAX_BUDGETS:
                raise ConflictError(
                    f"a team has at most {MAX_BUDGETS} budgets; delete one first",
                    errors=[FieldIssue("budgetID", f"the team already has {MAX_BUDGETS} budgets")],
                )
            _check_applicable(others, request.app)
            now = self.clock()
            start, end = period_bounds(request.period, zone(request.tz), now)
            scope = (request.app, request.period, request.tz)
            rescoped = existing is None or (existing.app, existing.period, existing.tz) != scope
            if rescoped:
                # The seed's read, tried before the budget becomes visible: a period too large
                # to read (a 422) or unreadable now (a 503) refuses the PUT with nothing saved,
                # instead of leaving a budget that never counted the period so far.
                self.spend_so_far(team_id, request.app, request.tz, start, end)
            budget = Budget(
                budget_id=budget_id,
                team_id=team_id,
                app=request.app,
                period=request.period,
                tz=request.tz,
                limit=request.limit,
                thresholds=request.thresholds,
                action=request.action,
                # A new scope's counters must never meet an earlier scope's, even those of a
                # budget deleted and made again under the same id: the generation is a moment.
                generation=_generation(now, existing, rescoped),
                since=period_key(start) if rescoped or existing is None else existing.since,
                created_at=existing.created_at if existing else utc_seconds(now),
                updated_at=utc_seconds(now),
            )
            try:
                self.store.put_budget(budget, revision)
            except Transaction as cancelled:
                if attempt + 1 < SAVE_ATTEMPTS:
                    continue  # another change of the team's budgets came first: read again
                raise ConflictError("the team's budgets changed meanwhile; try again") from (
                    cancelled
                )
            if rescoped or budget.since == period_key(start):
                self._seed(budget, start, end)
            return self._view(budget, now), existing is None
        raise AssertionError("unreachable")  # pragma: no cover

    def _seed(self, budget: Budget, start: datetime, end: datetime) -> None:
        """Add to the counter of the period the budget (or its scope) began in what that period
        spent before the counter counted it, once (the counter's `seeded` mark).

        After the budget is visible to billing (the revision its PUT bumped), charges add to
        the counter. The seed is the period's spend from the aggregates (a consistent read) less
        the counter's spend read just before it: a charge committed before that counter read is
        in both and counted once, a charge committed after it adds to the counter itself. Only
        a charge committed between the two reads is counted twice: an over-count, the
        fail-closed direction. A PUT whose seed failed (storage unavailable) left the counter
        unseeded; the same PUT again, which changes no scope, seeds it then, exactly."""
        key = counter_key(budget.team_id, budget.budget_id, budget.generation, period_key(start))
        item = self.store.get(key)
        if item is not None and item.get("seeded"):
            return
        counted = CounterState.of(item).spent
        so_far = self.spend_so_far(budget.team_id, budget.app, budget.tz, start, end)
        self.store.seed(key, max(0, so_far - counted), counter_expiry(end))

    def get(self, team_id: str, budget_id: str) -> BudgetView:
        check_budget_id(budget_id)
        _, budgets = self.store.team(team_id)
        budget = next((b for b in budgets if b.budget_id == budget_id), None)
        if budget is None:
            raise NotFoundError(f"no budget {budget_id}")
        return self._view(budget, self.clock())

    def list(self, team_id: str) -> BudgetList:
        _, budgets = self.store.team(team_id)
        now = self.clock()
        keys = [self._current(b, now)[2] for b in budgets]
        states = self.store.counters(keys)
        return BudgetList(
            data=[
                self._figures(b, s, now)
                for b, s in sorted(zip(budgets, states, strict=True), key=lambda p: p[0].budget_id)
            ]
        )

    def delete(self, team_id: str, budget_id: str) -> None:
        check_budget_id(budget_id)
        for attempt in range(SAVE_ATTEMPTS):
            revision, budgets = self.store.team(team_id)
            if not any(b.budget_id == budget_id for b in budgets):
                raise NotFoundError(f"no budget {budget_id}")
            try:
                self.store.delete_budget(team_id, budget_id, revision)
                return
            except Transaction as cancelled:
                if attempt + 1 < SAVE_ATTEMPTS:
                    continue
                raise ConflictError("the team's budgets changed meanwhile; try again") from (
                    cancelled
                )

    def _current(self, budget: Budget, now: datetime) -> tuple[datetime, datetime, dict[str, str]]:
        start, end = period_bounds(budget.period, zone(budget.tz), now)
        key = counter_key(budget.team_id, budget.budget_id, budget.generation, period_key(start))
        return start, end, key

    def _view(self, budget: Budget, now: datetime) -> BudgetView:
        [state] = self.store.counters([self._current(budget, now)[2]])
        return self._figures(budget, state, now)

    def _figures(self, budget: Budget, state: CounterState, now: datetime) -> BudgetView:
        start, end, _ = self._current(budget, now)
        held = state.held(now_minute(now))
        return BudgetView(
            budget_id=budget.budget_id,
            app=budget.app,
            period=budget.period,
            tz=budget.tz,
            limit=Amount.of(budget.limit),
            thresholds=budget.thresholds,
            action=budget.action,
            period_start=utc_seconds(start),
            period_end=utc_seconds(end),
            spent=Amount.of(state.spent),
            held=Amount.of(held),
            remaining=Amount.of(budget.limit - state.spent - held),
            crossed=crossed(budget.thresholds, budget.limit, state.spent),
            as_of=utc_seconds(now),
            created_at=budget.created_at,
            updated_at=budget.updated_at,
        )


def _generation(now: datetime, existing: Budget | None, rescoped: bool) -> int:
    if existing is not None and not rescoped:
        return existing.generation
    moment = int(now.timestamp() * 1_000_000)  # µs
    return max(moment, existing.generation + 1) if existing else moment


def _check_applicable(others: list[Budget], app: str | None) -> None:
    """At most MAX_APPLICABLE budgets may apply to any one task (docs/spend-controls.md)."""
    team_wide = sum(1 for b in others if b.app is None)
    per_app: dict[str, int] = {}
    for b in others:
        if b.app is not None:
            per_app[b.app] = per_app.get(b.app, 0) + 1
    if app is None:
        most = team_wide + 1 + max(per_app.values(), default=0)
    else:
        most = team_wide + per_app.get(app, 0) + 1
    if most > MAX_APPLICABLE:
        raise ConflictError(
            f"at most {MAX_APPLICABLE} budgets may apply to one task (the team's and its app's)",
            errors=[
                FieldIssue("app", f"this budget would make {most} budgets apply to some tasks")
            ],
        )
