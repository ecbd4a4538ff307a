"""The HTTP API over real HTTP: keys, scopes, versions, problem+json, evaluate."""

from __future__ import annotations

import json

import pytest

from local.template import load_template
from tests.conftest import sample_event
from tests.problems import assert_problem
from tests.stack import Stack

pytestmark = pytest.mark.e2e


def sample_body() -> dict[str, object]:
    return json.loads(sample_event("evaluate")["body"])  # type: ignore[no-any-return]


def test_evaluate_through_the_front_door(stack: Stack) -> None:
    from tests.readme import readme_block

    response = stack.request("POST", "/usage/cel/evaluate", json=sample_body())
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == readme_block("response")


def test_no_key_is_401(stack: Stack) -> None:
    assert_problem(
        stack.request("POST", "/usage/cel/evaluate", key=None, json=sample_body()),
        401,
        detail="missing API key: send Authorization: Bearer <key>",
    )


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("not-a-key", "malformed API key"),
        ("inf_x", "malformed API key"),
        ("inf_neverissuedneverissued", "unknown API key"),
    ],
)
def test_bad_keys_are_401(stack: Stack, key: str, detail: str) -> None:
    assert_problem(
        stack.request("POST", "/usage/cel/evaluate", key=key, json=sample_body()),
        401,
        detail=detail,
    )


def test_revoked_key_is_401(stack: Stack) -> None:
    key = stack.new_key("team_rev", "billing:read")
    assert "revoked key of team team_rev" in stack.cli("revoke", "--key", key)
    assert_problem(
        stack.request("POST", "/usage/cel/evaluate", key=key, json=sample_body()),
        401,
        detail="revoked API key",
    )


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        ("apps:read", 403),
        ("billing:write apps:write", 403),
        ("billing:read", 200),
        ("billing", 200),
        ("*", 200),
    ],
)
def test_scopes(stack: Stack, scopes: str, status: int) -> None:
    key = stack.new_key("team_scopes", scopes)
    response = stack.request("POST", "/usage/cel/evaluate", key=key, json=sample_body())
    if status == 403:
        assert_problem(response, 403, detail="this API key lacks the billing:read scope")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("version", ["1", "3", "latest"])
def test_other_api_versions_are_400(stack: Stack, version: str) -> None:
    body = assert_problem(
        stack.request("POST", "/usage/cel/evaluate", version=version, json=sample_body()), 400
    )
    assert body["errors"] == [{"field": "X-API-Version", "message": "must be 2 or absent"}]


def test_absent_version_means_2(stack: Stack) -> None:
    assert (
        stack.request("POST", "/usage/cel/evaluate", version=None, json=sample_body()).status_code
        == 200
    )


def test_malformed_body_names_the_field(stack: Stack) -> None:
    body = sample_body()
    body["output_meta"] = {"outputs": [{"type": "image", "count": -1}]}
    problem = assert_problem(stack.request("POST", "/usage/cel/evaluate", json=body), 400)
    assert problem["errors"] == [
        {
            "field": "output_meta.outputs.0.count",
            "message": "Input should be greater than or equal to 0",
        }
    ]


def test_body_over_256_kb_is_413(stack: Stack) -> None:
    body = sample_body()
    body["task_inputs"] = {"blob": "x" * 270_000}
    assert_problem(stack.request("POST", "/usage/cel/evaluate", json=body), 413)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing/here"), ("GET", "/usage/cel/evaluate"), ("DELETE", "/usage")],
)
def test_unknown_routes_are_problems(stack: Stack, method: str, path: str) -> None:
    assert_problem(stack.request(method, path), 404)


def test_unknown_route_without_a_key_is_401(stack: Stack) -> None:
    assert_problem(stack.request("GET", "/nothing/here", key=None), 401)


def test_openapi_document_is_served_and_matches_the_template(stack: Stack) -> None:
    document = stack.request("GET", "/openapi.json", key=None).json()
    served = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    routes = {
        r.route_key.replace("<", "{").replace(">", "}")
        for r in load_template().routes()
        if r.path != "$default"
    }
    assert served == routes
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    evaluate = document["paths"]["/usage/cel/evaluate"]["post"]
    assert {"200", "400", "401", "403", "413"} <= set(evaluate["responses"])
    assert "422" not in evaluate["responses"]


def test_given_the_openapi_document_then_each_route_carries_its_declared_scopes_as_security(
    stack: Stack,
) -> None:
    document = stack.request("GET", "/openapi.json", key=None).json()
    evaluate = document["paths"]["/usage/cel/evaluate"]["post"]
    assert evaluate["security"] == [{"apiKey": ["billing:read"]}]
    cost = document["paths"]["/usage/tasks/{taskID}/cost"]["get"]
    assert cost["security"] == [{"apiKey": ["apps:read"]}, {"apiKey": ["billing:read"]}]
    assert document["paths"]["/dashboard"]["get"]["security"] == []
    unsecured = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "security" not in operation
    ]
    assert unsecured == []
