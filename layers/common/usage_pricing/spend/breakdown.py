"""Spend breakdown (docs/api.md) from the aggregates alone (the usage summary is
usage_pricing.spend.summary).

A breakdown reads, for every bucket it shows, the aggregate items that hold exactly that bucket:
the coarsest granularity (UTC day, hour, quarter-hour, minute) its boundaries are aligned to.
Local days whose midnight is not a UTC midnight take a shortcut for the app grouping: each is
a UTC day's totals plus or minus the hour and quarter slots its midnight cuts off, read from the
same day items (storage.aggregates), so a 90-day breakdown in Berlin reads what one in UTC does.
The fee and tier groupings and the summary read hour or quarter-hour items for such days.

Every sum is exact (Python integers). A figure outside int64 is answered as null, with an entry
in `errors` naming it (the same {field, message} shape as a problem's errors)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
)

from usage_pricing.core.money import to_dollars
from usage_pricing.core.views import FigureError, Figures, absent
from usage_pricing.core.windows import (
    BucketGrid,
    BucketSize,
    plan_buckets,
    utc_key,
)
from usage_pricing.spend.exports import CsvExport
from usage_pricing.spend.query import (
    OVERFLOW,
    GroupBy,
    SpendQuery,
    SpendReader,
    source_granularity,
)
from usage_pricing.storage.aggregates import (
    CALLS,
    COST,
    FEE_GROUPS,
    LAYOUT_CALLS,
    QUARTERS_PER_DAY,
    REFUNDED_COST,
    SLOT_FIGURES,
    TIERS,
    UNATTRIBUTED,
    Granularity,
    bucket_key,
    fee_calls,
    fee_share,
    hour_slot,
    quarter_slot,
    slot_counter,
    tier_calls,
    tier_cost,
)

TOP_APPS = 20


# NamedTuples and a plain slotted class, not dataclasses: a dataclass's generated methods are
# exec'd at import, a cost of every cold start.


# ---- response models --------------------------------------------------------------------------


# Every money figure has its dollars string beside it (docs/money.md). The breakdown's figures
# are bare microcents in their historical places (`cost`, `total_cost`, `per_app`…), so each has
# a `…_dollars` sibling computed from it here, once: null where the figure is null (int64).
def _dollars(value: int | None) -> str | None:
    return None if value is None else to_dollars(value)


def _dollars_of(values: dict[str, int | None] | None) -> dict[str, str | None] | None:
    return None if values is None else {name: _dollars(v) for name, v in values.items()}


class TimeBucket(BaseModel):
    date: str = Field(
        description="Bucket start: the local date for 1d buckets; else an RFC 3339 timestamp "
        "(UTC with Z, or local time with its offset when tz is not UTC)."
    )
    per_app: dict[str, int | None] = Field(description="Microcents per app (namespace/name).")
    per_group: dict[str, int | None] | None = Field(
        default=None,
        exclude_if=absent,
        description="With group_by fee or tier: microcents per group; they add up to the bucket.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def per_app_dollars(self) -> dict[str, str | None]:
        """per_app in dollars."""
        return {name: _dollars(v) for name, v in self.per_app.items()}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def per_group_dollars(self) -> dict[str, str | None] | None:
        """per_group in dollars (with group_by fee or tier)."""
        return _dollars_of(self.per_group)

    @model_serializer(mode="wrap")
    def _without_absent_groups(self, handler: SerializerFunctionWrapHandler) -> Any:
        # per_group_dollars is left out while per_group is (exclude_if cannot reach a computed
        # field).
        data = handler(self)
        if isinstance(data, dict) and data.get("per_group_dollars", 0) is None:
            del data["per_group_dollars"]
        return data


class AppSpend(BaseModel):
    app_endpoint: str
    call_count: int | None
    cost: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_dollars(self) -> str | None:
        return _dollars(self.cost)


class GroupSpend(BaseModel):
    group: str
    call_count: int | None
    cost: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_dollars(self) -> str | None:
        return _dollars(self.cost)


class Breakdown(BaseModel):
    timeseries: list[TimeBucket]
    per_model: list[AppSpend] = Field(description="Top apps by cost (historical field name).")
    models: list[str] = Field(description="Every app with spend or calls, by cost.")
    total_cost: int | None
    refunded_cost: int | None = Field(
        description="Microcents refunded for tasks that completed in the window (not in total)."
    )
    period_start: str
    period_end: str
    bucket: BucketSize
    tz: str
    trend_percent: float | None = Field(
        default=None,
        exclude_if=absent,
        description="Against the period of equal length before; omitted when that was 0.",
    )
    per_group: list[GroupSpend] | None = Field(default=None, exclude_if=absent)
    errors: list[FigureError] | None = Field(default=None, exclude_if=absent)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_cost_dollars(self) -> str | None:
        return _dollars(self.total_cost)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def refunded_cost_dollars(self) -> str | None:
        return _dollars(self.refunded_cost)


# ---- planning the reads -----------------------------------------------------------------------


# A piece of a UTC day: the counters to add (sign, slot) where slot "" is the day's totals.
Terms = tuple[tuple[int, str], ...]


def _direct(first: int, last: int) -> list[tuple[int, str]]:
    """Quarters first..last-1 of a day as whole-hour and quarter slots."""
    terms: list[tuple[int, str]] = []
    quarter = first
    while quarter < last:
        if quarter % 4 == 0 and quarter + 4 <= last:
            terms.append((1, hour_slot(quarter // 4)))
            quarter += 4
        else:
            terms.append((1, quarter_slot(quarter)))
            quarter += 1
    return terms


def slot_terms(first: int, last: int) -> Terms:
    """Quarters first..last-1 of a UTC day, in the fewest counters: the slots themselves, or the
    day's totals minus the slots outside."""
    if first == 0 and last == QUARTERS_PER_DAY:
        return ((1, ""),)
    direct = _direct(first, last)
    complement = [(1, "")] + [
        (-1, slot) for _, slot in _direct(0, first) + _direct(last, QUARTERS_PER_DAY)
    ]
    return tuple(direct if len(direct) <= len(complement) else complement)


class _Tally:
    """Sums per bucket (index 0..n-1) and app or group, and for the period before."""

    __slots__ = ("buckets", "calls", "cost", "group_calls", "group_cost", "previous", "refunded")

    def __init__(self, buckets: int, *, refunded: int = 0, previous: int = 0) -> None:
        self.buckets = buckets
        self.cost: list[dict[str, int]] = [{} for _ in range(buckets)]
        self.calls: list[dict[str, int]] = [{} for _ in range(buckets)]
        self.group_cost: list[dict[str, int]] = [{} for _ in range(buckets)]
        self.group_calls: list[dict[str, int]] = [{} for _ in range(buckets)]
        self.refunded = refunded
        self.previous = previous

    def add(self, index: int, app: str, cost: int, calls: int, refunded: int) -> None:
        if index < 0:
            self.previous += cost
            return
        self.refunded += refunded
        if cost or calls:
            bucket = self.cost[index]
            bucket[app] = bucket.get(app, 0) + cost
            counts = self.calls[index]
            counts[app] = counts.get(app, 0) + calls

    def add_group(self, index: int, group: str, cost: int, calls: int) -> None:
        if index < 0 or not (cost or calls):
            return
        bucket = self.group_cost[index]
        bucket[group] = bucket.get(group, 0) + cost
        counts = self.group_calls[index]
        counts[group] = counts.get(group, 0) + calls


def _over_buckets(
    costs: Sequence[dict[str, int]], calls: Sequence[dict[str, int]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per-bucket cost and calls by key (app or fee group), added up over the buckets."""
    cost_sums: dict[str, int] = {}
    call_sums: dict[str, int] = {}
    for bucket_costs, bucket_calls in zip(costs, calls, strict=True):
        for key, cost in bucket_costs.items():
            cost_sums[key] = cost_sums.get(key, 0) + cost
            call_sums[key] = call_sums.get(key, 0) + bucket_calls[key]
    return cost_sums, call_sums


class _LegacySlotsError(Exception):
    """A day item written before the slots existed: its local days need finer items."""


def group_figures(group_by: GroupBy, counters: dict[str, int]) -> list[tuple[str, int, int]]:
    """(group, cost, calls) of one item; the groups add up to the item's cost."""
    cost, calls = counters.get(COST, 0), counters.get(CALLS, 0)
    out = []
    if group_by == "fee":
        attributed = 0
        for group in FEE_GROUPS:
            share = counters.get(fee_share(group), 0)
            attributed += share
            out.append((group, share, counters.get(fee_calls(group), 0)))
        out.append((UNATTRIBUTED, cost - attributed, calls - counters.get(LAYOUT_CALLS, 0)))
    else:
        attributed = attributed_calls = 0
        for tier in TIERS:
            tier_value, tier_count = (
                counters.get(tier_cost(tier), 0),
                counters.get(tier_calls(tier), 0),
            )
            attributed += tier_value
            attributed_calls += tier_count
            out.append((tier, tier_value, tier_count))
        out.append((UNATTRIBUTED, cost - attributed, calls - attributed_calls))
    return out


def group_counters(group_by: GroupBy) -> list[str]:
    if group_by == "fee":
        return [
            *(fee_share(g) for g in FEE_GROUPS),
            *(fee_calls(g) for g in FEE_GROUPS),
            LAYOUT_CALLS,
        ]
    if group_by == "tier":
        return [*(tier_cost(t) for t in TIERS), *(tier_calls(t) for t in TIERS)]
    return []


GROUP_ORDER = {name: index for index, name in enumerate((*FEE_GROUPS, *TIERS, UNATTRIBUTED))}


# One row per bucket and group with a non-zero cost or count (BreakdownAnswer.csv_rows).
BREAKDOWN_CSV = CsvExport(
    "breakdown.csv", ("bucket_start", "group", "cost_microcents", "cost_usd", "call_count")
)


class BreakdownAnswer(NamedTuple):
    """A breakdown with what its CSV needs too (calls per bucket and app or group)."""

    model: Breakdown
    grid: BucketGrid
    tally: _Tally
    group_by: GroupBy
    errors: list[FigureError]

    @property
    def export(self) -> CsvExport:
        return BREAKDOWN_CSV

    def csv_rows(self) -> Iterable[tuple[str, str, int, str, int]]:
        """BREAKDOWN_CSV's rows: one per bucket and group with a non-zero cost or count."""
        by_app = self.group_by == "app"
        for index, label in enumerate(self.grid.labels):
            costs = self.tally.cost[index] if by_app else self.tally.group_cost[index]
            calls = self.tally.calls[index] if by_app else self.tally.group_calls[index]
            order = sorted(costs) if by_app else sorted(costs, key=lambda g: GROUP_ORDER.get(g, 99))
            for group in order:
                cost = costs[group]
                if cost or calls.get(group, 0):
                    yield label, group, cost, to_dollars(cost), calls.get(group, 0)


class SpendAnalytics(SpendReader):
    # ---- breakdown ----------------------------------------------------------------------------

    def plan(self, query: SpendQuery, default_range: str = "30d") -> BucketGrid:
        return plan_buckets(self.span(query, default_range), query.bucket, self.clock())

    def breakdown(self, team_id: str, query: SpendQuery | None = None) -> BreakdownAnswer:
        query = query or SpendQuery()
        grid = self.plan(query)
        points = [grid.previous_start, *grid.boundaries]
        source = source_granularity(points)
        apps = query.apps or None
        tally = None
        if query.group_by == "app" and grid.bucket == "1d" and source is not Granularity.DAY:
            try:
                tally = self._from_day_slots(team_id, grid, apps)
            except _LegacySlotsError:
                tally = None
        if tally is None:
            tally = self._from_items(team_id, grid, source, query.group_by, apps)
        return self._answer(grid, tally, query.group_by)

    def _from_items(
        self,
        team_id: str,
        grid: BucketGrid,
        source: Granularity,
        group_by: GroupBy,
        apps: Sequence[str] | None,
    ) -> _Tally:
        """Sum the items of one granularity, each falling wholly in one bucket."""
        starts = [bucket_key(grid.previous_start), *(bucket_key(b) for b in grid.boundaries)]
        last_item = grid.end - source.step
        counters = [COST, CALLS, REFUNDED_COST, *group_counters(group_by)]
        tally = _Tally(len(grid))
        cells = self.aggregates.read(
            team_id, source, starts[0], bucket_key(last_item), counters=counters, apps=apps
        )
        grouped = group_by != "app"
        buckets = len(grid)
        for cell in cells:
            index = bisect_right(starts, cell.bucket) - 2  # -1: the period before
            if index < -1 or index >= buckets:
                continue
            c = cell.counters
            tally.add(index, cell.app, c.get(COST, 0), c.get(CALLS, 0), c.get(REFUNDED_COST, 0))
            if grouped:
                for group, cost, calls in group_figures(group_by, c):
                    tally.add_group(index, group, cost, calls)
        return tally

    def _from_day_slots(self, team_id: str, grid: BucketGrid, apps: Sequence[str] | None) -> _Tally:
        """Local days from UTC day items: each piece of a UTC day that a local day (or the
        period before) covers is the day's totals, or its slots, or totals minus slots."""
        segments = [(grid.previous_start, grid.start, -1)]
        segments += [(grid.boundaries[i], grid.boundaries[i + 1], i) for i in range(len(grid))]
        day = Granularity.DAY.floor(grid.previous_start)
        plans: dict[str, list[tuple[int, Terms]]] = {}
        names: dict[str, None] = dict.fromkeys((COST, CALLS, REFUNDED_COST, LAYOUT_CALLS))
        quarter = timedelta(minutes=15)
        while day < grid.end:
            next_day = day + timedelta(days=1)
            pieces = []
            for start, end, index in segments:
                first, last = max(start, day), min(end, next_day)
                if first >= last:
                    continue
                terms = slot_terms((first - day) // quarter, (last - day) // quarter)
                pieces.append((index, terms))
                for _, slot in terms:
                    if slot:
                        for figure in SLOT_FIGURES:
                            names[slot_counter(slot, figure)] = None
            plans[bucket_key(day)] = pieces
            day = next_day
        first_key, last_key = (
            bucket_key(Granularity.DAY.floor(grid.previous_start)),
            bucket_key(day - timedelta(days=1)),
        )
        tally = _Tally(len(grid))
        for cell in self.aggregates.read(
            team_id, Granularity.DAY, first_key, last_key, counters=list(names), apps=apps
        ):
            c = cell.counters
            pieces = plans.get(cell.bucket, [])
            needs_slots = any(slot for _, terms in pieces for _, slot in terms)
            if needs_slots and c.get(CALLS, 0) != c.get(LAYOUT_CALLS, 0):
                raise _LegacySlotsError(cell.bucket)
            for index, terms in pieces:
                cost = calls = refunded = 0
                for sign, slot in terms:
                    if slot:
                        slot_cost, slot_calls, slot_refunded = (
                            c.get(slot_counter(slot, figure), 0) for figure in SLOT_FIGURES
                        )
                        cost += sign * slot_cost
                        calls += sign * slot_calls
                        refunded += sign * slot_refunded
                    else:
                        cost += sign * c.get(COST, 0)
                        calls += sign * c.get(CALLS, 0)
                        refunded += sign * c.get(REFUNDED_COST, 0)
                tally.add(index, cell.app, cost, calls, refunded)
        return tally

    def _answer(self, grid: BucketGrid, tally: _Tally, group_by: GroupBy) -> BreakdownAnswer:
        figures = Figures(OVERFLOW)
        costs, calls = _over_buckets(tally.cost, tally.calls)
        ranked = sorted(
            (app for app in costs if calls[app] or costs[app]), key=lambda app: (-costs[app], app)
        )
        total = sum(costs.values())
        timeseries = []
        for index, label in enumerate(grid.labels):
            per_app = {
                app: figures.check(cost, f"timeseries.{index}.per_app.{app}")
                for app, cost in sorted(tally.cost[index].items())
            }
            per_group = None
            if group_by != "app":
                per_group = {
                    group: figures.check(
                        tally.group_cost[index][group], f"timeseries.{index}.per_group.{group}"
                    )
                    for group in sorted(
                        tally.group_cost[index], key=lambda g: GROUP_ORDER.get(g, 99)
                    )
                }
            timeseries.append(TimeBucket(date=label, per_app=per_app, per_group=per_group))
        per_group_total = None
        if group_by != "app":
            group_costs, group_calls = _over_buckets(tally.group_cost, tally.group_calls)
            per_group_total = [
                GroupSpend(
                    group=group,
                    call_count=figures.check(
                        group_calls[group], f"per_group.{position}.call_count"
                    ),
                    cost=figures.check(group_costs[group], f"per_group.{position}.cost"),
                )
                for position, group in enumerate(
                    sorted(group_costs, key=lambda g: GROUP_ORDER.get(g, 99))
                )
            ]
        trend = None
        if grid.trend_known and tally.previous != 0:
            trend = round((total - tally.previous) * 100 / tally.previous, 2)
        model = Breakdown(
            timeseries=timeseries,
            per_model=[
                AppSpend(
                    app_endpoint=app,
                    call_count=figures.check(calls[app], f"per_model.{position}.call_count"),
                    cost=figures.check(costs[app], f"per_model.{position}.cost"),
                )
                for position, app in enumerate(ranked[:TOP_APPS])
            ],
            models=ranked,
            total_cost=figures.check(total, "total_cost"),
            refunded_cost=figures.check(tally.refunded, "refunded_cost"),
            period_start=utc_key(grid.start),
            period_end=utc_key(grid.period_end),
            bucket=grid.bucket,
            tz=grid.tz_name,
            trend_percent=trend,
            per_group=per_group_total,
            errors=figures.result(),
        )
        return BreakdownAnswer(model, grid, tally, group_by, figures.errors)

    # ---- summary ------------------------------------------------------------------------------


__all__ = [
    "AppSpend",
    "Breakdown",
    "BreakdownAnswer",
    "GroupSpend",
    "SpendAnalytics",
    "TimeBucket",
    "slot_terms",
]
