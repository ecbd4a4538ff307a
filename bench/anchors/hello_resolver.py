"""Cold-import anchor (docs/operations.md): the Powertools hello-world HTTP API resolver with validation and
a Logger. An HTTP handler that calls no AWS service may import in at most 1.2x this."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger()
app = APIGatewayHttpResolver(enable_validation=True)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"message": "hello world"}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
