"""GET /usage/summary — resource-seconds by tier, type and model, from the aggregates."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.exports import (
    csv_or_json_responses,
    csv_response,
    json_response,
    refuse_overflow_csv,
    wants_csv,
)
from usage_pricing.spend.params import (
    AppsQuery,
    EndQuery,
    FormatQuery,
    RangeQuery,
    StartQuery,
    TzQuery,
)
from usage_pricing.spend.query import SpendQuery
from usage_pricing.spend.summary import SpendSummary, UsageSummary

summaries = SpendSummary(Wiring().aggregates())
app = Api()

CSV_HEADER = ("dimension", "value", "seconds")
RESPONSES = csv_or_json_responses(
    "Usage seconds (JSON), or one row per tier, type and model as text/csv",
    UsageSummary,
    CSV_HEADER,
)


@app.get("/usage/summary", scopes=("billing:read",), responses=RESPONSES)
@tracer.capture_method
def summary(
    *,
    range: RangeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
    apps: AppsQuery = None,
    format: FormatQuery = None,
) -> Response[str]:
    query = SpendQuery(range, start, end, tz, apps=tuple(apps or ()))
    answer = summaries.summary(app.caller.team_id, query)
    if wants_csv(format, app.resolver.current_event.headers.get("accept")):
        refuse_overflow_csv(answer.errors)
        return csv_response("summary.csv", CSV_HEADER, answer.csv_rows())
    return json_response(answer.model)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
