"""Every limit of docs/limits.md at the limit and one past it, through the handlers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import AwsWorld, LambdaContext, load_handler
from tests.events import http_event
from usage_pricing.core.limits import MAX_BODY_BYTES, MAX_FORMULA_BYTES, MAX_META_ITEMS, MAX_PRICES


@pytest.fixture(scope="module")
def evaluate() -> Any:
    return load_handler("evaluate")


def call(handler: Any, body: Any) -> tuple[int, dict[str, Any]]:
    event = http_event(
        "POST /usage/cel/evaluate", team="team_local", scopes="billing:read", body=body
    )
    response = handler.lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def fields(problem: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


def test_body_at_256_kb_is_read_and_past_it_is_413(evaluate: Any) -> None:
    template = json.dumps({"pricing": {}, "task_inputs": {"pad": ""}})
    at_limit = template.replace(
        '"pad": ""', '"pad": "' + "x" * (MAX_BODY_BYTES - len(template)) + '"'
    )
    assert len(at_limit.encode()) == MAX_BODY_BYTES
    assert call(evaluate, at_limit)[0] == 200
    past = at_limit.replace('"pad": "', '"pad": "x', 1)
    status, problem = call(evaluate, past)
    assert (status, fields(problem)) == (413, {"body": f"must be at most {MAX_BODY_BYTES} bytes"})


@pytest.mark.parametrize("component", ["resource", "inference", "royalty", "partner", "total"])
def test_formula_at_4_kb_is_evaluated_and_past_it_is_400(evaluate: Any, component: str) -> None:
    at_limit = "1+" * (MAX_FORMULA_BYTES // 2 - 1) + "11"
    assert len(at_limit.encode()) == MAX_FORMULA_BYTES
    status, answer = call(evaluate, {"pricing": {f"{component}_expression": at_limit}})
    assert status == 200
    # At the size limit the formula is accepted by the request and judged by the engine's
    # depth bound (2,047 chained additions), reported on its component, not as a 400.
    key = "total" if component == "total" else f"{component}_fee"
    assert answer[key]["error"] == "1:66: formula nests deeper than 32 levels"  # the 33rd "+"
    status, problem = call(evaluate, {"pricing": {f"{component}_expression": at_limit + "1"}})
    assert status == 400
    assert fields(problem) == {
        f"pricing.{component}_expression": "Value error, is 4097 bytes; the limit is 4096 bytes"
    }


def test_multibyte_formula_limit_counts_bytes(evaluate: Any) -> None:
    at_limit = "'" + "é" * ((MAX_FORMULA_BYTES - 2) // 2) + "'"
    assert len(at_limit.encode()) == MAX_FORMULA_BYTES
    assert call(evaluate, {"pricing": {"description": '"" + ' + at_limit[:-8] + "'"}})[0] == 200
    status, problem = call(evaluate, {"pricing": {"description": at_limit + " "}})
    assert status == 400 and "pricing.description" in fields(problem)


@pytest.mark.parametrize("side", ["inputs", "outputs"])
def test_1000_meta_items_are_priced_and_1001_are_400(evaluate: Any, side: str) -> None:
    items = [{"type": "image", "count": 1}] * MAX_META_ITEMS
    body = {
        "pricing": {"prices": {"p": 1}, "inference_expression": f"image_count({side}) * prices.p"},
        "output_meta": {side: items},
    }
    status, answer = call(evaluate, body)
    assert (status, answer["inference_fee"]["value"]) == (200, 1000)
    body["output_meta"][side] = [*items, {"type": "image"}]
    status, problem = call(evaluate, body)
    assert status == 400
    assert fields(problem) == {
        f"output_meta.{side}": "List should have at most 1000 items after validation, not 1001"
    }


def test_200_prices_are_accepted_and_201_are_400(evaluate: Any) -> None:
    prices = {f"p{i}": i + 1 for i in range(MAX_PRICES)}
    status, answer = call(
        evaluate, {"pricing": {"prices": prices, "inference_expression": "prices.p199"}}
    )
    assert (status, answer["inference_fee"]["value"]) == (200, 200)
    status, problem = call(evaluate, {"pricing": {"prices": {**prices, "one_more": 1}}})
    assert status == 400
    assert fields(problem) == {
        "pricing.prices": "Dictionary should have at most 200 items after validation, not more"
    }


def test_a_patch_cannot_merge_past_200_prices(aws: AwsWorld) -> None:
    pricing = aws.handler("pricing", "PricingFunction")

    def patch(prices: dict[str, int]) -> tuple[int, Any]:
        event = http_event(
            "PATCH /apps/{namespace}/{name}/pricing",
            "/apps/team_local/flux-dev/pricing",
            team="team_local",
            scopes="apps:write apps:read",
            body={"prices": prices},
            path_parameters={"namespace": "team_local", "name": "flux-dev"},
        )
        response = pricing.lambda_handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    assert patch({f"a{i}": 1 for i in range(150)})[0] == 200
    assert patch({f"b{i}": 1 for i in range(50)})[0] == 200  # exactly 200 after the merge
    status, problem = patch({"c0": 1})
    assert status == 400
    assert "prices" in fields(problem)
    status, view = patch({"a0": 0, "c0": 1})  # removing one makes room for another
    assert status == 200 and len(view["draft"]["pricing"]["prices"]) == MAX_PRICES
