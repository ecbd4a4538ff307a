"""Query parameters of the spend routes (breakdown, summary, task list), declared once so the
handlers validate and document them alike (docs/api.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, get_args

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from usage_pricing.core.limits import APP_PATH, MAX_APP_PATH
from usage_pricing.core.windows import RANGES, STEPS, BucketSize, RangeName

MAX_APP_FILTERS = 20
TaskStatus = Literal["completed", "failed", "cancelled", "refunded", "needs_review"]
# What the breakdown groups its spend by (the first is the default).
SpendGroup = Literal["app", "fee", "tier"]
# The task list's order by completed_at then task id: oldest first (the default) or newest first.
TaskOrder = Literal["asc", "desc"]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000


def _one_of(names: Iterable[str]) -> str:
    """ "a, b or c": the values a parameter takes, for its description."""
    *rest, last = names
    return f"{', '.join(rest)} or {last}" if rest else last


# The app path billing accepts (limits.APP_PATH, as events.AppPath).
AppName = Annotated[str, Field(max_length=MAX_APP_PATH, pattern=APP_PATH)]

RangeQuery = Annotated[
    RangeName | None,
    Query(description=f"{_one_of(RANGES)} back from now; or start/end"),
]
StartQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Inclusive: RFC 3339 with an offset (2026-11-20T10:00:00Z) or a date "
        "(2026-11-20, local midnight in tz)",
    ),
]
EndQuery = Annotated[
    str | None,
    Query(max_length=64, description="Exclusive, like start; default now"),
]
TzQuery = Annotated[
    str | None,
    Query(max_length=256, description="IANA time zone of the buckets and dates (default UTC)"),
]
BucketQuery = Annotated[
    BucketSize | None,
    Query(description=f"{_one_of(STEPS)}; default by span: 1m up to 2 h, 1h up to 2 days, else 1d"),
]
GroupByQuery = Annotated[SpendGroup, Query(description="app (default), fee or tier")]
AppsQuery = Annotated[
    list[AppName] | None,
    Query(
        alias="app",
        max_length=MAX_APP_FILTERS,
        description=f"Only these apps (repeat the parameter, at most {MAX_APP_FILTERS})",
    ),
]
FormatQuery = Annotated[
    Literal["json", "csv"] | None,
    Query(description="csv answers text/csv (as Accept: text/csv does)"),
]
StatusQuery = Annotated[
    list[TaskStatus] | None,
    Query(description=f"{_one_of(get_args(TaskStatus))} (repeatable)"),
]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT:,} (default {DEFAULT_LIMIT})")
]
CursorQuery = Annotated[
    str | None, Query(max_length=2048, description="next_cursor of the previous page")
]
OrderQuery = Annotated[
    TaskOrder,
    Query(
        description="asc (default): oldest first by completed_at then task id; desc: newest "
        "first, exactly the reverse"
    ),
]
