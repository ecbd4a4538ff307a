"""The one API Gateway HTTP API (payload format 2.0) event builder for calling a handler in
process. Every integration test that calls an HTTP handler builds its request here, so a change
to what the gateway sends (a header, the authorizer context) is made once.

events/*.json stay as they are: they are the samples `sam local invoke` and tests/invoke.py
send, and the tests that pin those samples still read them through tests.conftest.sample_event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

# What the gateway forwards for an API caller: the key, JSON, the API version this API serves.
API_HEADERS = {
    "authorization": "Bearer inf_local_dev",
    "content-type": "application/json",
    "x-api-version": "2",
    "host": "127.0.0.1:3000",
}


def http_event(
    route_key: str,
    path: str | None = None,
    *,
    team: str | None = "team_a",
    scopes: str = "*",
    query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    headers: Mapping[str, str | None] | None = None,
    body: Any = None,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A request as API Gateway hands it to the function behind `route_key` ("GET /usage/tasks").

    - `path` is the concrete path; it defaults to the route key's path (a route without
      parameters).
    - `team` and `scopes` are what the authorizer put in the context; `team=None` is a request
      that reached a public route, with no authorizer context at all.
    - `query` is a dict or a list of pairs; a repeated parameter is joined with commas in
      queryStringParameters, as API Gateway joins it.
    - `headers` are laid over API_HEADERS; a header given as None is left out.
    - `body` is sent as is when it is a str, else as JSON; None sends no body.
    """
    method, route_path = route_key.split(" ", 1) if " " in route_key else ("GET", route_key)
    concrete = path if path is not None else route_path
    sent: dict[str, str] = {}
    for name, value in {**API_HEADERS, **(headers or {})}.items():
        if value is not None:
            sent[name] = value
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": concrete,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "curl/8.0",
        },
        "requestId": "test-request-1",
        "routeKey": route_key,
        "stage": "$default",
        "time": "22/Nov/2026:08:00:00 +0000",
        "timeEpoch": 1795334400000,
    }
    if team is not None:
        context["authorizer"] = {"lambda": {"team_id": team, "scopes": scopes}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": concrete,
        "rawQueryString": urlencode(pairs),
        "headers": sent,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if joined:
        event["queryStringParameters"] = joined
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event
