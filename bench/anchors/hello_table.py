"""Cold-import anchor (docs/operations.md): the Powertools hello-world resolver with validation and a Logger,
plus a boto3 DynamoDB Table. An HTTP handler that uses DynamoDB may import in at most 1.2x this."""

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger()
table = boto3.resource("dynamodb").Table("hello")
app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"message": "hello world", "table": table.name}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
