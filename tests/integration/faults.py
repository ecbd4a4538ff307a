"""Fault injection around DynamoDB: the client the ledger uses (throttling, transaction
conflicts, and timeouts before or after the write reached the table), and a resource whose every
call fails, for the storage error edge."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


def client_error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": code}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


FAULTS = {
    "throttle": lambda: client_error("ThrottlingException"),
    "conflict": lambda: client_error(
        "TransactionCanceledException", ["None", "TransactionConflict", "None", "None", "None"]
    ),
    "timeout_before": lambda: ConnectTimeoutError(endpoint_url="http://dynamodb"),
}


class FaultyClient:
    """Delegates to the real client; transact_write_items fails as planned. "timeout_after"
    applies the write and then times out, as a lost response would."""

    def __init__(
        self,
        real: Any,
        plan: list[str] | None = None,
        *,
        rates: dict[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        self.real = real
        self.plan = list(plan or [])
        self.rates = rates or {}
        self.random = random.Random(seed)
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()

    def _next_fault(self) -> str | None:
        with self._lock:
            if self.plan:
                return self.plan.pop(0) or None
            roll = self.random.random()
            for fault, rate in self.rates.items():
                if roll < rate:
                    return fault
                roll -= rate
            return None

    def transact_write_items(self, **kwargs: Any) -> Any:
        fault = self._next_fault()
        if fault:
            with self._lock:
                self.injected[fault] = self.injected.get(fault, 0) + 1
        if fault == "timeout_after":
            self.real.transact_write_items(**kwargs)
            raise ReadTimeoutError(endpoint_url="http://dynamodb")
        if fault:
            raise FAULTS[fault]()
        return self.real.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


TRANSPORT_FAULTS: dict[str, Callable[[], Exception]] = {
    "throttled": lambda: client_error("ThrottlingException"),
    "throughput": lambda: client_error("ProvisionedThroughputExceededException"),
    "internal": lambda: client_error("InternalServerError"),
    "endpoint": lambda: EndpointConnectionError(endpoint_url="http://dynamodb"),
    "read_timeout": lambda: ReadTimeoutError(endpoint_url="http://dynamodb"),
    "connection_closed": lambda: ConnectionClosedError(endpoint_url="http://dynamodb"),
}
"""Storage failures that may pass: 503 with Retry-After."""
PERMANENT_FAULTS: dict[str, Callable[[], Exception]] = {
    "no_table": lambda: client_error("ResourceNotFoundException"),
    "denied": lambda: client_error("AccessDeniedException"),
}
"""Storage failures a retry will not fix: 503 without Retry-After."""


class _Failing:
    """Every DynamoDB call raises the planned error; the names a repository reads at
    construction (name, meta.client) still work."""

    def __init__(self, fault: Callable[[], Exception], name: str = "") -> None:
        self._fault = fault
        self.name = name
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation.startswith("__"):
            raise AttributeError(operation)

        def fail(*_args: Any, **_kwargs: Any) -> Any:
            self.calls.append(operation)
            raise self._fault()

        return fail


class FailingDynamoDB:
    """A DynamoDB resource whose tables and client fail every call: inject it through the
    composition root (Wiring(dynamodb=...) or Wiring.resource_factory)."""

    def __init__(self, fault: Callable[[], Exception]) -> None:
        self.fault = fault
        self.client = _Failing(fault)
        self.tables: dict[str, _Failing] = {}

    def Table(self, name: str) -> Any:  # noqa: N802 — boto3's name
        table = self.tables.setdefault(name, _Failing(self.fault, name))
        table.__dict__["meta"] = SimpleNamespace(client=self.client)
        return table

    def calls(self) -> list[str]:
        return [c for t in self.tables.values() for c in t.calls] + self.client.calls
