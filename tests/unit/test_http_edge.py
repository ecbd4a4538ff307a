"""Scopes, caller resolution, route declarations and the checks made before routing."""

from typing import Any

import pytest

from usage_pricing import (
    Caller,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
    has_scope,
    scope_grants,
)
from usage_pricing.core.errors import UnsupportedMediaTypeError
from usage_pricing.edge.http import (
    Admitted,
    Api,
    Route,
    check_media_type,
    field_path,
    problem_document,
)
from usage_pricing.edge.http import check_request as admit


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        ("billing:read", "billing:read", True),
        ("billing", "billing:read", True),
        ("*", "billing:read", True),
        ("*", "apps:write", True),
        ("apps", "apps:write", True),
        ("billing:read", "billing", False),
        ("billing:write", "billing:read", False),
        ("apps:read", "billing:read", False),
        ("bill", "billing:read", False),
        ("billing:", "billing:read", False),
        ("", "billing:read", False),
    ],
)
def test_scope_hierarchy(granted: str, required: str, allowed: bool) -> None:
    assert scope_grants(granted, required) is allowed


def test_any_granted_scope_suffices() -> None:
    assert has_scope({"apps:read", "billing"}, "billing:read")
    assert not has_scope(set(), "billing:read")


def event(**overrides: Any) -> dict[str, Any]:
    route_key = overrides.pop("routeKey", "POST /usage/cel/evaluate")
    method, _, path = route_key.partition(" ")
    path = overrides.pop("path", path.replace("{taskID}", "t-1"))
    caller = overrides.pop("caller", {"team_id": "team_a", "scopes": "billing:read apps:read"})
    base: dict[str, Any] = {
        "routeKey": route_key,
        "rawPath": path,
        "headers": {"x-api-version": "2"},
        "body": "{}",
        "requestContext": {
            "http": {"method": method, "path": path},
            "authorizer": {"lambda": caller},
        },
    }
    base.update(overrides)
    return base


ROUTES = {
    r.key: r
    for r in (
        Route("POST", "/usage/cel/evaluate", ("billing:read",)),
        Route("GET", "/usage/tasks/{taskID}/cost", ("apps:read", "billing:read")),
    )
}


def check_request(event: dict[str, Any], routes: dict[str, Route]) -> Caller:
    return admit(event, routes).caller


def test_caller_comes_from_the_authorizer_context() -> None:
    assert check_request(event(), ROUTES) == Caller(
        "team_a", frozenset({"billing:read", "apps:read"})
    )


@pytest.mark.parametrize(
    "context",
    [
        None,
        {},
        {"lambda": None},
        {"lambda": {"scopes": "*"}},
        {"lambda": {"team_id": "", "scopes": "*"}},
        {"lambda": {"team_id": "t", "scopes": 5}},
    ],
)
def test_no_caller_is_401(context: Any) -> None:
    with pytest.raises(UnauthorizedError):
        check_request(event(requestContext={"authorizer": context}), ROUTES)


def test_the_authorizers_reason_is_the_detail() -> None:
    ctx = {"authorizer": {"lambda": {"team_id": "", "scopes": "", "reason": "revoked API key"}}}
    with pytest.raises(UnauthorizedError, match=r"^revoked API key$"):
        check_request(event(requestContext=ctx), ROUTES)


def test_missing_scope_is_403() -> None:
    caller = {"team_id": "t", "scopes": "apps:read"}
    with pytest.raises(ForbiddenError, match="this API key lacks the billing:read scope"):
        check_request(event(caller=caller), ROUTES)


def test_either_scope_opens_task_cost() -> None:
    caller = {"team_id": "t", "scopes": "apps:read"}
    route_key = "GET /usage/tasks/{taskID}/cost"
    assert check_request(event(routeKey=route_key, caller=caller), ROUTES).team_id == "t"


@pytest.mark.parametrize("headers", [{}, {"x-api-version": "2"}, {"X-Api-Version": " 2 "}])
def test_version_2_or_absent_is_served(headers: dict[str, str]) -> None:
    check_request(event(headers=headers), ROUTES)


@pytest.mark.parametrize("version", ["1", "3", "", "2.0", "v2"])
def test_other_versions_are_400(version: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        check_request(event(headers={"x-api-version": version}), ROUTES)
    assert raised.value.errors[0].field == "X-API-Version"


def test_version_is_checked_before_the_key() -> None:
    with pytest.raises(InvalidRequestError):
        check_request(event(headers={"x-api-version": "1"}, requestContext={}), ROUTES)


@pytest.mark.parametrize(
    "media_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        "application/problem+json",
        "APPLICATION/PROBLEM+JSON",
        "application/merge-patch+json",
        "application/vnd.usage-pricing.v2+json",
        None,
    ],
)
def test_json_bodies_are_accepted(media_type: str | None) -> None:
    """Given a JSON body under any spelling of a JSON media type, when it is checked, then it is
    parsed, and the resolver behind the edge sees one spelling (its own match is
    case-sensitive and knows no +json types)."""
    headers = {"x-api-version": "2"} | ({"Content-Type": media_type} if media_type else {})
    request = event(headers=headers, body='{"a": 1}')
    assert admit(request, ROUTES).body == {"a": 1}
    content_types = [v for k, v in request["headers"].items() if k.lower() == "content-type"]
    assert content_types == ["application/json"]


@pytest.mark.parametrize(
    "media_type",
    [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "text/json",
        "text/plain+json",
        "application/jsonx",
        "application/+json",
        "json",
        "",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_other_body_types_are_415(media_type: str) -> None:
    with pytest.raises(
        UnsupportedMediaTypeError, match="request bodies are JSON; got Content-Type"
    ):
        check_request(event(headers={"content-type": media_type}), ROUTES)


def test_media_type_is_not_checked_without_a_body() -> None:
    request = event(headers={"content-type": "text/plain"}, body="")
    assert admit(request, ROUTES).body is None
    assert request["headers"]["content-type"] == "application/json"


def test_check_media_type_names_the_header() -> None:
    with pytest.raises(UnsupportedMediaTypeError) as raised:
        check_media_type("text/plain")
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("Content-Type", "must be application/json or application/<subtype>+json, UTF-8")
    ]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("[" * 2000 + "]" * 2000, "body.0.0.0.0.0.0.0…", "nests deeper than 32 levels"),
        ('{"n": ' + "9" * 4301 + "}", "n", "integer out of range"),
        ('{"task_inputs": {"x": NaN}}', "task_inputs.x", "NaN and Infinity are not JSON numbers"),
        ("{nope", "body", "body is not valid JSON"),
    ],
)
def test_the_body_is_parsed_by_the_safe_parser(body: str, field: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        check_request(event(body=body), ROUTES)
    assert raised.value.errors[0].field == field
    assert raised.value.errors[0].message.startswith(message)


def test_authentication_and_scope_come_before_the_body() -> None:
    with pytest.raises(UnauthorizedError):
        check_request(event(body="[" * 2000, caller=None), ROUTES)
    with pytest.raises(ForbiddenError):
        check_request(
            event(body="[" * 2000, caller={"team_id": "t", "scopes": "apps:read"}), ROUTES
        )


# --- route declarations: fail closed ------------------------------------------------------------


def test_a_route_key_nothing_declares_is_closed_to_every_key() -> None:
    """Given a gateway route this function serves but does not declare (missing, or spelled
    differently), when any caller, even with *, calls it, then it is refused."""
    for route_key, path in [
        ("GET /usage/breakdown", "/usage/breakdown"),
        ("POST /usage/cel/evaluate/", "/usage/cel/evaluate/"),
        ("GET /usage/tasks/<taskID>/cost", "/usage/tasks/t-1/cost"),
        ("get /usage/tasks/{taskID}/cost", "/usage/tasks/t-1/cost"),
    ]:
        request = event(routeKey=route_key, path=path, caller={"team_id": "t", "scopes": "*"})
        with pytest.raises(ForbiddenError, match="declares no scope"):
            check_request(request, ROUTES)


def test_the_fallback_route_reaches_only_declared_routes() -> None:
    caller = {"team_id": "t", "scopes": "apps:read"}

    def fallback(method: str, path: str) -> dict[str, Any]:
        request = event(routeKey="$default", path=path, caller=caller)
        request["requestContext"]["http"]["method"] = method
        return request

    declared = admit(fallback("GET", "/usage/tasks/t-1/cost"), ROUTES)
    assert declared.route.key == "GET /usage/tasks/{taskID}/cost"
    for method, path in [("GET", "/usage/nothing"), ("DELETE", "/usage/tasks/t-1/cost")]:
        with pytest.raises(NotFoundError):
            check_request(fallback(method, path), ROUTES)


def test_a_declared_key_with_another_path_is_no_route() -> None:
    with pytest.raises(NotFoundError):
        check_request(event(path="/usage/cel/other"), ROUTES)


@pytest.mark.parametrize("scopes", [(), "billing:read", ("",)])
def test_a_route_cannot_be_declared_without_scopes(scopes: Any) -> None:
    with pytest.raises(ValueError, match="declare the scopes"):
        Api().get("/x", scopes=scopes)


def test_a_route_cannot_be_declared_twice() -> None:
    api = Api()
    api.get("/x", scopes=("a",))(lambda: None)
    with pytest.raises(ValueError, match="GET /x is declared twice"):
        api.get("/x", scopes=("b",))


def test_a_route_registered_behind_the_declarations_back_is_unreachable() -> None:
    """Given a function registered on the resolver directly (no declaration), when any caller
    reaches its path, then the edge answers 404 (fallback) or 403 (its gateway key): the
    resolver is never asked."""
    from tests.conftest import LambdaContext

    api = Api()
    api.resolver.get("/secret")(lambda: {"leaked": True})
    for route_key, status in [("$default", 404), ("GET /secret", 403)]:
        request = event(
            routeKey=route_key, path="/secret", body="", caller={"team_id": "t", "scopes": "*"}
        )
        request["requestContext"]["http"]["method"] = "GET"
        response = api.handle(request, LambdaContext())
        assert response["statusCode"] == status
        assert "leaked" not in response["body"]


@pytest.mark.parametrize(
    ("path", "rule", "matching", "other"),
    [
        ("/usage/breakdown", "/usage/breakdown", "/usage/breakdown", "/usage/breakdown/x"),
        (
            "/usage/tasks/{taskID}/cost",
            "/usage/tasks/<taskID>/cost",
            "/usage/tasks/abc/cost",
            "/usage/tasks/a/b/cost",
        ),
        (
            "/apps/{namespace}/{name}/pricing",
            "/apps/<namespace>/<name>/pricing",
            "/apps/team_a/x/pricing",
            "/apps/team_a/x/pricing/publish",
        ),
    ],
)
def test_route_spellings(path: str, rule: str, matching: str, other: str) -> None:
    route = Route("GET", path, ("s",))
    assert (route.key, route.rule) == (f"GET {path}", rule)
    assert route.matches("GET", matching) and route.matches("get", matching)
    assert not route.matches("GET", other) and not route.matches("POST", matching)


def test_admitted_carries_the_route() -> None:
    assert admit(event(), ROUTES) == Admitted(
        Caller("team_a", frozenset({"billing:read", "apps:read"})),
        ROUTES["POST /usage/cel/evaluate"],
        {},
    )


def test_body_over_256_kib_is_413() -> None:
    check_request(event(body='"' + "x" * 262_142 + '"'), ROUTES)
    with pytest.raises(
        PayloadTooLargeError, match="request body is 262145 bytes; the limit is 262144 bytes"
    ):
        check_request(event(body="x" * 262_145), ROUTES)


def test_problem_document_shape() -> None:
    assert problem_document(404, "Not found", "no such task") == {
        "type": "urn:usage-pricing:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such task",
    }


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "output_meta", "outputs", 3, "image", "count"), "output_meta.outputs.3.count"),
        (("body", "pricing", "prices", "per_image"), "pricing.prices.per_image"),
        (("body",), "body"),
        (("query", "range"), "range"),
        (("outputs", 0, "text", "tokens"), "outputs.0.tokens"),
    ],
)
def test_field_paths(loc: tuple[Any, ...], path: str) -> None:
    assert field_path(loc) == path
