"""HTTP API Lambda authorizer: resolves Authorization: Bearer inf_… to {team_id, scopes}."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logged_http_handler
from usage_pricing.edge.auth import authorize
from usage_pricing.runtime.wiring import Wiring

keys = Wiring().api_keys()


@logged_http_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event.get("headers"), keys)
