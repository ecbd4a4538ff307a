"""GET /usage/summary — resource-seconds by tier, type and model, from the aggregates."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.analytics import SpendAnalytics, UsageSummary
from usage_pricing.http import RangeQuery, TzQuery, current_caller, new_resolver, serve
from usage_pricing.observability import logger, tracer
from usage_pricing.wiring import Wiring

analytics = SpendAnalytics(Wiring().aggregates())
app = new_resolver()

ROUTE_SCOPES = {"GET /usage/summary": ("billing:read",)}


@app.get("/usage/summary")
@tracer.capture_method
def summary(range: RangeQuery = "30d", tz: TzQuery = None) -> UsageSummary:
    return analytics.summary(current_caller(app).team_id, range, tz)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context, ROUTE_SCOPES)
