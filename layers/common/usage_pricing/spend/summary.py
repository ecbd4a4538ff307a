"""The usage summary (docs/api.md, GET /usage/summary): resource-seconds by tier, type and model
over a window, from the aggregates alone. Only variable-sized reads: any granularity aligned to
both ends of the window holds exactly it. Each dimension shows at most MAX_SUMMARY_VALUES values,
the most seconds first, and the rest under `other`: every aggregate item bounds its own values,
but a window sums many items, so the answer is bounded again here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pydantic import BaseModel, Field

from usage_pricing.core.limits import MAX_SUMMARY_VALUES
from usage_pricing.core.views import FigureError, Figures, absent
from usage_pricing.core.windows import plan_period, utc_key
from usage_pricing.spend.exports import CsvExport
from usage_pricing.spend.query import (
    OVERFLOW,
    SpendQuery,
    SpendReader,
    source_granularity,
)
from usage_pricing.storage.aggregates import (
    OTHER,
    USAGE_DIMENSIONS,
    USAGE_TOTAL,
    bucket_key,
    parse_usage_counter,
)


class UsageSummary(BaseModel):
    tier_usage: dict[str, int | None]
    type_usage: dict[str, int | None]
    model_usage: dict[str, int | None]
    total_usage: int | None
    period_start: str
    period_end: str
    tz: str
    errors: list[FigureError] | None = Field(default=None, exclude_if=absent)


class SpendSummary(SpendReader):
    def summary(self, team_id: str, query: SpendQuery | None = None) -> SummaryAnswer:
        query = query or SpendQuery()
        period = plan_period(self.span(query, "30d"), self.clock())
        # Only the window's two ends matter: any granularity aligned to both holds exactly it.
        source = source_granularity([period.start, period.end])
        dimensions: dict[str, dict[str, int]] = {"tier": {}, "type": {}, "model": {}}
        total = 0
        last_item = period.end - source.step
        for cell in self.aggregates.read(
            team_id,
            source,
            bucket_key(period.start),
            bucket_key(last_item),
            apps=query.apps or None,
        ):
            for name, seconds in cell.counters.items():
                if name == USAGE_TOTAL:
                    total += seconds
                    continue
                usage = parse_usage_counter(name)
                if usage is not None:
                    values = dimensions[usage[0]]
                    values[usage[1]] = values.get(usage[1], 0) + seconds
        dimensions = {d: most_seconds(values) for d, values in dimensions.items()}
        figures = Figures(OVERFLOW)
        clean = {
            d: {k: figures.check(v, f"{d}_usage.{k}") for k, v in sorted(values.items()) if v}
            for d, values in dimensions.items()
        }
        model = UsageSummary(
            tier_usage=clean["tier"],
            type_usage=clean["type"],
            model_usage=clean["model"],
            total_usage=figures.check(total, "total_usage"),
            period_start=utc_key(period.start),
            period_end=utc_key(period.period_end),
            tz=period.tz_name,
            errors=figures.result(),
        )
        return SummaryAnswer(model, dimensions, figures.errors)


def most_seconds(values: dict[str, int], keep: int = MAX_SUMMARY_VALUES) -> dict[str, int]:
    """At most `keep` values: those with the most seconds (ties by name) and OTHER holding the
    rest (with whatever OTHER already held), so no second is lost and the answer stays small."""
    if len(values) <= keep:
        return values
    named = {value: seconds for value, seconds in values.items() if value != OTHER}
    ranked = sorted(named.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[: keep - 1])
    kept[OTHER] = values.get(OTHER, 0) + sum(seconds for _, seconds in ranked[keep - 1 :])
    return kept


# One row per tier, type and model with usage (SummaryAnswer.csv_rows).
SUMMARY_CSV = CsvExport("summary.csv", ("dimension", "value", "seconds"))


class SummaryAnswer(NamedTuple):
    model: UsageSummary
    dimensions: dict[str, dict[str, int]]
    errors: list[FigureError]

    @property
    def export(self) -> CsvExport:
        return SUMMARY_CSV

    def csv_rows(self) -> Iterable[tuple[str, str, int]]:
        """SUMMARY_CSV's rows: one per tier, type and model with usage."""
        for dimension in USAGE_DIMENSIONS:
            for value, seconds in sorted(self.dimensions[dimension].items()):
                if seconds:
                    yield dimension, value, seconds


__all__ = ["SpendSummary", "SummaryAnswer", "UsageSummary"]
