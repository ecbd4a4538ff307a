"""The README's evaluate example is what the handler answers."""

import json

from tests.conftest import LambdaContext, load_handler, sample_event
from tests.readme import readme_block


def test_readme_request_is_the_sample_event_body() -> None:
    assert readme_block("request") == json.loads(sample_event("evaluate")["body"])


def test_readme_response_is_what_the_handler_answers() -> None:
    response = load_handler("evaluate").lambda_handler(sample_event("evaluate"), LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == readme_block("response")
