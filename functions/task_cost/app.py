"""GET /usage/tasks/{taskID}/cost — what one task cost, for its own team only."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import NotFoundError
from usage_pricing.http import current_caller, new_resolver, serve
from usage_pricing.observability import logger, tracer
from usage_pricing.records import TaskCost
from usage_pricing.wiring import Wiring

ledger = Wiring().ledger()
app = new_resolver()

ROUTE_SCOPES = {"GET /usage/tasks/{taskID}/cost": ("apps:read", "billing:read")}


@app.get("/usage/tasks/<taskID>/cost")
@tracer.capture_method
def task_cost(taskID: str) -> TaskCost:  # noqa: N803 — the route's parameter name
    record = ledger.get(taskID)
    # Someone else's task is indistinguishable from no task.
    if record is None or record.team_id != current_caller(app).team_id:
        raise NotFoundError(f"no task {taskID}")
    return TaskCost.of(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context, ROUTE_SCOPES)
