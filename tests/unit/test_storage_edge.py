"""One storage error edge (docs/api.md): every DynamoDB call of every repository maps botocore's
errors the same way, through storage.dynamo.storage_errors."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from tests.conftest import ROOT
from tests.integration.faults import client_error
from usage_pricing import ConflictError, NotFoundError, StorageError
from usage_pricing.storage.dynamo import storage_errors

LAYER = ROOT / "layers" / "common" / "usage_pricing"
DYNAMODB_CALLS = frozenset(
    {
        "get_item",
        "put_item",
        "update_item",
        "delete_item",
        "query",
        "scan",
        "batch_get_item",
        "batch_write_item",
        "transact_get_items",
        "transact_write_items",
        "execute_statement",
    }
)


def raised_by(error: Exception, **kwargs: Any) -> Exception:
    with pytest.raises(Exception) as raised, storage_errors("read thing", **kwargs):
        raise error
    return raised.value


@pytest.mark.parametrize(
    ("error", "retryable", "detail"),
    [
        (client_error("ThrottlingException"), True, "ThrottlingException"),
        (client_error("ProvisionedThroughputExceededException"), True, "Provisioned"),
        (client_error("RequestLimitExceeded"), True, "RequestLimitExceeded"),
        (client_error("InternalServerError"), True, "InternalServerError"),
        (client_error("ServiceUnavailable"), True, "ServiceUnavailable"),
        (client_error("TransactionInProgressException"), True, "TransactionInProgress"),
        (client_error("TransactionCanceledException", ["None", "TransactionConflict"]), True, ""),
        (client_error("SomethingNew"), False, "SomethingNew"),
        (client_error("ResourceNotFoundException"), False, "ResourceNotFoundException"),
        (client_error("AccessDeniedException"), False, "AccessDeniedException"),
        (client_error("ValidationException"), False, "ValidationException"),
        (client_error("TransactionCanceledException", ["None", "ValidationError"]), False, ""),
        (EndpointConnectionError(endpoint_url="http://dynamodb"), True, "EndpointConnection"),
        (ConnectTimeoutError(endpoint_url="http://dynamodb"), True, "ConnectTimeoutError"),
        (ReadTimeoutError(endpoint_url="http://dynamodb"), True, "ReadTimeoutError"),
        (ConnectionClosedError(endpoint_url="http://dynamodb"), True, "ConnectionClosedError"),
        (NoCredentialsError(), False, "NoCredentialsError"),
        (ParamValidationError(report="bad key"), False, "ParamValidationError"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_storage_failures_become_storage_errors(
    error: Exception, retryable: bool, detail: str
) -> None:
    """Given a DynamoDB call that fails, when it runs inside storage_errors, then it is a
    StorageError: a 503 with Retry-After when it may succeed on retry, without one otherwise."""
    translated = raised_by(error)
    assert type(translated) is StorageError
    assert isinstance(translated, StorageError)  # for mypy
    assert translated.retryable is retryable
    assert translated.status == 503
    assert translated.detail.startswith("read thing failed: ") and detail in translated.detail
    assert translated.headers == ({"Retry-After": "1"} if retryable else {})
    assert translated.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        client_error("ConditionalCheckFailedException"),
        client_error("TransactionCanceledException", ["ConditionalCheckFailed", "None"]),
        client_error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]),
    ],
)
def test_a_failed_condition_is_the_callers_error(error: Exception) -> None:
    assert isinstance(raised_by(error), ConflictError)
    mapped = raised_by(error, on_condition=lambda: NotFoundError("no such thing"))
    assert isinstance(mapped, NotFoundError) and mapped.detail == "no such thing"


def test_other_errors_pass_through() -> None:
    assert isinstance(raised_by(KeyError("x")), KeyError)


def test_what_the_calls_return_is_untouched() -> None:
    with storage_errors("read thing"):
        value = 42
    assert value == 42


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside `with storage_errors(...)`, or a try that handles both ClientError and
    BotoCoreError (the ledger's transaction loop, which translates them itself)."""
    current = node
    while current in parents:
        current = parents[current]
        if isinstance(current, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", None) == "storage_errors"
            for item in current.items
        ):
            return True
        if isinstance(current, ast.Try):
            handled = {
                getattr(handler.type, "id", None) for handler in current.handlers if handler.type
            }
            if {"ClientError", "BotoCoreError"} <= handled:
                return True
    return False


def dynamodb_calls() -> list[tuple[str, int, str, bool]]:
    found = []
    for source in sorted(LAYER.rglob("*.py")):
        tree = ast.parse(source.read_text())
        parents = {
            child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in DYNAMODB_CALLS
            ):
                name = source.relative_to(LAYER).as_posix()
                found.append((name, node.lineno, node.func.attr, _guarded(node, parents)))
    return found


def test_every_dynamodb_call_in_storage_runs_inside_the_edge() -> None:
    """Given every module of the layer (each domain keeps its repository), when its source is
    read, then each DynamoDB call sits inside storage_errors: a new call added without it fails
    here, not in production."""
    calls = dynamodb_calls()
    assert {name for name, *_ in calls} >= {
        "edge/key_store.py",
        "spend/aggregate_reader.py",
        "spend/task_index.py",
        "ledger/repository.py",
        "pricing/repository.py",
    }
    unguarded = [f"{name}:{line} {call}" for name, line, call, guarded in calls if not guarded]
    assert unguarded == []


def test_the_edge_check_sees_an_unguarded_call() -> None:
    tree = ast.parse("def f(table):\n    return table.get_item(Key={})\n")
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert not _guarded(call, parents)
