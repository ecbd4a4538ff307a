"""GET /usage/breakdown — spend over time by app, from the aggregates."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.analytics import Breakdown, SpendAnalytics
from usage_pricing.http import Api, RangeQuery, TzQuery
from usage_pricing.observability import logger, tracer
from usage_pricing.wiring import Wiring

analytics = SpendAnalytics(Wiring().aggregates())
app = Api()


@app.get("/usage/breakdown", scopes=("billing:read",))
@tracer.capture_method
def breakdown(range: RangeQuery = "30d", tz: TzQuery = None) -> Breakdown:
    return analytics.breakdown(app.caller.team_id, range, tz)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
