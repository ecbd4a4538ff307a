"""The storage edge: every DynamoDB call of every repository runs inside `storage_errors`, so
botocore's errors become typed domain errors here and nowhere else.

- a failed condition (ConditionalCheckFailedException, or a cancelled transaction whose reasons
  include ConditionalCheckFailed) becomes the caller's own error (`on_condition`), else a 409;
- a transient failure becomes a retryable StorageError (503 with Retry-After; billing leaves the
  message on the queue): throttling, exhausted throughput, DynamoDB's internal or 5xx errors, a
  transaction conflict, and every transport error (a timeout, a refused or dropped connection);
- any other ClientError or botocore error (a missing table, denied access, a malformed request)
  becomes a non-retryable StorageError (503 without Retry-After, dead-lettered in billing).

tests/unit/test_storage_edge.py holds every call in storage/ to this rule by reading the source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    IncompleteReadError,
)

from usage_pricing.core.errors import ConflictError, StorageError, UsagePricingError

RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
# Transport failures: the request may or may not have been applied, so the caller must retry an
# idempotent operation (every ledger write is guarded by its key).
TRANSIENT_TRANSPORT = (
    HTTPClientError,
    ConnectionError,
    IncompleteReadError,
    CredentialRetrievalError,
)
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: ClientError) -> list[str]:
    return [str(r.get("Code")) for r in error.response.get("CancellationReasons", []) or []]


def is_condition_failure(error: ClientError) -> bool:
    code = error_code(error)
    return code == CONDITION_FAILED or (
        code == TRANSACTION_CANCELED and "ConditionalCheckFailed" in cancellation_reasons(error)
    )


def is_transient(error: ClientError) -> bool:
    code = error_code(error)
    if code in RETRYABLE:
        return True
    if code == TRANSACTION_CANCELED:
        return "TransactionConflict" in cancellation_reasons(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and status >= 500


def translate_client_error(error: ClientError, action: str) -> UsagePricingError:
    code = error_code(error)
    if is_condition_failure(error):
        return ConflictError(f"{action}: the item changed or already exists")
    return StorageError(
        f"{action} failed: {code or 'unknown error'}", retryable=is_transient(error)
    )


def translate_transport_error(error: BotoCoreError, action: str) -> StorageError:
    return StorageError(
        f"{action} failed: {type(error).__name__}",
        retryable=isinstance(error, TRANSIENT_TRANSPORT),
    )


@contextmanager
def storage_errors(
    action: str, *, on_condition: Callable[[], UsagePricingError] | None = None
) -> Iterator[None]:
    """Run DynamoDB calls; translate what they raise (see the module). `action` names the
    operation in the error ("read API key failed: ThrottlingException")."""
    try:
        yield
    except ClientError as error:
        if on_condition is not None and is_condition_failure(error):
            raise on_condition() from error
        raise translate_client_error(error, action) from error
    except BotoCoreError as error:
        raise translate_transport_error(error, action) from error


def to_dynamo(value: Any) -> Any:
    """Plain JSON-able values for DynamoDB: floats become Decimals (exactly as printed)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """DynamoDB's Decimals back to ints (whole) or floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value
