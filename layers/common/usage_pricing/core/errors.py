"""Typed domain errors. Each carries the HTTP status it maps to, so the mapping lives in one place
(`usage_pricing.edge.http`) and the domain never imports web code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

# Value records here and across the layer are NamedTuples or plain classes, not dataclasses: a
# dataclass execs its generated methods at import (~0.5 ms each), which every cold start pays
# (docs/operations.md).


class FieldIssue(NamedTuple):
    field: str
    message: str


def join_issues(issues: Sequence[FieldIssue], *, shown: int | None = None) -> str:
    """Field issues as one line of a detail or a dead letter's reason: "field: message; …". With
    `shown`, only the first `shown` issues, then "(and N more)" when there are others. An issue
    of no one field (a rule across fields) is its message alone. The one way the layer words a
    list of issues in a message."""
    text = "; ".join(f"{i.field}: {i.message}" if i.field else i.message for i in issues[:shown])
    if shown is not None and len(issues) > shown:
        text += f" (and {len(issues) - shown} more)"
    return text


class UsagePricingError(Exception):
    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, *, errors: list[FieldIssue] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the error's response carries besides Content-Type."""
        return {}

    @property
    def extensions(self) -> dict[str, object]:
        """Members the problem document carries besides type, title, status, detail and errors
        (RFC 9457 extension members, e.g. the budgets that refused a hold)."""
        return {}


class InvalidRequestError(UsagePricingError):
    status = 400
    title = "Invalid request"


class PayloadTooLargeError(UsagePricingError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaTypeError(UsagePricingError):
    status = 415
    title = "Unsupported media type"


class UnauthorizedError(UsagePricingError):
    status = 401
    title = "Unauthorized"


class ForbiddenError(UsagePricingError):
    status = 403
    title = "Forbidden"


class NotFoundError(UsagePricingError):
    status = 404
    title = "Not found"


class AnswerTooLargeError(UsagePricingError):
    """A read answer would read more than its budget of items (docs/api.md, every request is
    bounded): the caller narrows it (a shorter window, a coarser bucket, fewer apps)."""

    status = 422
    title = "Answer too large"


class ConflictError(UsagePricingError):
    status = 409
    title = "Conflict"


class StorageError(UsagePricingError):
    """A DynamoDB failure, translated at the storage edge (`storage.dynamo.storage_errors`);
    callers retry the retryable ones. Either kind is a 503, the only 5xx the API answers: a
    transient one (throttling, an internal error, a timeout or a dropped connection) with
    Retry-After, any other (a missing table, denied access: an operator's problem) without."""

    status = 503
    title = "Storage unavailable"
    RETRY_AFTER_SECONDS = 1

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        super().__init__(detail)
        self.retryable = retryable

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)} if self.retryable else {}


class ConfigurationError(UsagePricingError):
    """The deployment lacks what a route needs to run safely (e.g. the secret that signs cursors):
    a 503 without Retry-After, an operator's problem. Fail closed: the route answers this problem
    rather than run without it."""

    status = 503
    title = "Service unavailable"


class FormulaError(Exception):
    """A CEL formula failed to compile or evaluate. line/column are 1-based; 0 when unknown."""

    def __init__(
        self, message: str, line: int = 0, column: int = 0, phase: str = "evaluate"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.phase = phase

    def __str__(self) -> str:
        if self.line:
            return f"{self.line}:{self.column}: {self.message}"
        return self.message
