"""The app pricing store: GET/PATCH /apps/{namespace}/{name}/pricing, POST …/publish, the
scheduled versions (GET …/scheduled, DELETE …/scheduled/{version}), the backtest of a
proposed pricing against the team's own billed tasks, POST …/backtest, and the quote of a
hypothetical task with a published version, POST …/quote.

The quote is served here rather than by the evaluate function: it needs the pricing table and
the evaluator this function already loads at import, and only adds the evaluate body and answer
models (usage_pricing.pricing.preview); served by evaluate, it would bring boto3 and the pricing
table to the cold start of a function that otherwise calls no AWS service."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.edge.http import Api
from usage_pricing.ledger.backtest import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Backtest,
    BacktestRequest,
    BacktestService,
)
from usage_pricing.pricing.preview import Quote, QuoteRequest
from usage_pricing.pricing.store import (
    ALLOWANCE,
    AppPricingView,
    PricingPatch,
    PricingStore,
    PublishRequest,
    ScheduledPricingView,
    app_path,
)
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.params import CursorQuery, EndQuery, RangeQuery, StartQuery, TzQuery

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


# A 409 (problem+json) beside the shared error responses local/openapi.py adds to every route.
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@app.post(
    "/apps/{namespace}/{name}/pricing/publish",
    scopes=("apps:write",),
    responses={
        200: {
            "description": "The owner's view after the publish, with warnings naming the "
            "versions scheduled to replace the one published",
            "content": {"application/json": {"model": AppPricingView}},
        },
        409: {
            "description": "Another publish happened at the same time, or the app already has "
            "the most scheduled versions it may have",
            "content": PROBLEM,
        },
    },
)
@tracer.capture_method
def publish_pricing(
    namespace: str, name: str, request: Annotated[PublishRequest | None, Body()] = None
) -> AppPricingView:
    return store.publish(app.caller, namespace, app_path(namespace, name), request)


@app.get("/apps/{namespace}/{name}/pricing/scheduled", scopes=("apps:read",))
@tracer.capture_method
def get_scheduled_pricing(namespace: str, name: str) -> ScheduledPricingView:
    return store.scheduled(app.caller, namespace, app_path(namespace, name))


@app.delete(
    "/apps/{namespace}/{name}/pricing/scheduled/{version}",
    scopes=("apps:write",),
    responses={
        204: {"description": "Cancelled", "content": {}},
        409: {
            "description": f"The version has taken effect, or is within {ALLOWANCE} of doing so "
            "(a task completing after it may already be billed with it)",
            "content": PROBLEM,
        },
    },
)
@tracer.capture_method
def cancel_scheduled_pricing(
    namespace: str, name: str, version: Annotated[int, Path(ge=1, le=999_999)]
) -> Response[None]:
    store.cancel(app.caller, namespace, app_path(namespace, name), version)
    return Response(status_code=204)


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


@app.post(
    "/apps/{namespace}/{name}/pricing/quote",
    scopes=("apps:read",),
    responses={
        200: {
            "description": "The sample priced with the version live at `at` (default now), as "
            "POST /usage/cel/evaluate answers (a formula error is reported on its component), "
            "plus that version and when the next one takes effect",
            "content": {"application/json": {"model": Quote}},
        },
        404: {
            "description": "The app has no published pricing (or none was live at `at`)",
            "content": PROBLEM,
        },
    },
)
@tracer.capture_method
def quote_pricing(
    namespace: str, name: str, request: Annotated[QuoteRequest | None, Body()] = None
) -> Quote:
    return store.quote(app_path(namespace, name), request)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
