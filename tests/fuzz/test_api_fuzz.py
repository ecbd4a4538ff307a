"""Schemathesis against the local stack's own OpenAPI document (/openapi.json): whatever a client
sends, the API never answers 5xx, every 4xx is RFC 9457 problem+json, and every 2xx conforms to
the documented schema.

Bounded for `make test`: FUZZ_EXAMPLES (default 25) generated cases per operation, positive and
negative (schema-violating) data mixed. The `slow` variant runs only with FUZZ_SLOW=1, with
FUZZ_SLOW_EXAMPLES (default 300) cases per operation. FUZZ_SHRINK=1 shrinks a failure (off by
default: shrinking replays a failing request many times).

Mutating routes (PATCH pricing, publish) are fuzzed too, with their state kept small: about half
the cases target the dev key's own namespace `team_local` (the rest must be 403s), and every app
name there is folded onto a few `fuzz-N` apps, so no other test's app is touched.

schemathesis' own pytest integration (`schemathesis.pytest.from_fixture(...).parametrize()`)
does not run under pytest 9.2 (schemathesis 4.32.5 sets `request.node._nodeid`, which pytest 9.2
no longer has), so the operations are parametrized here from template.yaml's routes and each is
driven through `APIOperation.as_strategy()` with plain Hypothesis."""

from __future__ import annotations

import base64
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.template import load_template
from tests.conftest import LambdaContext, load_handler, sample_event
from tests.stack import Stack

HEADERS = {"Authorization": "Bearer inf_local_dev", "X-API-Version": "2"}
PROBLEM = "application/problem+json"
DEV_NAMESPACE = "team_local"
FUZZ_APPS = 4
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SLOW_EXAMPLES = int(os.environ.get("FUZZ_SLOW_EXAMPLES", "300"))
# Shrinking replays a failing request dozens of times; off unless asked for (FUZZ_SHRINK=1).
SHRINK = os.environ.get("FUZZ_SHRINK", "") not in ("", "0")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROUTES = sorted((r.method, r.path) for r in load_template().routes() if r.path != "$default")
ROUTE_IDS = [f"{method} {path}" for method, path in ROUTES]


@pytest.fixture(autouse=True, scope="module")
def _hypothesis_as_it_was() -> Iterator[None]:
    """schemathesis patches Hypothesis globally the first time it generates (a falsifying-example
    printer that prints nothing, a 4x larger buffer): put back what was there before this module
    for every Hypothesis test that runs after it. (Loading schemathesis' pytest plugin applies
    the same patch at startup; `-p no:schemathesis` avoids that.)"""
    import hypothesis.core
    from hypothesis.internal import entropy
    from hypothesis.internal.conjecture import engine
    from hypothesis.strategies._internal import collections, core

    patched = [
        (hypothesis.core, "RepresentationPrinter"),
        (hypothesis.core, "BUFFER_SIZE"),
        (engine, "BUFFER_SIZE"),
        (collections, "BUFFER_SIZE"),
        (entropy, "register_random"),
        (core, "is_first_param_referenced_in_function"),
    ]
    missing = object()
    saved = [(module, name, getattr(module, name, missing)) for module, name in patched]
    yield
    for module, name, value in saved:
        if value is missing:
            if hasattr(module, name):
                delattr(module, name)
        else:
            setattr(module, name, value)


@pytest.fixture(scope="session")
def api_schema(stack: Stack) -> Any:
    schema = schemathesis.openapi.from_url(f"{stack.url}/openapi.json", timeout=30)
    schema.config.update(base_url=stack.url, headers=HEADERS, request_timeout=30)
    return schema


def _stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def confine_state(case: Any) -> None:
    """Writes go to a handful of apps: the dev namespace about half the time, and at most
    FUZZ_APPS app names under it."""
    params = case.path_parameters or {}
    if case.method.upper() == "GET" or "namespace" not in params:
        return
    if _stable_hash(str(params["namespace"])) % 2 == 0:
        params["namespace"] = DEV_NAMESPACE
    if params["namespace"] == DEV_NAMESPACE:
        params["name"] = f"fuzz-{_stable_hash(str(params.get('name', ''))) % FUZZ_APPS}"


def check_problem(response: Any) -> None:
    """Every 4xx is problem+json with type, title, status (the response's own) and detail."""
    if not 400 <= response.status_code < 500:
        return
    content_type = ",".join(response.headers.get("content-type", []))  # lower-case keys, lists
    assert content_type.split(";")[0].strip() == PROBLEM, (
        f"{response.status_code} with Content-Type {content_type!r}: {response.text[:300]}"
    )
    body = response.json()
    assert isinstance(body, dict), body
    for field in ("type", "title", "detail"):
        assert isinstance(body.get(field), str) and body[field], (field, body)
    assert body.get("status") == response.status_code, body


def run_case(case: Any) -> None:
    confine_state(case)
    response = case.call(headers=HEADERS, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} body={case.body!r:.2000} query={case.query!r}"
        f" -> {response.status_code}: {response.text[:500]}"
    )
    check_problem(response)
    case.validate_response(response, checks=CHECKS, headers=HEADERS)


def fuzz(api_schema: Any, method: str, path: str, max_examples: int) -> None:
    operation = api_schema[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=list(Phase) if SHRINK else [Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def property_(case: Any) -> None:
        run_case(case)

    property_()


@pytest.mark.e2e
def test_every_route_is_documented_and_fuzzed(api_schema: Any) -> None:
    documented = sorted(
        (method.upper(), path)
        for path, item in api_schema.raw_schema["paths"].items()
        for method in item
    )
    assert documented == ROUTES


@pytest.mark.e2e
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_api_fuzz(api_schema: Any, method: str, path: str) -> None:
    fuzz(api_schema, method, path, EXAMPLES)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FUZZ_SLOW"), reason="long fuzz run: set FUZZ_SLOW=1")
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_api_fuzz_slow(api_schema: Any, method: str, path: str) -> None:
    fuzz(api_schema, method, path, SLOW_EXAMPLES)


@pytest.mark.parametrize("function", ["evaluate", "pricing"])
def test_a_non_utf8_body_is_a_400(function: str) -> None:
    """Found by this fuzz as a 500 (Powertools' decoded_body raised UnicodeDecodeError); the
    edge now rejects it before routing."""
    event = sample_event(function)  # POST /usage/cel/evaluate, PATCH /apps/team_local/.../pricing
    event["body"] = base64.b64encode(b"\xff").decode()
    event["isBase64Encoded"] = True
    response = load_handler(function).lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400, response
    assert response["headers"]["Content-Type"] == PROBLEM
    assert json.loads(response["body"])["errors"] == [
        {"field": "body", "message": "must be UTF-8 JSON"}
    ]
