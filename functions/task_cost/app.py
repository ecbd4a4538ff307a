"""GET /usage/tasks/{taskID}/cost — what one task cost, for its own team only; and
GET /usage/tasks — the team's billing records in a window, a page at a time."""

from typing import Any
from urllib.parse import parse_qsl, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import NotFoundError
from usage_pricing.core.limits import IDENTIFIER
from usage_pricing.core.observability import logged_http_handler, tracer
from usage_pricing.edge.http import Api
from usage_pricing.runtime.wiring import Wiring
from usage_pricing.spend.exports import respond
from usage_pricing.spend.params import (
    DEFAULT_LIMIT,
    AppsQuery,
    CursorQuery,
    EndQuery,
    FormatQuery,
    LimitQuery,
    OrderQuery,
    RangeQuery,
    StartQuery,
    StatusQuery,
    TzQuery,
)
from usage_pricing.spend.task_count import TaskCounter
from usage_pricing.spend.tasks import TASKS_CSV, TaskCost, TaskList, TaskListQuery, TaskPage

wiring = Wiring()
ledger = wiring.ledger()
tasks = TaskList(
    wiring.task_index(), wiring.cursor_signer(), counter=TaskCounter(wiring.aggregates())
)
app = Api()
# The task ids a task event can carry (limits.IDENTIFIER, as usage.events.Identifier); any other is
# no task, and is never sent to DynamoDB (a key over 2 KB would be a storage error, not a 404).
TASK_ID = IDENTIFIER
TASKS_RESPONSES = TASKS_CSV.responses(
    "A page of the task list (JSON), or its rows as text/csv; while more "
    'remain, a Link: <…>; rel="next" header names the next page',
    TaskPage,
)


@app.get("/usage/tasks/{taskID}/cost", scopes=("apps:read", "billing:read"))
@tracer.capture_method
def task_cost(taskID: str) -> TaskCost:  # noqa: N803 — the route's parameter name
    record = ledger.get(taskID) if TASK_ID.fullmatch(taskID) else None
    # Someone else's task is indistinguishable from no task.
    if record is None or record.team_id != app.caller.team_id:
        raise NotFoundError(f"no task {taskID}")
    return TaskCost.of(record)


def next_page_link(cursor: str) -> str:
    """The request's own path and query with the next cursor, as an RFC 8288 Link."""
    event = app.resolver.current_event
    query = parse_qsl(event.raw_query_string or "", keep_blank_values=True)
    query = [(k, v) for k, v in query if k != "cursor"] + [("cursor", cursor)]
    return f'<{event.path}?{urlencode(query)}>; rel="next"'


@app.get("/usage/tasks", scopes=("billing:read",), responses=TASKS_RESPONSES)
@tracer.capture_method
def task_list(
    *,
    range: RangeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    tz: TzQuery = None,
    apps: AppsQuery = None,
    status: StatusQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
    order: OrderQuery = "asc",
) -> Response[str]:
    query = TaskListQuery(
        range, start, end, tz, tuple(apps or ()), tuple(status or ()), limit, cursor, order
    )
    answer = tasks.page(app.caller.team_id, query, app.resolver.lambda_context)
    headers = {"Link": next_page_link(answer.next_cursor)} if answer.next_cursor else {}
    accept = app.resolver.current_event.headers.get("accept")
    return respond(answer, format_param=format, accept=accept, headers=headers)


@logged_http_handler
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
