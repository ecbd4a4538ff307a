"""GET /usage/tasks/{taskID}/cost — what one task cost, for its own team only."""

import re
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import NotFoundError
from usage_pricing.http import Api
from usage_pricing.observability import logger, tracer
from usage_pricing.records import TaskCost
from usage_pricing.wiring import Wiring

ledger = Wiring().ledger()
app = Api()
# The task ids a task event can carry (usage_pricing.events.Identifier); any other is no task,
# and is never sent to DynamoDB (a key over 2 KB would be a storage error, not a 404).
TASK_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")


@app.get("/usage/tasks/{taskID}/cost", scopes=("apps:read", "billing:read"))
@tracer.capture_method
def task_cost(taskID: str) -> TaskCost:  # noqa: N803 — the route's parameter name
    record = ledger.get(taskID) if TASK_ID.fullmatch(taskID) else None
    # Someone else's task is indistinguishable from no task.
    if record is None or record.team_id != app.caller.team_id:
        raise NotFoundError(f"no task {taskID}")
    return TaskCost.of(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
