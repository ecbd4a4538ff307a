"""The storage edge: DynamoDB's ClientErrors become typed domain errors here and nowhere else."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConflictError, StorageError, UsagePricingError

RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate_client_error(error: ClientError, action: str) -> UsagePricingError:
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return ConflictError(f"{action}: the item changed or already exists")
    return StorageError(f"{action} failed: {code or 'unknown error'}", retryable=code in RETRYABLE)


def translate_transport_error(error: BotoCoreError, action: str) -> StorageError:
    """A timeout or a dropped connection: the request may or may not have been applied, so the
    caller must retry an idempotent operation (every ledger write is guarded by its key)."""
    return StorageError(f"{action} failed: {type(error).__name__}", retryable=True)
