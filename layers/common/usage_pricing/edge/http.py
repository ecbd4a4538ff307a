"""The HTTP edge every handler shares: its routes, each declared once with its scopes; the checks
made before routing (API version, body size, caller, scope, media type, the body parsed by the
one safe JSON parser); and the one mapping from errors to RFC 9457 application/problem+json
(usage_pricing.edge.problems).

A handler declares its routes on an `Api`, in the gateway's spelling (as template.yaml writes
them), and nowhere else:

    app = Api()

    @app.get("/usage/tasks/{taskID}/cost", scopes=("apps:read", "billing:read"))
    def task_cost(taskID: str) -> TaskCost: ...

    def lambda_handler(event, context):
        return app.handle(event, context)

Fail closed: a request reaches a function only through a declaration, and a declaration cannot
be made without scopes. A gateway route this function serves but does not declare is refused
(403); a path nothing declares is 404 (401 first, without a key). The one exception is declared as
such: `app.public_get(path)` for a page that holds no data (the dashboard), which template.yaml
serves without the authorizer and which answers the same to everyone."""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, NamedTuple, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from usage_pricing.core.errors import (
    AnswerTooLargeError,
    FieldIssue,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    UsagePricingError,
    join_issues,
)
from usage_pricing.core.jsonsafe import parse_json
from usage_pricing.core.limits import MAX_BODY_BYTES, MAX_RESPONSE_BYTES
from usage_pricing.core.observability import logger
from usage_pricing.core.scopes import Caller
from usage_pricing.edge.problems import (
    PROBLEM_JSON,
    problem_document,
    problem_event_response,
    problem_response,
)

API_VERSION = "2"


def field_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as the dotted field a client sent ("output_meta.outputs.0.count"):
    the request-part prefix and the union tag pydantic inserts after a list index are dropped."""
    from usage_pricing.usage.meta import META_TYPES  # noqa: PLC0415 — only on a 400, and not every handler has meta

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


# A query parameter given twice reaches the resolver as a list (API Gateway joins the values
# with commas); for a parameter that takes one value, pydantic's own words ("Input should be a
# valid string") would blame the value. Errors about a list as a whole keep theirs.
REPEATED = "is given more than once; give it once"
_LIST_ERRORS = frozenset({"too_long", "too_short"})


def issues_from_validation(errors: Sequence[Mapping[str, Any]]) -> list[FieldIssue]:
    issues = []
    for error in errors:
        message = str(error.get("msg", "invalid value"))
        loc = error.get("loc", ())
        field = field_path(loc)
        given = error.get("input")
        if error.get("type") == "json_invalid":
            field, message = "body", "body is not valid JSON"
        elif error.get("type") == "missing" and field == "body":
            message = "a JSON body is required"
        elif (
            len(loc) == 2
            and loc[0] == "query"
            and isinstance(given, list)
            and len(given) > 1
            and error.get("type") not in _LIST_ERRORS
        ):
            message = REPEATED
        issues.append(FieldIssue(field, message))
    return issues


def invalid_request(issues: list[FieldIssue]) -> InvalidRequestError:
    return InvalidRequestError(f"invalid request: {join_issues(issues, shown=3)}", errors=issues)


Handler = TypeVar("Handler", bound=Callable[..., Any])
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
# Media types are case-insensitive (RFC 9110 §8.3.1). JSON is application/json or any
# application/<subtype>+json (RFC 6839's structured syntax suffix: problem+json, merge-patch+json).
_JSON_MEDIA_TYPE = re.compile(r"application/(?:json|[!#$&^_.+\w-]+\+json)")
JSON_MEDIA_TYPES = "application/json or application/<subtype>+json, UTF-8"


@functools.cache
def _path_pattern(path: str) -> re.Pattern[str]:
    parts = _PATH_PARAMETER.split(path)
    # split alternates literal text and parameter names: escape the one, capture the other
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else "[^/]+" for index, part in enumerate(parts))
    )


class Route(NamedTuple):
    """One declared route: method and path exactly as the gateway (template.yaml) spells them,
    and the scopes any one of which opens it."""

    method: str
    path: str
    scopes: tuple[str, ...]
    public: bool = False  # needs no key: declared only through Api.public_get

    @property
    def key(self) -> str:
        """The gateway's route key, e.g. "GET /usage/tasks/{taskID}/cost"."""
        return f"{self.method} {self.path}"

    @property
    def rule(self) -> str:
        """The same path in the resolver's spelling ("/usage/tasks/<taskID>/cost")."""
        return _PATH_PARAMETER.sub(r"<\1>", self.path)

    def matches(self, method: str, path: str) -> bool:
        if method.upper() != self.method:
            return False
        return _path_pattern(self.path).fullmatch(path) is not None


class Admitted(NamedTuple):
    """A request that passed every check made before routing."""

    caller: Caller | None  # None on a public route only
    route: Route
    body: Any = None  # the parsed JSON body, None when there was none


def _new_resolver(json_body: Callable[[str], Any]) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=json_body)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        return problem_response(invalid_request(issues_from_validation(error.errors())))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(_error: RequestUnsupportedContentType) -> Response[str]:
        # Unreachable after check_request normalizes the header; kept so it can never be a 500.
        return problem_response(_unsupported_media_type("unsupported"))

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


class Api:
    """One function's HTTP routes (see the module docstring) and the edge in front of them."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._body: tuple[str, Any] | None = None
        self.resolver = _new_resolver(self._json_body)

    def route(
        self, method: str, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        """Declare a route and its scopes (any one of them opens it), and register the
        function for it. `options` go to the resolver (summary, responses, ...)."""
        if isinstance(scopes, str) or not scopes or not all(scopes):
            raise ValueError(f"{method} {path}: declare the scopes as a non-empty sequence")
        return self._declare(Route(method.upper(), path, tuple(scopes)), options)

    def public_get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        """Declare a GET route that needs no key (template.yaml gives it no authorizer). Only for
        what is the same for everyone and guarded by nothing: the dashboard's page and files."""
        return self._declare(Route("GET", path, (), public=True), options)

    def _declare(self, declared: Route, options: dict[str, Any]) -> Callable[[Handler], Handler]:
        if declared.key in self.routes:
            raise ValueError(f"{declared.key} is declared twice")
        self.routes[declared.key] = declared
        register = self.resolver.route(declared.rule, declared.method, **options)

        def decorate(func: Handler) -> Handler:
            register(func)
            return func

        return decorate

    def get(
        self, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route("GET", path, scopes=scopes, **options)

    def post(
        self, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route("POST", path, scopes=scopes, **options)

    def put(
        self, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, scopes=scopes, **options)

    def patch(
        self, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, scopes=scopes, **options)

    def delete(
        self, path: str, *, scopes: Sequence[str], **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, scopes=scopes, **options)

    @property
    def caller(self) -> Caller:
        """The caller of the request being handled."""
        return self.resolver.context["caller"]  # type: ignore[no-any-return]

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._body = None
        try:
            admitted = check_request(event, self.routes)
        except UsagePricingError as error:
            return problem_event_response(error)
        if admitted.body is not None:
            self._body = (_body_text(event), admitted.body)
        self.resolver.append_context(caller=admitted.caller)
        try:
            return bounded_response(self.resolver.resolve(event, context))
        finally:
            self._body = None

    def _json_body(self, text: str) -> Any:
        """The resolver's JSON parser: the body check_request already parsed, never a second
        parser with other rules."""
        if self._body is not None and self._body[0] == text:
            return self._body[1]
        return parse_json(text)


# json.dumps writes a character as at most 12 bytes: \uXXXX for one of the Basic Multilingual
# Plane, a surrogate pair \uXXXX\uXXXX for one beyond it (an emoji is one character of a Python
# str, and 12 bytes escaped). A body shorter than this cannot make the proxy result exceed
# MAX_RESPONSE_BYTES, and is not measured. (At 6 a body of emoji up to 5.1 MB escaped passed
# unmeasured, and Lambda refused up to 10 MB of them: a gateway 502 with no problem.)
_JSON_CHAR_BYTES = 12
_UNMEASURED = (MAX_RESPONSE_BYTES - 64 * 1024) // _JSON_CHAR_BYTES


def bounded_response(result: dict[str, Any]) -> dict[str, Any]:
    """`result`, or a 422 problem when Lambda would refuse to return it (over 6 MB as JSON: the
    client would get a gateway 502 and nothing to act on). An answer that grows with what a team
    has stored is shaped to stay below this; this is the edge's guarantee for every route."""
    body = result.get("body")
    if not isinstance(body, str) or len(body) <= _UNMEASURED:
        return result
    size = len(json.dumps(result))
    if size <= MAX_RESPONSE_BYTES:
        return result
    logger.warning("answer too large to return", extra={"bytes": size, "limit": MAX_RESPONSE_BYTES})
    return problem_event_response(
        AnswerTooLargeError(
            f"this answer would be {size:,} bytes, more than the {MAX_RESPONSE_BYTES:,} a "
            "response may carry: ask for less (a shorter window, a coarser bucket, fewer apps "
            "or a smaller page)"
        )
    )


def _header(event: Mapping[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def _body_text(event: Mapping[str, Any]) -> str:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body).decode("utf-8")
    return str(body)


def _unsupported_media_type(media_type: str) -> UnsupportedMediaTypeError:
    return UnsupportedMediaTypeError(
        f"request bodies are JSON; got Content-Type {media_type}",
        errors=[FieldIssue("Content-Type", f"must be {JSON_MEDIA_TYPES}")],
    )


def check_media_type(header: str | None) -> None:
    """Absent, application/json, or application/<subtype>+json, in any letter case, with at
    most a UTF-8 charset; anything else is a 415."""
    if header is None:
        return
    media_type, *parameters = (part.strip() for part in header.split(";"))
    media_type = media_type.lower()
    if not _JSON_MEDIA_TYPE.fullmatch(media_type):
        raise _unsupported_media_type(media_type or "(empty)")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise _unsupported_media_type(f"{media_type}; {parameter}")


def _normalize_content_type(event: dict[str, Any]) -> None:
    """One spelling for the resolver behind the edge, whatever the client sent (the resolver
    matches "application/json" case-sensitively and knows no +json types)."""
    headers = event.get("headers")
    if not isinstance(headers, dict):
        headers = event["headers"] = {}
    for key in [k for k in headers if k.lower() == "content-type"]:
        del headers[key]
    headers["content-type"] = "application/json"


def route_for(event: Mapping[str, Any], routes: Mapping[str, Route]) -> Route:
    """The declaration this request reaches. A concrete gateway route key must be declared
    (fail closed: 403); the fallback ($default) finds a declaration by method and path, or the
    request is for no route (404)."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "").upper()
    path = str(event.get("rawPath") or http.get("path") or "")
    route_key = str(event.get("routeKey") or "$default")
    if route_key == "$default":
        declared = next((r for r in routes.values() if r.matches(method, path)), None)
        if declared is None:
            raise NotFoundError(f"no route for {method} {path}")
        return declared
    declared = routes.get(route_key)
    if declared is None:
        raise ForbiddenError(f"route {route_key} declares no scope: it is closed to every key")
    if not declared.matches(method, path):
        raise NotFoundError(f"no route for {method} {path}")
    return declared


def check_request(event: dict[str, Any], routes: Mapping[str, Route]) -> Admitted:
    """Everything decided before routing, in order: version, size, who calls (401), whether
    their key opens the route (404 for no route, 403), media type (415) and the body (400).
    A public route's gateway route key skips the caller and the body: it takes neither."""
    version = _header(event, "x-api-version")
    if version is not None and version.strip() != API_VERSION:
        raise InvalidRequestError(
            f"unsupported API version {version!r}; this API serves version {API_VERSION}",
            errors=[FieldIssue("X-API-Version", f"must be {API_VERSION} or absent")],
        )
    body = event.get("body") or ""
    try:
        raw = (
            base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
        )
    except ValueError:
        raise InvalidRequestError(
            "request body is not valid base64", errors=[FieldIssue("body", "must be base64")]
        ) from None
    size = len(raw)
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"request body is {size} bytes; the limit is {MAX_BODY_BYTES} bytes",
            errors=[FieldIssue("body", f"must be at most {MAX_BODY_BYTES} bytes")],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError(
            "request body is not UTF-8 text", errors=[FieldIssue("body", "must be UTF-8 JSON")]
        ) from None
    public = routes.get(str(event.get("routeKey") or ""))
    if public is not None and public.public:
        _normalize_content_type(event)
        return Admitted(None, route_for(event, routes))
    authorizer = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda")
    caller = Caller.from_authorizer(authorizer)
    route = route_for(event, routes)
    caller.require(*route.scopes)
    parsed = None
    if text:
        # Without this, a form-encoded body (curl -d's default) would be parsed as a form.
        check_media_type(_header(event, "content-type"))
        parsed = parse_json(text)
    _normalize_content_type(event)
    return Admitted(caller, route, parsed)
