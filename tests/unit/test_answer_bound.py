"""The edge's bound on what a response may carry (edge.http.bounded_response, docs/api.md): a body
it does not measure, for being short, can never escape to more than MAX_RESPONSE_BYTES."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import usage_pricing.edge.http as edge
from usage_pricing.core.limits import MAX_RESPONSE_BYTES


def result(body: str) -> dict[str, object]:
    return {"statusCode": 200, "headers": {"Content-Type": "text/csv"}, "body": body}


@given(st.characters())
def test_given_any_character_when_json_escapes_it_then_it_is_at_most_the_bytes_the_edge_assumes(
    character: str,
) -> None:
    assert len(json.dumps(character)) - 2 <= edge._JSON_CHAR_BYTES


def test_given_a_body_of_emoji_as_long_as_the_edge_leaves_unmeasured_then_it_still_fits() -> None:
    body = "\N{GRINNING FACE}" * edge._UNMEASURED
    assert len(json.dumps(result(body))) <= MAX_RESPONSE_BYTES
    assert edge.bounded_response(result(body))["body"] is body


def test_given_a_body_of_emoji_that_lambda_would_refuse_when_bounded_then_it_is_a_422() -> None:
    # 440,000 emoji: half what the old bound left unmeasured, 5.3 MB escaped.
    body = "\N{GRINNING FACE}" * 440_000
    assert len(json.dumps(result(body))) > MAX_RESPONSE_BYTES
    answered = edge.bounded_response(result(body))
    assert answered["statusCode"] == 422
    assert json.loads(answered["body"])["title"] == "Answer too large"
