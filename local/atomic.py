"""DynamoDB applies each request, and each transaction, atomically; moto's in-memory backend
takes no locks, so two threads can both pass a condition check before either writes (two
concurrent duplicate charges would both succeed). Serializing moto's DynamoDB operations behind
one lock restores the guarantee the ledger relies on. Used by the local stack and the tests."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()
OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "transact_write_items",
    "transact_get_items",
    "batch_write_item",
)


def serialize_dynamodb() -> None:
    for name in OPERATIONS:
        original = getattr(DynamoDBBackend, name, None)
        if original is None or getattr(original, "serialized", False):
            continue
        setattr(DynamoDBBackend, name, _locked(original))


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    wrapper.serialized = True  # type: ignore[attr-defined]
    return wrapper
