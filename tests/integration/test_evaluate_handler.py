"""The evaluate Lambda invoked in-process with events/evaluate.json and variations."""

from __future__ import annotations

import copy
import json
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import LambdaContext, load_handler, sample_event
from tests.events import http_event

PROBLEM = "application/problem+json"

EXPECTED_SAMPLE = {
    "resource_fee": {"value": 5_232_498, "dollars": "0.05232498"},
    "inference_fee": {"value": 406_000, "dollars": "0.00406"},
    "royalty_fee": {"value": 0, "dollars": "0.00"},
    "partner_fee": {"value": 0, "dollars": "0.00"},
    "total": {"value": 5_638_498, "dollars": "0.05638498"},
    "description": {"value": "$0.002 per image"},
}


@pytest.fixture(scope="module", params=["cel-expr", "cel-python"])
def handler(request: pytest.FixtureRequest) -> ModuleType:
    return load_handler("evaluate", {"CEL_ENGINE": request.param})


def invoke(handler: ModuleType, event: dict[str, Any]) -> tuple[int, str, Any]:
    response = handler.lambda_handler(event, LambdaContext())
    return response["statusCode"], response["headers"]["Content-Type"], json.loads(response["body"])


def request(
    body: Any = None,
    *,
    team: str | None = "team_local",
    scopes: str = "billing:read apps:read",
    **kwargs: Any,
) -> dict[str, Any]:
    """The sample's request with this body (the sample's body by default)."""
    body = sample_event("evaluate")["body"] if body is None else body
    return http_event("POST /usage/cel/evaluate", team=team, scopes=scopes, body=body, **kwargs)


def sample_body() -> dict[str, Any]:
    return copy.deepcopy(json.loads(sample_event("evaluate")["body"]))


def test_sample_event(handler: ModuleType) -> None:
    assert invoke(handler, sample_event("evaluate")) == (200, "application/json", EXPECTED_SAMPLE)


def test_seed_docs_request(handler: ModuleType) -> None:
    body = {
        "pricing": {
            "prices": {"per_image": 200000},
            "inference_expression": "image_count(output_meta.outputs) * prices.per_image",
        },
        "output_meta": {"inputs": [], "outputs": [{"type": "image", "count": 2}]},
        "usage_seconds": 45,
    }
    status, _, answer = invoke(handler, request(body))
    assert status == 200
    assert answer["inference_fee"] == {"value": 400_000, "dollars": "0.004"}
    assert answer["total"] == {"value": 400_000, "dollars": "0.004"}
    assert answer["description"] == {"value": ""}


def test_formula_error_is_200_on_its_component(handler: ModuleType) -> None:
    body = sample_body()
    body["pricing"]["royalty_expression"] = "inference_fee / 0"
    status, _, answer = invoke(handler, request(body))
    assert status == 200
    assert answer["royalty_fee"]["value"] == 0
    assert "divide by zero" in answer["royalty_fee"]["error"]
    assert answer["total"] == {"value": 5_638_498, "dollars": "0.05638498"}
    assert "error" not in answer["inference_fee"]


def test_int_times_double_is_reported_not_rounded(handler: ModuleType) -> None:
    body = sample_body()
    body["pricing"]["inference_expression"] = "prices.per_image * 1.5"
    status, _, answer = invoke(handler, request(body))
    assert status == 200
    assert answer["inference_fee"]["value"] == 0
    assert (
        "found no matching overload for '_*_' applied to '(int, double)'"
        in answer["inference_fee"]["error"]
    )


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda b: b.pop("pricing"), "pricing", "Field required"),
        (
            lambda b: b["output_meta"]["outputs"][0].update(count=-1),
            "output_meta.outputs.0.count",
            "Input should be greater than or equal to 0",
        ),
        (
            lambda b: b["output_meta"]["outputs"].append({"type": "hologram"}),
            "output_meta.outputs.1",
            None,
        ),
        (
            lambda b: b["output_meta"].update(outputs=[{"type": "text"}] * 1001),
            "output_meta.outputs",
            "List should have at most 1000 items after validation, not 1001",
        ),
        (
            lambda b: b["pricing"]["prices"].update(per_image=-5),
            "pricing.prices.per_image",
            "Input should be greater than or equal to 0",
        ),
        (
            lambda b: b["pricing"].update(inference_expression="1+" * 3000),
            "pricing.inference_expression",
            "Value error, is 6000 bytes; the limit is 4096 bytes",
        ),
        (
            lambda b: b.update(usage_seconds=-1),
            "usage_seconds",
            "Input should be greater than or equal to 0",
        ),
        (
            lambda b: b.update(usage_seconds="600"),
            "usage_seconds",
            "Input should be a valid integer",
        ),
        (lambda b: b["resources"][0].update(meter="llm/huge"), "resources.0", None),
        (lambda b: b.update(surprise=1), "surprise", "Extra inputs are not permitted"),
    ],
)
def test_malformed_body_is_400_naming_the_field(
    handler: ModuleType, mutate: Any, field: str, message: str | None
) -> None:
    body = sample_body()
    mutate(body)
    status, content_type, problem = invoke(handler, request(body))
    assert (status, content_type) == (400, PROBLEM)
    assert problem["type"] == "urn:usage-pricing:problem:invalid-request"
    assert problem["title"] == "Invalid request"
    assert problem["status"] == 400
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in fields, fields
    if message:
        assert fields[field] == message
    assert problem["detail"].startswith("invalid request: ")


def test_invalid_json_is_400(handler: ModuleType) -> None:
    status, content_type, problem = invoke(handler, request("{not json"))
    assert (status, content_type) == (400, PROBLEM)
    assert problem["errors"] == [{"field": "body", "message": "body is not valid JSON"}]


def test_no_authorizer_context_is_401(handler: ModuleType) -> None:
    event = request(team=None)
    assert invoke(handler, event) == (
        401,
        PROBLEM,
        {
            "type": "urn:usage-pricing:problem:unauthorized",
            "title": "Unauthorized",
            "status": 401,
            "detail": "missing API key: send Authorization: Bearer <key>",
        },
    )


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        ("apps:read", 403),
        ("billing:write", 403),
        ("billing", 200),
        ("*", 200),
        ("billing:read", 200),
    ],
)
def test_scope_is_required(handler: ModuleType, scopes: str, status: int) -> None:
    event = request(scopes=scopes)
    got, _, answer = invoke(handler, event)
    assert got == status
    if status == 403:
        assert answer["detail"] == "this API key lacks the billing:read scope"


def test_wrong_api_version_is_400(handler: ModuleType) -> None:
    event = request(headers={"x-api-version": "1"})
    status, content_type, problem = invoke(handler, event)
    assert (status, content_type) == (400, PROBLEM)
    assert problem["detail"] == "unsupported API version '1'; this API serves version 2"


def test_absent_api_version_means_2(handler: ModuleType) -> None:
    event = request(headers={"x-api-version": None})
    assert invoke(handler, event)[0] == 200


def test_oversized_body_is_413(handler: ModuleType) -> None:
    body = sample_body()
    body["task_inputs"] = {"blob": "x" * 262_144}
    status, content_type, problem = invoke(handler, request(body))
    assert (status, content_type) == (413, PROBLEM)
    assert problem["errors"] == [{"field": "body", "message": "must be at most 262144 bytes"}]


def test_unknown_route_is_a_problem(handler: ModuleType) -> None:
    event = request(path="/usage/cel/nothing")
    status, content_type, problem = invoke(handler, event)
    assert (status, content_type, problem["title"]) == (404, PROBLEM, "Not found")
