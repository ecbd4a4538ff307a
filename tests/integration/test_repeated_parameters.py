"""A query parameter that takes one value, given twice, is a 400 that says so and names it
(edge.http.issues_from_validation); a repeatable one (app, status) keeps its own rules."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LambdaContext, load_handler
from tests.events import http_event
from usage_pricing.edge.http import REPEATED


@pytest.mark.parametrize(
    ("function", "route", "name", "values"),
    [
        ("summary", "GET /usage/summary", "range", ("7d", "30d")),
        ("summary", "GET /usage/summary", "tz", ("UTC", "Europe/Berlin")),
        ("summary", "GET /usage/summary", "format", ("csv", "json")),
        ("breakdown", "GET /usage/breakdown", "bucket", ("1h", "1h")),
        ("task_cost", "GET /usage/tasks", "limit", ("5", "6")),
        ("task_cost", "GET /usage/tasks", "cursor", ("a", "b")),
    ],
)
def test_given_a_one_value_parameter_twice_when_asked_then_400_says_it_is_repeated(
    function: str, route: str, name: str, values: tuple[str, str]
) -> None:
    handler = load_handler(function)
    event = http_event(route, query=[(name, v) for v in values])
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400
    problem = json.loads(response["body"])
    assert problem["errors"] == [{"field": name, "message": REPEATED}]
    assert problem["detail"] == f"invalid request: {name}: {REPEATED}"


def test_given_too_many_apps_when_asked_then_the_list_rule_is_named_not_repetition() -> None:
    handler = load_handler("summary")
    event = http_event("GET /usage/summary", query=[("app", f"team_a/app{i}") for i in range(21)])
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"] == [
        {"field": "app", "message": "List should have at most 20 items after validation, not 21"}
    ]
