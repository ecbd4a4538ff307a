"""The README's evaluate example is what the handler answers."""

import json
import re

from tests.conftest import ROOT, LambdaContext, load_handler, sample_event


def readme_block(marker: str) -> object:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- readme-example:{marker} -->\s*```json\n(.*?)```", text, re.S)
    assert match, marker
    return json.loads(match.group(1))


def test_readme_request_is_the_sample_event_body() -> None:
    assert readme_block("request") == json.loads(sample_event("evaluate")["body"])


def test_readme_response_is_what_the_handler_answers() -> None:
    response = load_handler("evaluate").lambda_handler(sample_event("evaluate"), LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == readme_block("response")
