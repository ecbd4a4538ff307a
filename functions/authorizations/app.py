"""Holds (docs/spend-controls.md): POST /usage/authorizations, DELETE
/usage/authorizations/{taskID}. An `estimate` is priced with the app's live pricing, as a quote
is; the evaluator (and its CEL engine) is built by the first estimate, not at cold start."""

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.controls.holds import Authorization, AuthorizationRequest, AuthorizationService
from usage_pricing.core.observability import logger, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring

wiring = Wiring()
holds = AuthorizationService(wiring.controls_store())
app = Api()
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def estimate_amount(request: AuthorizationRequest) -> int:
    """What the estimate would be charged with the app's pricing live now."""
    from usage_pricing.ledger.estimate import price_estimate  # noqa: PLC0415

    return price_estimate(
        wiring.pricing(), wiring.evaluator(), request.app, request.estimate or {}, datetime.now(UTC)
    )


@app.post(
    "/usage/authorizations",
    scopes=("billing:write",),
    responses={
        201: {
            "description": "Held on every budget that applies",
            "content": {"application/json": {"model": Authorization}},
        },
        402: {"description": "A block budget refused: nothing is held", "content": PROBLEM},
        409: {"description": "The task id holds a different amount", "content": PROBLEM},
        429: {"description": "The budget is busy: retry after Retry-After", "content": PROBLEM},
    },
)
@tracer.capture_method
def authorize(request: Annotated[AuthorizationRequest, Body()]) -> Response[str]:
    amount = request.amount if request.amount is not None else estimate_amount(request)
    answer = holds.authorize(app.caller.team_id, request, amount)
    return Response(status_code=201, content_type="application/json", body=answer.model_dump_json())


@app.delete(
    "/usage/authorizations/{taskID}",
    scopes=("billing:write",),
    responses={204: {"description": "Released", "content": {}}},
)
@tracer.capture_method
def release(taskID: str) -> Response[None]:  # noqa: N803 — the gateway's parameter name
    holds.release(app.caller.team_id, taskID)
    return Response(status_code=204)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
