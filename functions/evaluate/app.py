"""POST /usage/cel/evaluate — preview draft pricing against sample usage."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import EvaluateRequest, PricingEvaluator, PricingPreview, Settings, new_engine
from usage_pricing.http import Api
from usage_pricing.observability import logger, tracer

settings = Settings.from_env()
evaluator = PricingEvaluator(new_engine(settings.cel_engine), settings.platform_defaults())
app = Api()


@app.post("/usage/cel/evaluate", scopes=("billing:read",))
@tracer.capture_method
def evaluate(request: Annotated[EvaluateRequest, Body()]) -> PricingPreview:
    return PricingPreview.of(evaluator.price(request.pricing, request.pricing_input()))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
