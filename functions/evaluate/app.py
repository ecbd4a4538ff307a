"""POST /usage/cel/evaluate — preview draft pricing against sample usage; GET /keys/current —
what the calling key may do (usage_pricing.edge.caller); and the gateway's fallback for routes
nothing serves."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.core.scopes import SCOPES
from usage_pricing.edge.caller import CallerView
from usage_pricing.edge.http import Api
from usage_pricing.pricing.preview import EvaluateRequest, PricingPreview
from usage_pricing.runtime.wiring import Wiring

# The evaluator (and the CEL engine's extension module) is built by the first request that gets
# past validation, once per container: a cold start imports only what every request needs.
wiring = Wiring()
app = Api()


@app.post("/usage/cel/evaluate", scopes=("billing:read",))
@tracer.capture_method
def evaluate(request: Annotated[EvaluateRequest, Body()]) -> PricingPreview:
    evaluator = wiring.evaluator()
    return PricingPreview.of(evaluator.price(request.pricing, request.pricing_input()))


# Any key that opens some route may ask what it opens.
@app.get("/keys/current", scopes=SCOPES)
def current_key() -> CallerView:
    return CallerView.of(app.caller)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
