"""HTTP API Lambda authorizer: resolves Authorization: Bearer inf_… to {team_id, scopes}."""

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing import Settings
from usage_pricing.auth import authorize
from usage_pricing.observability import logger
from usage_pricing.storage import ApiKeyRepository

settings = Settings.from_env()
keys = ApiKeyRepository(boto3.resource("dynamodb").Table(settings.api_keys_table))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return authorize(event.get("headers"), keys)
