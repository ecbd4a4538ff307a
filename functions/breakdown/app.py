"""GET /usage/breakdown — spend over time by app, fee or tier, from the aggregates."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.analytics import Breakdown, SpendAnalytics
from usage_pricing.exports import (
    csv_or_json_responses,
    csv_response,
    json_response,
    refuse_overflow_csv,
    wants_csv,
)
from usage_pricing.http import Api
from usage_pricing.observability import logger, tracer
from usage_pricing.spend import SpendQuery
from usage_pricing.spend_params import (
    AppsQuery,
    BucketQuery,
    EndQuery,
    FormatQuery,
    GroupByQuery,
    RangeQuery,
    StartQuery,
    TzQuery,
)
from usage_pricing.wiring import Wiring

analytics = SpendAnalytics(Wiring().aggregates())
app = Api()

CSV_HEADER = ("bucket_start", "group", "cost_microcents", "cost_usd", "call_count")
RESPONSES = csv_or_json_responses(
    "The breakdown (JSON), or its rows as text/csv", Breakdown, CSV_HEADER
)


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
    if wants_csv(format, app.resolver.current_event.headers.get("accept")):
        refuse_overflow_csv(answer.errors)
        return csv_response("breakdown.csv", CSV_HEADER, answer.csv_rows())
    return json_response(answer.model)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
