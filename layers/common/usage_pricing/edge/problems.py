"""RFC 9457 problem documents: the one mapping from a typed error (usage_pricing.core.errors) to
`application/problem+json`, as the handlers answer and as the local stack answers for routes of
its own. `type` is a URN built from the title, so a client can switch on it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response

from usage_pricing.core.errors import FieldIssue, UsagePricingError

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:usage-pricing:problem:"
# A problem is bounded whatever the request held: a message may echo what a client sent (a task
# id in a path, a route's path, a field's name), so each text is cut to a fixed length, marked
# with "…", and at most MAX_LISTED field issues are listed (the detail counts the rest).
MAX_DETAIL = 1_000
MAX_ISSUE_TEXT = 300
MAX_LISTED = 100


def bounded(text: str, limit: int) -> str:
    """`text`, or its first `limit` - 1 characters and "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_document(
    status: int, title: str, detail: str, errors: Sequence[FieldIssue] = ()
) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": bounded(detail, MAX_DETAIL),
    }
    if errors:
        document["errors"] = [
            {
                "field": bounded(e.field, MAX_ISSUE_TEXT),
                "message": bounded(e.message, MAX_ISSUE_TEXT),
            }
            for e in errors[:MAX_LISTED]
        ]
    return document


def problem_for(error: UsagePricingError) -> dict[str, Any]:
    document = problem_document(error.status, error.title, error.detail, error.errors)
    for name, value in error.extensions.items():  # e.g. a 402's refusing `budgets`
        document.setdefault(name, value)
    return document


def problem_response(error: UsagePricingError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem_for(error)),
        headers=error.headers,
    )


def problem_event_response(error: UsagePricingError) -> dict[str, Any]:
    """The same problem as an HTTP API (payload 2.0) Lambda proxy result."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": PROBLEM_JSON, **error.headers},
        "body": json.dumps(problem_for(error)),
        "isBase64Encoded": False,
    }
