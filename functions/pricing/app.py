"""The app pricing store: GET/PATCH /apps/{namespace}/{name}/pricing, POST …/publish, and the
backtest of a proposed pricing against the team's own billed tasks, POST …/backtest."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.backtest import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Backtest,
    BacktestRequest,
    BacktestService,
)
from usage_pricing.http import Api
from usage_pricing.observability import logger, tracer
from usage_pricing.pricing_store import (
    AppPricingView,
    PricingPatch,
    PricingStore,
    PublishRequest,
    app_path,
)
from usage_pricing.spend_params import CursorQuery, EndQuery, RangeQuery, StartQuery, TzQuery
from usage_pricing.wiring import Wiring

wiring = Wiring()
# Formulas are validated with the type-checking engine whatever engine evaluates them.
# (the same instance as the evaluator's when CEL_ENGINE is cel-expr, the default).
store = PricingStore(wiring.pricing(), wiring.evaluator(), wiring.engine("cel-expr"))
backtests = BacktestService(
    wiring.ledger(),
    wiring.pricing(),
    wiring.evaluator(),
    wiring.engine("cel-expr"),
    signer=wiring.cursor_signer(),
)
app = Api()
BacktestLimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT:,} tasks (default {DEFAULT_LIMIT:,})"),
]


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


@app.post("/apps/{namespace}/{name}/pricing/backtest", scopes=("apps:write",))
@tracer.capture_method
def backtest_pricing(  # noqa: PLR0917 — the route's path and query parameters
    namespace: str,
    name: str,
    request: Annotated[BacktestRequest | None, Body()] = None,
    range: RangeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
    limit: Annotated[
        int,
        Query(
            ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT:,} tasks (default {DEFAULT_LIMIT:,})"
        ),
    ] = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Backtest:
    return backtests.run(
        app.caller,
        namespace,
        app_path(namespace, name),
        request,
        range_name=range,
        start=start,
        end=end,
        tz_name=tz,
        limit=limit,
        cursor=cursor,
        context=app.resolver.lambda_context,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
