"""What every suite shares: the environment (fixed before any handler or layer module is
imported, because handlers read their configuration once at cold start), loading a handler as a
cold start would, the sample events, property-test depth, one moto session (AwsWorld) and the
one local stack of a session. Each suite's own fixtures are in its conftest.py: unit (the CEL
engines), integration (moto worlds per test), browser (Chromium and faults)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

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

from usage_pricing import new_engine  # noqa: E402
from usage_pricing.pricing.cel import CelEngine  # noqa: E402

# make test runs each property test at a depth that keeps the suite within five minutes; make fuzz
# (and so CI) runs the same tests FUZZ_DEPTH times deeper.
FUZZ_DEPTH = int(os.environ.get("FUZZ_DEPTH", "1"))


def examples(count: int) -> int:
    """A property test's hypothesis example count: `count` under make test, times FUZZ_DEPTH."""
    return count * FUZZ_DEPTH


ENGINE_NAMES = ("cel-expr", "cel-python")
_ENGINES: dict[str, CelEngine] = {}


def engine_named(name: str) -> CelEngine:
    if name not in _ENGINES:
        _ENGINES[name] = new_engine(name)
    return _ENGINES[name]


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"


def load_handler(name: str, env: dict[str, str] | None = None) -> ModuleType:
    """Import functions/<name>/app.py fresh, as a cold start would, under a unique module name
    (every handler file is called app.py)."""
    from local.functions import import_handler

    return import_handler(ROOT / "functions" / name / "app.py", f"handler_{name}", env or {})


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())  # type: ignore[no-any-return]


class _MotoSession:
    """What every moto test shares for the whole session: one boto3 session (its service models
    parsed once) and the clients built on it. Building these took most of a test's setup when
    each test made its own (a new session re-reads botocore's JSON models); the tables themselves
    cost milliseconds."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws  # noqa: F401 — moto hooks every client made after its import

        from local.template import load_template

        self.boto = boto3.session.Session()
        self.dynamodb_client = self.boto.client("dynamodb")
        self.sqs = self.boto.client("sqs")
        self.dynamodb = self.boto.resource("dynamodb")
        self.template = load_template()

    @contextmanager
    def fresh(self) -> Iterator[None]:
        """moto started exactly as `with mock_aws():` starts it, every backend reset, so each
        test sees empty tables and queues and nothing another test left; handlers imported
        inside share the session (boto3's default session, which mock_aws resets to None)."""
        import boto3
        from moto import mock_aws

        with mock_aws():
            boto3.DEFAULT_SESSION = self.boto
            yield


_MOTO: list[_MotoSession] = []


def moto_session() -> _MotoSession:
    if not _MOTO:
        _MOTO.append(_MotoSession())
    return _MOTO[0]


class AwsWorld:
    """moto's AWS with every table and queue of template.yaml; handlers load with the
    environment the template gives them."""

    def __init__(self) -> None:
        from local.template import create_queues, create_tables

        moto = moto_session()
        create_tables(moto.dynamodb_client, moto.template)
        self.sqs = moto.sqs
        self.queue_urls = create_queues(self.sqs, moto.template)
        self.template = moto.template.with_refs(self.queue_urls)
        self.dynamodb = moto.dynamodb

    def handler(self, name: str, logical_id: str, **env: str) -> ModuleType:
        return load_handler(name, {**self.template.functions()[logical_id].environment, **env})

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_urls["BillingDeadLetterQueue"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages  # type: ignore[no-any-return]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every item of every table, as DynamoDB returns it (queues must be empty: a snapshot
        that silently dropped a message would restore a different world)."""
        client = moto_session().dynamodb_client
        for url in self.queue_urls.values():
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            assert attributes["ApproximateNumberOfMessages"] == "0", f"{url} holds messages"
        tables: dict[str, list[dict[str, Any]]] = {}
        for name in self.template.tables():
            items: list[dict[str, Any]] = []
            request: dict[str, Any] = {"TableName": name}
            while True:
                page = client.scan(**request)
                items += page["Items"]
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            tables[name] = items
        return tables

    def restore(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Put a snapshot's items into this world's (fresh, empty) tables."""
        client = moto_session().dynamodb_client
        for name, items in tables.items():
            for start in range(0, len(items), 25):
                chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                unprocessed = client.batch_write_item(RequestItems={name: chunk})
                assert not unprocessed.get("UnprocessedItems"), unprocessed

    def once(self, built: dict[str, Any], key: str, build: Callable[[], T]) -> T:
        """`build()`'s world for this test, built only once per `built` cache (a module-scoped
        `aws_built`): the first test runs `build` and snapshots the tables; a later test gets its
        fresh tables filled from that snapshot and the same returned object (copy it before
        changing it). Rebuilt after BUILT_MAX_AGE seconds, so a world that holds times relative
        to its build ("in three minutes") is never read much later than a per-test build
        would be. Only for a build that depends on nothing but the tables it writes."""
        entry = built.get(key)
        if entry is None or time.monotonic() - entry[0] > BUILT_MAX_AGE:
            value = build()
            built[key] = (time.monotonic(), value, self.snapshot())
            return value
        self.restore(entry[2])
        return entry[1]  # type: ignore[no-any-return]


BUILT_MAX_AGE = 60.0


@pytest.fixture(scope="session")
def stack() -> Any:
    """One local stack for the whole session, shared by the e2e and fuzz tests."""
    from tests.stack import running_stack

    with running_stack() as running:
        yield running
