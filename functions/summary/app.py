"""GET /usage/summary — resource-seconds by tier, type and model, from the aggregates."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.exports import respond
from usage_pricing.spend.params import (
    AppsQuery,
    EndQuery,
    FormatQuery,
    RangeQuery,
    StartQuery,
    TzQuery,
)
from usage_pricing.spend.query import SpendQuery
from usage_pricing.spend.summary import SUMMARY_CSV, SpendSummary, UsageSummary

summaries = SpendSummary(Wiring().aggregates())
app = Api()

RESPONSES = SUMMARY_CSV.responses(
    "Usage seconds (JSON), or one row per tier, type and model as text/csv", UsageSummary
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
    accept = app.resolver.current_event.headers.get("accept")
    return respond(answer, format_param=format, accept=accept)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
