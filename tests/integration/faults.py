"""Fault injection around the DynamoDB client the ledger uses: throttling, transaction
conflicts, and timeouts before or after the write reached the table."""

from __future__ import annotations

import random
import threading
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError


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
