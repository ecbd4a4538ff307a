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


# --- hostile bodies, media types and time zones ----------------------------------------------
# schemathesis generates from the schema, so it rarely writes what broke the edge: 2,000 nested
# brackets, a 4,301-digit integer, NaN, a media type in capitals, a time zone that is a
# directory of the zone database. These properties write exactly that, on every route.

HOSTILE_ROUTES = [
    (method, path.replace("{taskID}", "t-fuzz").replace("{namespace}", DEV_NAMESPACE))
    for method, path in ROUTES
]
HOSTILE_ROUTES = [(m, p.replace("{name}", "fuzz-hostile")) for m, p in HOSTILE_ROUTES]
BODY_TEMPLATES = [
    "HOLE",
    '{"pricing": {}, "task_inputs": {"x": HOLE}}',
    '{"pricing": {"prices": {"p": HOLE}}, "inference_expression": "prices.p"}',
    '{"pricing": {}, "usage_seconds": HOLE}',
    '{"pricing": {}, "output_meta": {"outputs": [{"type": "image", "count": HOLE}]}}',
    '{"pricing": {}, "output_meta": {"inputs": [{"type": "raw", "cost": HOLE}]}}',
    '{"pricing": {}, "resources": [{"name": "g", "type": "gpu", "model": "m", "price_per_hour": HOLE}]}',
    '{"prices": {"p": HOLE}}',
    '{"upstream_pricing": HOLE, "description": "x"}',
    '{"task_inputs": {"a": [1, {"b": HOLE}]}, "pricing": {"total_expression": "1"}}',
]


def _nesting(depth: int, opener: str, balanced: bool) -> str:
    closer = {"[": "]", '{"k": ': "}"}[opener]
    return opener * depth + ("0" + closer * depth if balanced else "")


hostile_values = st.one_of(
    st.builds(
        _nesting,
        st.integers(1, 3000),
        st.sampled_from(["[", '{"k": ']),
        st.booleans(),
    ),
    st.builds(
        lambda sign, digits: sign + "9" * digits, st.sampled_from(["", "-"]), st.integers(15, 6000)
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1e-999", '"\\ud800"', '"\\udfff x"']
    ),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
hostile_bodies = st.builds(
    lambda template, hole: template.replace("HOLE", hole),
    st.sampled_from(BODY_TEMPLATES),
    hostile_values,
)
_JSON_TYPES = ["application/json", "application/problem+json", "application/merge-patch+json"]
media_types = st.one_of(
    st.builds(
        lambda base, mask, suffix: (
            "".join(c.upper() if upper else c for c, upper in zip(base, mask, strict=False))
            + suffix
        ),
        st.sampled_from(_JSON_TYPES),
        st.lists(st.booleans(), min_size=30, max_size=30),
        st.sampled_from(["", "; charset=utf-8", "; CHARSET=UTF-8", "; charset=latin-1", ";"]),
    ),
    st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "text/json", "*/*", ""]),
    # requests refuses to send a header value with surrounding whitespace: not the API's answer.
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip),
)
time_zones = st.one_of(
    st.sampled_from(
        [
            "Europe",
            "America",
            "Etc",
            "Europe/",
            "posixrules",
            "../../../etc/passwd",
            "UTC\x00",
            "x" * 300,
        ]
    ),
    st.text(max_size=300),
)


def assert_answered(stack: Stack, response: Any, what: str) -> None:
    """No 5xx but 503 (with Retry-After), every 4xx is problem+json."""
    status = response.status_code
    assert status < 500 or (status == 503 and "Retry-After" in response.headers), (
        f"{what} -> {status}: {response.text[:500]}"
    )
    if 400 <= status < 500:
        assert response.headers["Content-Type"] == PROBLEM, (what, response.headers)
        body = response.json()
        assert body["status"] == status and body["title"] and body["detail"], body


def no_traceback_since(stack: Stack, mark: int) -> None:
    tracebacks = [line[:500] for line in stack.output[mark:] if "Traceback" in line]
    assert tracebacks == [], tracebacks


def _hostile_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=list(Phase) if SHRINK else [Phase.explicit, Phase.generate],
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("method", "path"), HOSTILE_ROUTES, ids=[" ".join(r) for r in HOSTILE_ROUTES]
)
def test_hostile_bodies_and_media_types_fuzz(stack: Stack, method: str, path: str) -> None:
    """Given any body built around a hostile value (deep nesting, a huge integer, NaN, ∞, a
    lone surrogate) under any media type, when it is sent to any route, then the answer is
    never a 5xx but 503, and nothing is logged with a traceback."""
    mark = len(stack.output)

    @_hostile_settings(EXAMPLES * 2)
    @given(body=hostile_bodies, media_type=media_types)
    def property_(body: str, media_type: str) -> None:
        response = stack.request(
            method, path, headers={"Content-Type": media_type}, data=body.encode()
        )
        assert_answered(stack, response, f"{method} {path} {media_type!r} {body[:200]!r}")

    property_()
    no_traceback_since(stack, mark)


TZ_ROUTES = [("GET", "/usage/breakdown"), ("GET", "/usage/summary"), ("GET", "/usage/tasks")]


@pytest.mark.e2e
@pytest.mark.parametrize(("method", "path"), TZ_ROUTES, ids=[" ".join(r) for r in TZ_ROUTES])
def test_time_zone_fuzz(stack: Stack, method: str, path: str) -> None:
    """Given any tz string, when a windowed route is asked for it, then a 200 or a 400 naming
    tz, never a 5xx, and no traceback."""
    mark = len(stack.output)

    @_hostile_settings(EXAMPLES * 2)
    @given(tz=time_zones)
    def property_(tz: str) -> None:
        response = stack.request(method, path, params={"tz": tz})
        assert_answered(stack, response, f"{method} {path} tz={tz[:80]!r}")
        if response.status_code == 400:
            assert "tz" in {e["field"] for e in response.json().get("errors", [])}

    property_()
    no_traceback_since(stack, mark)
