"""The local HTTP API: template.yaml's routes and authorizer in front of the real handlers, with
API Gateway payload-format-2.0 events, on a threaded HTTP server."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from usage_pricing.edge.problems import PROBLEM_JSON, problem_document

from .emitted import LocalEmitter
from .events import LocalEventBus
from .functions import LocalFunction
from .openapi import build_openapi
from .template import Route, Template


def problem(status: int, detail: str) -> tuple[int, dict[str, str], bytes]:
    """The local stack's own answers, as the handlers write theirs (usage_pricing.edge.problems)."""
    body = problem_document(status, HTTPStatus(status).phrase, detail)
    return status, {"Content-Type": PROBLEM_JSON}, json.dumps(body).encode()


class AuthorizerCache:
    """API Gateway caches a simple-response authorizer's answer per identity source for
    ReauthorizeEvery seconds; so does the local stack."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, identity: tuple[str, ...]) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(identity)
            if entry and entry[0] > self.clock():
                return entry[1]
            return None

    def put(self, identity: tuple[str, ...], answer: dict[str, Any]) -> None:
        if self.ttl > 0:
            with self._lock:
                self._entries[identity] = (self.clock() + self.ttl, answer)


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_ip: str


class LocalApi:
    def __init__(
        self,
        template: Template,
        functions: dict[str, LocalFunction],
        local_routes: dict[tuple[str, str], Callable[[bytes], tuple[int, dict[str, str], bytes]]]
        | None = None,
    ) -> None:
        self.template = template
        self.functions = functions
        self.routes = [r for r in template.routes() if r.path != "$default"]
        self.fallback = next((r for r in template.routes() if r.path == "$default"), None)
        self.authorizer = template.authorizer()
        self.cache = AuthorizerCache(self.authorizer.ttl_seconds if self.authorizer else 0)
        self.local_routes = dict(local_routes or {})
        self.local_routes[("GET", "/openapi.json")] = self._openapi
        self._openapi_document: bytes | None = None
        self.verbose = False

    def _openapi(self, _body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self._openapi_document is None:
            self._openapi_document = json.dumps(
                build_openapi(self.template, self.functions)
            ).encode()
        return 200, {"Content-Type": "application/json"}, self._openapi_document

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, client_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        local = self.local_routes.get((method, url.path))
        if local is not None:
            return local(body)
        route, params = self._match(method, url.path)
        if route is None:
            return problem(404, f"no route for {method} {url.path}")
        request = IncomingRequest(method, url.path, url.query, headers, body, client_ip)
        event = self._event(route, params, request)
        if route.authorized and self.authorizer:
            context = self._authorize(event)
            if context is not None:
                event["requestContext"]["authorizer"] = {"lambda": context}
            elif context is None and self._has_identity(event):
                return 403, {"Content-Type": "application/json"}, b'{"message":"Forbidden"}'
        try:
            result = self.functions[route.function].invoke(event)
        except Exception as error:  # a crashed handler is a 500, as API Gateway would answer
            return problem(500, f"the {route.function} function failed: {type(error).__name__}")
        return _proxy_result(result)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return self.fallback, {}

    def _has_identity(self, event: dict[str, Any]) -> bool:
        assert self.authorizer
        return all(h in event["headers"] for h in self.authorizer.identity_headers)

    def _authorize(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The authorizer's context, or None when it denied. A request without the identity
        headers never reaches the authorizer (API Gateway answers it with a bare 401; locally the
        handler answers with its problem+json 401 instead)."""
        assert self.authorizer
        if not self._has_identity(event):
            return None
        identity = tuple(event["headers"][h] for h in self.authorizer.identity_headers)
        answer = self.cache.get(identity)
        if answer is None:
            auth_event = {
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": f"arn:aws:execute-api:local:000000000000:local/$default/{event['routeKey'].replace(' ', '')}",
                "identitySource": list(identity),
                "routeKey": event["routeKey"],
                "rawPath": event["rawPath"],
                "rawQueryString": event["rawQueryString"],
                "headers": event["headers"],
                "requestContext": {
                    k: v for k, v in event["requestContext"].items() if k != "authorizer"
                },
            }
            answer = self.functions[self.authorizer.function].invoke(auth_event)
            self.cache.put(identity, answer)
        if not answer.get("isAuthorized"):
            return None
        return dict(answer.get("context") or {})

    def _event(
        self, route: Route, params: dict[str, str], request: IncomingRequest
    ) -> dict[str, Any]:
        method, path, query = request.method, request.path, request.query
        headers, body, client_ip = request.headers, request.body, request.client_ip
        now = datetime.now(UTC)
        pairs = parse_qsl(query, keep_blank_values=True)
        query_params: dict[str, str] = {}
        for key, value in pairs:
            query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "000000000000",
                "apiId": "local",
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": "local",
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": client_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": route.route_key,
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": encoded,
        }
        if body:
            event["body"] = text
        if query_params:
            event["queryStringParameters"] = query_params
        if params:
            event["pathParameters"] = params
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        return event


def _proxy_result(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, raw


def serve(api: LocalApi, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            status, out_headers, out = api.handle(
                self.command, self.path, headers, body, self.client_address[0]
            )
            self.send_response(status)
            for key, value in out_headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _respond  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            if api.verbose:
                super().log_message(format, *args)

    class Server(ThreadingHTTPServer):
        # The listen backlog: socketserver's default of 5 resets a burst of concurrent clients
        # (50 authorizations at once) before a thread can accept them; API Gateway queues them.
        request_queue_size = 128

    server = Server((host, port), Handler)
    server.daemon_threads = True
    return server


def local_routes(
    bus: LocalEventBus,
    emitter: LocalEmitter | None = None,
) -> dict[tuple[str, str], Callable[[bytes], tuple[int, dict[str, str], bytes]]]:
    """Routes that exist only locally: deliver events through the queue path; peek at DLQs; the
    events the product emitted (budget thresholds)."""

    def post_events(body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return problem(400, "body is not valid JSON")
        events = payload if isinstance(payload, list) else [payload]
        if not events or not all(isinstance(e, dict) for e in events):
            return problem(400, "send one EventBridge event (a JSON object) or a list of them")
        report = bus.put_events(events)
        return 200, {"Content-Type": "application/json"}, json.dumps(asdict(report)).encode()

    def dead_letters(_body: bytes) -> tuple[int, dict[str, str], bytes]:
        found = {
            consumer.dead_letter_queue: [
                {"body": letter["body"], "reason": letter["reason"]}
                for letter in bus.dead_letters(consumer.dead_letter_queue)
            ]
            for consumer in bus.consumers.values()
            if consumer.dead_letter_queue
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(found).encode()

    routes = {("POST", "/local/events"): post_events, ("GET", "/local/dead-letters"): dead_letters}
    if emitter is not None:
        routes[("GET", "/local/emitted-events")] = lambda _body: (
            200,
            {"Content-Type": "application/json"},
            emitter.body(),
        )
    return routes
