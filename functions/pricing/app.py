"""The app pricing store: GET/PATCH /apps/{namespace}/{name}/pricing, POST …/publish, and the
backtest of a proposed pricing against the team's own billed tasks, POST …/backtest."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.http import Api
from usage_pricing.observability import logger, tracer
from usage_pricing.pricing_store import (
    AppPricingView,
    PricingPatch,
    PricingStore,
    PublishRequest,
    app_path,
)
from usage_pricing.wiring import Wiring

wiring = Wiring()
# Formulas are validated with the type-checking engine whatever engine evaluates them.
# (the same instance as the evaluator's when CEL_ENGINE is cel-expr, the default).
store = PricingStore(wiring.pricing(), wiring.evaluator(), wiring.engine("cel-expr"))
app = Api()


@app.get("/apps/{namespace}/{name}/pricing", scopes=("apps:read",))
@tracer.capture_method
def get_pricing(namespace: str, name: str) -> AppPricingView:
    return store.read(app.caller, namespace, app_path(namespace, name))


@app.patch("/apps/{namespace}/{name}/pricing", scopes=("apps:write",))
@tracer.capture_method
def patch_pricing(
    namespace: str, name: str, patch: Annotated[PricingPatch, Body()]
) -> AppPricingView:
    return store.patch(app.caller, namespace, app_path(namespace, name), patch)


@app.post("/apps/{namespace}/{name}/pricing/publish", scopes=("apps:write",))
@tracer.capture_method
def publish_pricing(
    namespace: str, name: str, request: Annotated[PublishRequest | None, Body()] = None
) -> AppPricingView:
    return store.publish(app.caller, namespace, app_path(namespace, name), request)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
