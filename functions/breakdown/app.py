"""GET /usage/breakdown — spend over time by app, fee or tier, from the aggregates; and
GET /v1/organization/costs, the same spend in the shape of OpenAI's costs API (docs/costs-feed.md).

One function serves both: they read the same aggregate items with the same reader, so the feed
adds one small module (usage_pricing.spend.costs) to this cold start rather than a function of its
own."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.errors import FieldIssue, InvalidRequestError
from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.breakdown import BREAKDOWN_CSV, Breakdown, SpendAnalytics
from usage_pricing.spend.costs import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BucketWidth,
    CostsFeed,
    CostsGroup,
    CostsPage,
    CostsQuery,
    render_page,
)
from usage_pricing.spend.exports import JSON_MEDIA_TYPE, respond
from usage_pricing.spend.params import (
    MAX_APP_FILTERS,
    AppName,
    AppsQuery,
    BucketQuery,
    EndQuery,
    FormatQuery,
    GroupByQuery,
    RangeQuery,
    StartQuery,
    TzQuery,
)
from usage_pricing.spend.query import SpendQuery

wiring = Wiring()
aggregates = wiring.aggregates()
analytics = SpendAnalytics(aggregates)
costs = CostsFeed(aggregates, wiring.cursor_signer())
app = Api()

RESPONSES = BREAKDOWN_CSV.responses("The breakdown (JSON), or its rows as text/csv", Breakdown)


@app.get("/usage/breakdown", scopes=("billing:read",), responses=RESPONSES)
@tracer.capture_method
def breakdown(
    *,
    range: RangeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
    bucket: BucketQuery = None,
    group_by: GroupByQuery = "app",
    apps: AppsQuery = None,
    format: FormatQuery = None,
) -> Response[str]:
    query = SpendQuery(range, start, end, tz, bucket, group_by, tuple(apps or ()))
    answer = analytics.breakdown(app.caller.team_id, query)
    accept = app.resolver.current_event.headers.get("accept")
    return respond(answer, format_param=format, accept=accept)


@app.get(
    "/v1/organization/costs",
    scopes=("billing:read",),
    responses={
        200: {
            "description": "A page of cost buckets",
            "content": {JSON_MEDIA_TYPE: {"model": CostsPage}},
        }
    },
)
@tracer.capture_method
def organization_costs(
    *,
    start_time: Annotated[
        int, Query(description="Unix seconds, inclusive (widened down to a bucket)")
    ],
    end_time: Annotated[
        int | None,
        Query(description="Unix seconds, exclusive (widened up to a bucket); default now"),
    ] = None,
    bucket_width: Annotated[BucketWidth, Query(description="1d (default) or 1h, UTC")] = "1d",
    group_by: Annotated[
        list[CostsGroup] | None,
        Query(
            max_length=2,
            description="project_id (the app) and/or line_item (the fee group); "
            "repeat the parameter or comma-separate",
        ),
    ] = None,
    project_ids: Annotated[
        list[AppName] | None,
        Query(
            max_length=MAX_APP_FILTERS, description=f"Only these apps (at most {MAX_APP_FILTERS})"
        ),
    ] = None,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description=f"Buckets per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
        ),
    ] = DEFAULT_LIMIT,
    page: Annotated[
        str | None, Query(max_length=64, description="next_page of the previous page")
    ] = None,
) -> Response[str]:
    unsupported(app.resolver.current_event.query_string_parameters or {})
    query = CostsQuery(
        start_time,
        end_time,
        bucket_width,
        tuple(group_by or ()),
        tuple(project_ids or ()),
        limit,
        page,
    )
    body = render_page(costs.page(app.caller.team_id, query))
    return Response(status_code=200, content_type=JSON_MEDIA_TYPE, body=body)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(bracketed_arrays(event), context)


# OpenAI's filters with no counterpart here (no per-key or per-line-item-name spend is kept):
# refused by name rather than ignored, so a tool never charts a filter that did nothing.
UNSUPPORTED_FILTERS = ("api_key_ids", "line_items")


def unsupported(params: dict[str, str]) -> None:
    for name in UNSUPPORTED_FILTERS:
        if name in params:
            message = "is not supported here (docs/costs-feed.md)"
            raise InvalidRequestError(f"{name} {message}", errors=[FieldIssue(name, message)])


def bracketed_arrays(event: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's own client sends arrays as `group_by[]=a&group_by[]=b` (API Gateway hands them
    on as one comma-joined `group_by[]`): the same parameter as `group_by=a,b`."""
    params = event.get("queryStringParameters")
    if not isinstance(params, dict) or not any(str(k).endswith("[]") for k in params):
        return event
    merged: dict[str, Any] = {}
    for key, value in params.items():
        name = key[:-2] if isinstance(key, str) and key.endswith("[]") else key
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return {**event, "queryStringParameters": merged}
