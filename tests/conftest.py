"""Shared fixtures. Environment is fixed before any handler or layer module is imported, because
handlers read their configuration once at cold start."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.update(
    {
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "UsagePricingTests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
)

from usage_pricing import PricingEvaluator, new_engine  # noqa: E402
from usage_pricing.cel import CelEngine  # noqa: E402

ENGINE_NAMES = ("cel-expr", "cel-python")
_ENGINES: dict[str, CelEngine] = {}


def engine_named(name: str) -> CelEngine:
    if name not in _ENGINES:
        _ENGINES[name] = new_engine(name)
    return _ENGINES[name]


@pytest.fixture(params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> CelEngine:
    return engine_named(request.param)


@pytest.fixture
def evaluator(engine: CelEngine) -> PricingEvaluator:
    return PricingEvaluator(engine)


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


def load_handler(name: str, env: dict[str, str] | None = None) -> ModuleType:
    """Import functions/<name>/app.py fresh, as a cold start would, under a unique module name
    (every handler file is called app.py)."""
    from local.functions import import_handler

    return import_handler(ROOT / "functions" / name / "app.py", f"handler_{name}", env or {})


@pytest.fixture
def handler_loader() -> Callable[..., ModuleType]:
    return load_handler


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture
def aws_tables() -> Any:
    """moto's mock_aws with every table of template.yaml created; yields a DynamoDB resource."""
    import boto3
    from moto import mock_aws

    from local.template import create_tables

    with mock_aws():
        create_tables(boto3.client("dynamodb"))
        yield boto3.resource("dynamodb")


class AwsWorld:
    """moto's AWS with every table and queue of template.yaml; handlers load with the
    environment the template gives them."""

    def __init__(self) -> None:
        import boto3

        from local.template import create_queues, create_tables, load_template

        create_tables(boto3.client("dynamodb"))
        self.sqs = boto3.client("sqs")
        self.queue_urls = create_queues(self.sqs)
        self.template = load_template().with_refs(self.queue_urls)
        self.dynamodb = boto3.resource("dynamodb")

    def handler(self, name: str, logical_id: str, **env: str) -> ModuleType:
        return load_handler(name, {**self.template.functions()[logical_id].environment, **env})

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_urls["BillingDeadLetterQueue"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages  # type: ignore[no-any-return]


@pytest.fixture
def aws() -> Any:
    from moto import mock_aws

    from local.atomic import serialize_dynamodb

    serialize_dynamodb()
    with mock_aws():
        yield AwsWorld()


@pytest.fixture(scope="session")
def stack() -> Any:
    """One local stack for the whole session, shared by the e2e and fuzz tests."""
    from tests.stack import running_stack

    with running_stack() as running:
        yield running
