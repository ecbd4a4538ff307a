"""The HTTP edge every handler shares: API version, body size and caller checks before routing,
and the one mapping from errors to RFC 9457 application/problem+json."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query

from .buckets import RangeName
from .errors import (
    FieldIssue,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    UsagePricingError,
)
from .limits import MAX_BODY_BYTES
from .observability import logger
from .scopes import Caller

# Query parameters shared by the spend routes (breakdown and summary).
RangeQuery = Annotated[RangeName, Query(description="1h, 1d, 7d, 30d or 90d")]
TzQuery = Annotated[str | None, Query(description="IANA time zone for day buckets (default UTC)")]

API_VERSION = "2"
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:usage-pricing:problem:"


def problem_document(
    status: int, title: str, detail: str, errors: Sequence[FieldIssue] = ()
) -> dict[str, Any]:
    slug = title.lower().replace(" ", "-")
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        document["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return document


def problem_for(error: UsagePricingError) -> dict[str, Any]:
    return problem_document(error.status, error.title, error.detail, error.errors)


def problem_response(error: UsagePricingError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem_for(error)),
    )


def problem_event_response(error: UsagePricingError) -> dict[str, Any]:
    """The same problem as an HTTP API (payload 2.0) Lambda proxy result."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": json.dumps(problem_for(error)),
        "isBase64Encoded": False,
    }


def field_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as the dotted field a client sent ("output_meta.outputs.0.count"):
    the request-part prefix and the union tag pydantic inserts after a list index are dropped."""
    from .meta import META_TYPES  # noqa: PLC0415 — only on a 400, and not every handler has meta

    parts: list[str] = []
    previous: Any = None
    for index, part in enumerate(loc):
        if index == 0 and part in ("body", "query", "path", "header"):
            previous = part
            continue
        if isinstance(previous, int) and part in META_TYPES:
            previous = part
            continue
        if isinstance(part, str) and part.startswith("function-after["):
            continue
        parts.append(str(part))
        previous = part
    return ".".join(parts) or "body"


def issues_from_validation(errors: Sequence[Mapping[str, Any]]) -> list[FieldIssue]:
    issues = []
    for error in errors:
        message = str(error.get("msg", "invalid value"))
        field = field_path(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            field, message = "body", "body is not valid JSON"
        elif error.get("type") == "missing" and field == "body":
            message = "a JSON body is required"
        issues.append(FieldIssue(field, message))
    return issues


def invalid_request(issues: list[FieldIssue]) -> InvalidRequestError:
    summary = "; ".join(f"{i.field}: {i.message}" for i in issues[:3])
    more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
    return InvalidRequestError(f"invalid request: {summary}{more}", errors=issues)


def new_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        return problem_response(invalid_request(issues_from_validation(error.errors())))

    @app.exception_handler(UsagePricingError)
    def _domain(error: UsagePricingError) -> Response[str]:
        return problem_response(error)

    @app.not_found
    def _no_route(_error: Exception) -> Response[str]:
        return problem_response(NotFoundError("no such route"))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return Response(
            status_code=500,
            content_type=PROBLEM_JSON,
            body=json.dumps(
                problem_document(500, HTTPStatus(500).phrase, "an unexpected error occurred")
            ),
        )

    return app


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def check_request(event: Mapping[str, Any], route_scopes: Mapping[str, Sequence[str]]) -> Caller:
    """Everything decided before routing: version, size, who calls, and whether their key may."""
    version = _header(event, "x-api-version")
    if version is not None and version.strip() != API_VERSION:
        raise InvalidRequestError(
            f"unsupported API version {version!r}; this API serves version {API_VERSION}",
            errors=[FieldIssue("X-API-Version", f"must be {API_VERSION} or absent")],
        )
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    size = len(raw)
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes",
            errors=[FieldIssue("body", f"must be at most {MAX_BODY_BYTES} bytes")],
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError(
            "request body is not UTF-8 text", errors=[FieldIssue("body", "must be UTF-8 JSON")]
        ) from None
    media_type = (_header(event, "content-type") or "").split(";")[0].strip().lower()
    if (
        body
        and media_type
        and not (media_type == "application/json" or media_type.endswith("+json"))
    ):
        # Without this, a form-encoded body (curl -d's default) would be parsed as a form.
        raise UnsupportedMediaTypeError(
            f"request bodies are JSON; got Content-Type {media_type}",
            errors=[FieldIssue("Content-Type", "must be application/json")],
        )
    authorizer = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda")
    caller = Caller.from_authorizer(authorizer)
    required = route_scopes.get(str(event.get("routeKey", "")))
    if required:
        caller.require(*required)
    return caller


def serve(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: Any,
    route_scopes: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    try:
        caller = check_request(event, route_scopes)
    except UsagePricingError as error:
        return problem_event_response(error)
    app.append_context(caller=caller)
    return app.resolve(event, context)


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    return app.context["caller"]  # type: ignore[no-any-return]
