"""The test kit's own contract: the one event builder and the one problem check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.events import http_event
from tests.problems import assert_problem

PROBLEM_HEADERS = {"Content-Type": "application/problem+json"}


def problem(status: int, **extra: Any) -> dict[str, Any]:
    return {"type": "urn:x", "title": "T", "status": status, "detail": "d", **extra}


def test_given_a_route_with_a_repeated_parameter_then_the_event_is_what_the_gateway_sends() -> None:
    event = http_event(
        "GET /apps/{namespace}/{name}/pricing",
        "/apps/team_a/x/pricing",
        team="team_b",
        scopes="apps:read",
        query=[("app", "a"), ("app", "b"), ("range", "7d")],
        headers={"x-api-version": None, "accept": "text/csv"},
        body={"k": 1},
        path_parameters={"namespace": "team_a", "name": "x"},
    )
    assert event["routeKey"] == event["requestContext"]["routeKey"]
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/apps/team_a/x/pricing"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["authorizer"] == {
        "lambda": {"team_id": "team_b", "scopes": "apps:read"}
    }
    assert event["queryStringParameters"] == {"app": "a,b", "range": "7d"}
    assert event["rawQueryString"] == "app=a&app=b&range=7d"
    assert event["headers"] == {
        "authorization": "Bearer inf_local_dev",
        "content-type": "application/json",
        "host": "127.0.0.1:3000",
        "accept": "text/csv",
    }
    assert event["pathParameters"] == {"namespace": "team_a", "name": "x"}
    assert json.loads(event["body"]) == {"k": 1}


def test_given_a_public_route_without_body_or_query_then_those_members_are_absent() -> None:
    event = http_event("GET /dashboard", team=None)
    assert "authorizer" not in event["requestContext"]
    assert {"body", "queryStringParameters", "pathParameters"}.isdisjoint(event)
    assert (event["rawPath"], event["rawQueryString"]) == ("/dashboard", "")


def test_given_a_problem_triple_then_it_passes_and_returns_the_document() -> None:
    errors = [{"field": "a", "message": "m"}, {"field": "b", "message": "m"}]
    body = problem(400, errors=errors)
    assert assert_problem((400, PROBLEM_HEADERS, body), 400, detail="d", fields=["a", "b"]) == body
    assert assert_problem((400, PROBLEM_HEADERS, json.dumps(body)), 400) == body


@pytest.mark.parametrize(
    "answer",
    [
        (401, PROBLEM_HEADERS, problem(400)),  # another HTTP status
        (400, {"Content-Type": "application/json"}, problem(400)),  # not problem+json
        (400, PROBLEM_HEADERS, {"title": "T", "status": 400, "detail": "d"}),  # no type
        (400, PROBLEM_HEADERS, problem(401)),  # the document's status disagrees
        (400, PROBLEM_HEADERS, problem(400, detail="other")),  # another detail
        (400, PROBLEM_HEADERS, problem(400, errors=[{"field": "b", "message": "m"}])),
    ],
)
def test_given_an_answer_that_is_not_the_problem_then_it_fails(answer: Any) -> None:
    with pytest.raises(AssertionError):
        assert_problem(answer, 400, detail="d", fields=["a"] if answer[2].get("errors") else None)


def test_given_a_requests_response_then_it_is_read_like_a_triple() -> None:
    from requests.models import Response
    from requests.structures import CaseInsensitiveDict

    response = Response()
    response.status_code = 413
    response.headers = CaseInsensitiveDict({"content-type": "application/problem+json"})
    response._content = json.dumps(problem(413)).encode()
    assert assert_problem(response, 413, detail="d") == problem(413)
    with pytest.raises(AssertionError):
        assert_problem(response, 400)


def test_given_the_test_tree_then_no_test_module_imports_another() -> None:
    """Shared test code lives in helper modules (tests/events.py, tests/records.py,
    tests/integration/*_helpers.py, a suite's conftest.py), never in a test module another one
    imports: a test file is then read, run and renamed on its own."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.rsplit(".", 1)[-1].startswith("test_"):
                    found.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    assert found == []
