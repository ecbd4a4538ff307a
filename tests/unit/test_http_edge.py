"""Scopes, caller resolution and the checks made before routing."""

from typing import Any

import pytest

from usage_pricing import (
    Caller,
    ForbiddenError,
    InvalidRequestError,
    PayloadTooLargeError,
    UnauthorizedError,
    has_scope,
    scope_grants,
)
from usage_pricing.http import check_request, field_path, problem_document


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
    base: dict[str, Any] = {
        "routeKey": "POST /usage/cel/evaluate",
        "headers": {"x-api-version": "2"},
        "body": "{}",
        "requestContext": {
            "authorizer": {"lambda": {"team_id": "team_a", "scopes": "billing:read apps:read"}}
        },
    }
    base.update(overrides)
    return base


ROUTES = {
    "POST /usage/cel/evaluate": ("billing:read",),
    "GET /usage/tasks/{taskID}/cost": ("apps:read", "billing:read"),
}


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
    ctx = {"authorizer": {"lambda": {"team_id": "t", "scopes": "apps:read"}}}
    with pytest.raises(ForbiddenError, match="this API key lacks the billing:read scope"):
        check_request(event(requestContext=ctx), ROUTES)


def test_either_scope_opens_task_cost() -> None:
    ctx = {"authorizer": {"lambda": {"team_id": "t", "scopes": "apps:read"}}}
    assert (
        check_request(
            event(routeKey="GET /usage/tasks/{taskID}/cost", requestContext=ctx), ROUTES
        ).team_id
        == "t"
    )


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
    ["application/json", "application/json; charset=utf-8", "application/problem+json", None],
)
def test_json_bodies_are_accepted(media_type: str | None) -> None:
    headers = {"x-api-version": "2"} | ({"content-type": media_type} if media_type else {})
    check_request(event(headers=headers), ROUTES)


@pytest.mark.parametrize(
    "media_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
def test_other_body_types_are_415(media_type: str) -> None:
    from usage_pricing.errors import UnsupportedMediaTypeError

    with pytest.raises(
        UnsupportedMediaTypeError,
        match=f"request bodies are JSON; got Content-Type {media_type.split(';', maxsplit=1)[0]}",
    ):
        check_request(event(headers={"content-type": media_type}), ROUTES)


def test_body_over_256_kib_is_413() -> None:
    check_request(event(body="x" * 262_144), ROUTES)
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
