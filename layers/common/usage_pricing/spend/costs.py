"""GET /v1/organization/costs (docs/api.md): the team's spend in the shape of OpenAI's organization
costs API, read from the same aggregates as the breakdown (docs/costs-feed.md).

What maps to what
    start_time, end_time   Unix seconds; the window is widened to whole UTC buckets (start down
                           to a bucket boundary, end up to one), as the breakdown widens its own
    bucket_width           1d (UTC days, read from day items) or 1h (UTC hours, hour items)
    group_by               project_id = the app, line_item = the fee group of `group_by=fee`
                           (resource, inference, royalty, partner, adjustment; "unattributed" for
                           items written before the fee layout, as the breakdown shows them)
    project_ids            the breakdown's `app` filter, at most 20
    limit, page            buckets per page (1–180, default 7) and where the page starts

Every request reads at most `limit` buckets' items per app (one Query per shard over a
bucket-key range), whatever the window's length: a long window is paged, never read whole.

Amounts are exact: an amount is integer microcents over 10^8, written as the exact decimal
(render_page), never through a float, so 12345 microcents is 0.00012345 in the JSON text. Each
bucket's results add up to what the breakdown reports for that UTC bucket, and the buckets of a
window to its total_cost (both sum the same aggregate items)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from usage_pricing.core.cursors import CursorSigner
from usage_pricing.core.errors import AnswerTooLargeError, FieldIssue, InvalidRequestError
from usage_pricing.core.limits import MAX_COST_RESULTS
from usage_pricing.core.money import MICROCENTS_PER_DOLLAR, to_dollars
from usage_pricing.core.utc import EARLIEST, LATEST, YEARS
from usage_pricing.core.views import FigureError, Figures, absent
from usage_pricing.spend.aggregate_reader import AggregateRepository
from usage_pricing.spend.breakdown import GROUP_ORDER, group_counters, group_figures
from usage_pricing.spend.query import OVERFLOW
from usage_pricing.storage.aggregates import COST, Granularity, bucket_key, parse_bucket

BucketWidth = Literal["1d", "1h"]
CostsGroup = Literal["project_id", "line_item"]
DEFAULT_LIMIT = 7
MAX_LIMIT = 180
WIDTHS: dict[str, Granularity] = {"1d": Granularity.DAY, "1h": Granularity.HOUR}
EARLIEST_SECONDS = int(EARLIEST.timestamp())
LATEST_SECONDS = int(LATEST.timestamp())
# The page token is sealed like the task list's cursor (usage_pricing.core.cursors, the deployment's
# CURSOR_SECRET) and bound to its team and query; a page authorizes nothing (the feed always reads
# the caller's own team), and its position is checked against the query's own window besides.


def exact_usd(microcents: int) -> str:
    """Microcents as the exact decimal number of dollars, with no exponent: 12345 →
    "0.00012345", 100000000 → "1.0", -5 → "-0.00000005"."""
    sign = "-" if microcents < 0 else ""
    whole, fraction = divmod(abs(microcents), MICROCENTS_PER_DOLLAR)
    digits = f"{fraction:08d}".rstrip("0") or "0"
    return f"{sign}{whole}.{digits}"


# The amount's value is held as the exact Decimal, serialized as its exact text (render_page
# turns that text into a JSON number) and documented as a number.
ExactUsd = Annotated[
    Decimal,
    PlainSerializer(lambda v: exact_usd(int(v * MICROCENTS_PER_DOLLAR)), return_type=str),
    WithJsonSchema({"type": "number", "description": "USD, exact to the microcent (1e-8)"}),
]


class CostAmount(BaseModel):
    value: ExactUsd | None = Field(
        description="USD as a JSON number, exact to the microcent; null only when the figure "
        "lies outside int64 microcents (see errors)"
    )
    currency: Literal["usd"] = "usd"
    dollars: str | None = Field(
        description='The same amount as the product\'s dollars string (docs/money.md), e.g. "0.039"'
    )


class CostResult(BaseModel):
    object: Literal["organization.costs.result"] = "organization.costs.result"
    amount: CostAmount
    line_item: str | None = Field(
        description="With group_by=line_item: resource, inference, royalty, partner, adjustment "
        "(or unattributed for items older than the fee layout); else null"
    )
    project_id: str | None = Field(description="With group_by=project_id: the app; else null")


class CostBucket(BaseModel):
    object: Literal["bucket"] = "bucket"
    start_time: int = Field(description="Unix seconds, a UTC day or hour boundary")
    end_time: int
    results: list[CostResult] = Field(
        description="One per group with a non-zero amount; empty when the bucket had no spend"
    )


class CostsPage(BaseModel):
    object: Literal["page"] = "page"
    data: list[CostBucket]
    has_more: bool
    next_page: str | None = Field(description="Pass as `page` (with the same query) for more")
    errors: list[FigureError] | None = Field(default=None, exclude_if=absent)


class CostsQuery(NamedTuple):
    start_time: int
    end_time: int | None = None
    bucket_width: BucketWidth = "1d"
    group_by: tuple[CostsGroup, ...] = ()
    project_ids: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    page: str | None = None

    def fingerprint(self) -> bytes:
        """What binds a page token to its query: everything but the page size and the page."""
        return json.dumps(
            [
                self.start_time,
                self.end_time,
                self.bucket_width,
                sorted(set(self.group_by)),
                sorted(set(self.project_ids)),
            ],
            separators=(",", ":"),
        ).encode()


def _invalid(field: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{field}: {message}", errors=[FieldIssue(field, message)])


PAGE_PURPOSE = "costs-page"


def encode_page(signer: CursorSigner, team_id: str, query: CostsQuery, position: int) -> str:
    """The next bucket's start (Unix seconds), sealed with the deployment's cursor key and bound
    to the team and the query (usage_pricing.core.cursors)."""
    return signer.seal(PAGE_PURPOSE, (team_id.encode(), query.fingerprint()), {"at": position})


def decode_page(signer: CursorSigner, team_id: str, query: CostsQuery, page: str) -> int:
    content = signer.open(
        PAGE_PURPOSE,
        (team_id.encode(), query.fingerprint()),
        page,
        field="page",
        returned="next_page",
    )
    position = content.get("at")
    if not isinstance(position, int) or isinstance(position, bool):
        raise _invalid("page", "is not a page of this query and team")
    return position


def _seconds(value: int, field: str) -> int:
    if not EARLIEST_SECONDS <= value < LATEST_SECONDS:
        raise _invalid(field, f"must be Unix seconds {YEARS}")
    return value


class CostsFeed:
    """The feed, read from the aggregates as of `clock`."""

    def __init__(
        self,
        aggregates: AggregateRepository,
        signer: CursorSigner,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.aggregates = aggregates
        self.signer = signer
        self.clock = clock
        self.max_results = MAX_COST_RESULTS

    def page(self, team_id: str, query: CostsQuery) -> CostsPage:
        granularity = WIDTHS[query.bucket_width]
        width = int(granularity.step.total_seconds())
        start = _seconds(query.start_time, "start_time")
        if query.end_time is None:
            end = max(int(self.clock().timestamp()) + 1, start + 1)  # the bucket holding now
        else:
            end = _seconds(query.end_time, "end_time")
            if end <= start:
                raise _invalid("end_time", "must be after start_time")
        if not 1 <= query.limit <= MAX_LIMIT:
            raise _invalid("limit", f"must be 1 to {MAX_LIMIT}")
        first = start - start % width
        stop = -(-end // width) * width  # up to a bucket boundary
        position = first
        if query.page is not None:
            position = decode_page(self.signer, team_id, query, query.page)
            if not (first <= position < stop and (position - first) % width == 0):
                raise _invalid("page", "lies outside this query's window")
        count = min(query.limit, (stop - position) // width)
        results = self._read(
            team_id, query, granularity=granularity, position=position, count=count, width=width
        )
        count = _fitting(results, self.max_results)
        page_end = position + count * width
        figures = Figures(OVERFLOW)
        data = []
        for index in range(count):
            bucket_start = position + index * width
            shown: list[CostResult] = []
            for key in sorted(
                results[index],
                key=lambda k: (k[0] or "", GROUP_ORDER.get(k[1] or "", 99), k[1] or ""),
            ):
                microcents = results[index][key]
                if microcents == 0:
                    continue  # no result for an empty group (docs/costs-feed.md)
                checked = figures.check(
                    microcents, f"data.{index}.results.{len(shown)}.amount.value"
                )
                shown.append(
                    CostResult(
                        amount=CostAmount(
                            value=None
                            if checked is None
                            else Decimal(checked) / MICROCENTS_PER_DOLLAR,
                            dollars=None if checked is None else to_dollars(checked),
                        ),
                        project_id=key[0],
                        line_item=key[1],
                    )
                )
            data.append(
                CostBucket(start_time=bucket_start, end_time=bucket_start + width, results=shown)
            )
        more = page_end < stop
        return CostsPage(
            data=data,
            has_more=more,
            next_page=encode_page(self.signer, team_id, query, page_end) if more else None,
            errors=figures.result(),
        )

    def _read(
        self,
        team_id: str,
        query: CostsQuery,
        *,
        granularity: Granularity,
        position: int,
        count: int,
        width: int,
    ) -> list[dict[tuple[str | None, str | None], int]]:
        """Microcents per bucket and (project_id, line_item), each None when not grouped by."""
        by_app = "project_id" in query.group_by
        by_fee = "line_item" in query.group_by
        out: list[dict[tuple[str | None, str | None], int]] = [{} for _ in range(count)]
        if count == 0:
            return out
        first = datetime.fromtimestamp(position, UTC)
        last = first + timedelta(seconds=(count - 1) * width)
        counters = [COST, *group_counters("fee")] if by_fee else [COST]
        cells = self.aggregates.read(
            team_id,
            granularity,
            bucket_key(first),
            bucket_key(last),
            counters=counters,
            apps=query.project_ids or None,
        )
        for cell in cells:
            offset = int(parse_bucket(cell.bucket).timestamp()) - position
            index = offset // width
            if offset % width or not 0 <= index < count:
                continue  # pragma: no cover — the read covers exactly these buckets
            app = cell.app if by_app else None
            bucket = out[index]
            if by_fee:
                for group, cost, _calls in group_figures("fee", cell.counters):
                    bucket[(app, group)] = bucket.get((app, group), 0) + cost
            else:
                cost = cell.counters.get(COST, 0)
                bucket[(app, None)] = bucket.get((app, None), 0) + cost
        return out


def _fitting(results: list[dict[tuple[str | None, str | None], int]], most: int) -> int:
    """How many of the buckets read fit in one page of at most `most` results (a bucket is never
    split): the page ends before the bucket that would pass it, and next_page starts there. A
    single bucket with more results than that cannot be paged: a 422 asking for fewer."""
    total = 0
    for index, bucket in enumerate(results):
        total += sum(1 for microcents in bucket.values() if microcents)
        if total > most:
            if index == 0:
                raise AnswerTooLargeError(
                    f"one bucket holds more than {most:,} results (one per app and line item): "
                    "filter project_ids or group by fewer fields"
                )
            return index
    return len(results)


_QUOTED_AMOUNT = re.compile(r'"amount":\{"value":"(-?[0-9]+\.[0-9]+)"')


def render_page(page: CostsPage) -> str:
    """The page as JSON, each amount's value an exact decimal number (not a float's nearest
    shortest repr, nor a string). App names are JSON-escaped, so no project_id can contain the
    unescaped key sequence this rewrites."""
    body = json.dumps(page.model_dump(mode="json"), separators=(",", ":"))
    return _QUOTED_AMOUNT.sub(r'"amount":{"value":\1', body)


__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CostAmount",
    "CostBucket",
    "CostResult",
    "CostsFeed",
    "CostsPage",
    "CostsQuery",
    "decode_page",
    "encode_page",
    "exact_usd",
    "render_page",
]
