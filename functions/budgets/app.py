"""Budgets (docs/spend-controls.md): PUT/GET/DELETE /budgets/{budgetID} and GET /budgets."""

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.controls.budgets import BudgetService
from usage_pricing.controls.model import BudgetList, BudgetRequest, BudgetView
from usage_pricing.core.observability import logger, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.budget_spend import SpendSoFar

wiring = Wiring()
budgets = BudgetService(
    wiring.controls_store(), SpendSoFar(wiring.aggregates(), lambda: datetime.now(UTC))
)
app = Api()
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@app.get("/budgets", scopes=("billing:read",))
@tracer.capture_method
def list_budgets() -> BudgetList:
    return budgets.list(app.caller.team_id)


@app.get("/budgets/{budgetID}", scopes=("billing:read",))
@tracer.capture_method
def get_budget(budgetID: str) -> BudgetView:  # noqa: N803 — the gateway's parameter name
    return budgets.get(app.caller.team_id, budgetID)


@app.put(
    "/budgets/{budgetID}",
    scopes=("billing:write",),
    responses={
        200: {"description": "Replaced", "content": {"application/json": {"model": BudgetView}}},
        201: {"description": "Created", "content": {"application/json": {"model": BudgetView}}},
        409: {
            "description": "The team has 100 budgets, or more than 5 would apply to one task",
            "content": PROBLEM,
        },
    },
)
@tracer.capture_method
def put_budget(
    budgetID: str,  # noqa: N803
    request: Annotated[BudgetRequest, Body()],
) -> Response[str]:
    view, created = budgets.put(app.caller.team_id, budgetID, request)
    return Response(
        status_code=201 if created else 200,
        content_type="application/json",
        body=view.model_dump_json(),
    )


@app.delete(
    "/budgets/{budgetID}",
    scopes=("billing:write",),
    responses={204: {"description": "Deleted", "content": {}}},
)
@tracer.capture_method
def delete_budget(budgetID: str) -> Response[None]:  # noqa: N803
    budgets.delete(app.caller.team_id, budgetID)
    return Response(status_code=204)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
