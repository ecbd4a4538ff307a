"""The hostile corpus of the front door (tests/hostile.py) over real HTTP against the local stack
(tests/integration/test_hostile_front_door.py runs it in-process). Every case asserts its status
and problem+json shape, and that the stack logged no traceback while answering it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from tests import hostile
from tests.problems import assert_problem
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def quiet_log(stack: Stack) -> Iterator[None]:
    """The stack prints its handlers' logs; none of them may carry a traceback."""
    mark = len(stack.output)
    yield
    assert not [line for line in stack.output[mark:] if "Traceback" in line]


def send(
    stack: Stack,
    method: str,
    path: str,
    body: str | None = None,
    *,
    key: str | None = "inf_local_dev",
    content_type: str | None = "application/json",
) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    data = body.encode() if body is not None else None
    return stack.request(method, path, key=key, headers=headers, data=data)


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize(("method", "path"), hostile.routes(), ids=" ".join)
@pytest.mark.parametrize("case", hostile.HOSTILE_BODIES, ids=lambda c: c.id)
def test_a_hostile_body_is_a_400_naming_its_field_on_every_route(
    stack: Stack, method: str, path: str, case: hostile.BodyCase
) -> None:
    problem = assert_problem(send(stack, method, path, case.body), 400)
    issues = {e["field"]: e["message"] for e in problem["errors"]}
    assert case.field in issues, issues
    assert issues[case.field].startswith(case.message)


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize(
    "body", hostile.ACCEPTED_EVALUATE_BODIES.values(), ids=list(hostile.ACCEPTED_EVALUATE_BODIES)
)
def test_the_neighbours_of_the_hostile_bodies_are_priced(stack: Stack, body: str) -> None:
    response = send(stack, "POST", "/usage/cel/evaluate", body)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize(("method", "path"), hostile.BODY_ROUTES, ids=" ".join)
@pytest.mark.parametrize("media_type", hostile.ACCEPTED_MEDIA_TYPES)
def test_json_media_types_are_case_insensitive(
    stack: Stack, method: str, path: str, media_type: str
) -> None:
    response = send(stack, method, path, hostile.VALID_BODY[method], content_type=media_type)
    assert response.status_code == 200, response.text[:500]


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize(("method", "path"), hostile.BODY_ROUTES, ids=" ".join)
@pytest.mark.parametrize("media_type", hostile.REFUSED_MEDIA_TYPES)
def test_other_media_types_are_a_415_naming_the_header(
    stack: Stack, method: str, path: str, media_type: str
) -> None:
    response = send(stack, method, path, hostile.VALID_BODY[method], content_type=media_type)
    problem = assert_problem(response, 415)
    assert [e["field"] for e in problem["errors"]] == ["Content-Type"]


OWNER, OTHER = "team_hostile_a", "team_hostile_b"


@pytest.fixture(scope="module")
def owner_apps(stack: Stack) -> dict[str, str]:
    owner = stack.new_key(OWNER, "apps")
    apps = {state: f"{OWNER}/{state}" for state in ("draft-only", "live-and-draft")}
    live = apps["live-and-draft"]
    assert send(
        stack, "PATCH", f"/apps/{live}/pricing", json.dumps(hostile.LIVE_PRICING), key=owner
    ).ok
    assert send(stack, "POST", f"/apps/{live}/pricing/publish", key=owner).ok
    for app in apps.values():
        patch = json.dumps(hostile.DRAFT_PRICING)
        assert send(stack, "PATCH", f"/apps/{app}/pricing", patch, key=owner).ok
    return apps


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("case", hostile.DRAFT_CASES, ids=lambda c: c.id)
def test_a_draft_is_seen_only_by_its_owner(
    stack: Stack, owner_apps: dict[str, str], case: hostile.DraftCase
) -> None:
    key = stack.new_key(OWNER if case.team == "owner" else OTHER, case.scopes)
    response = send(stack, "GET", f"/apps/{owner_apps[case.state]}/pricing", key=key)
    if case.status != 200:
        assert_problem(response, case.status)
    else:
        assert response.status_code == 200, response.text
        answer = response.json()
        if case.sees_draft:
            assert answer["draft"]["pricing"]["prices"][hostile.DRAFT_SECRET] == 777
        else:
            assert answer.get("draft") is None
        if case.live_version is not None:
            assert answer["live"]["version"] == case.live_version
    if not case.sees_draft:
        assert hostile.DRAFT_SECRET not in response.text
        assert "secret upstream" not in response.text


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("scopes", ["nothing", "billing:admin", "apps:admin"])
def test_a_key_without_a_routes_scope_is_refused_on_every_route(stack: Stack, scopes: str) -> None:
    key = stack.new_key("team_hostile_scopes", scopes)
    for method, path in hostile.routes("team_hostile_scopes"):
        assert_problem(send(stack, method, path, key=key), 403)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture(scope="module")
def outage() -> Iterator[Stack]:
    """A second local stack whose handlers find DynamoDB unreachable (its endpoint a closed
    port): a storage outage, over HTTP, from the authorizer on."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with running_stack({"LOCAL_HANDLER_DYNAMODB_ENDPOINT": endpoint}, demo=False) as down:
        yield down


def test_an_unreachable_database_is_a_503_with_retry_after_on_every_route(
    outage: Stack,
) -> None:
    """Given DynamoDB unreachable, when any route is called with a key, then 503 problem+json
    with Retry-After (the authorizer cannot resolve the key, and says so), and no traceback."""
    mark = len(outage.output)
    for method, path in hostile.routes():
        body = hostile.VALID_BODY.get(method) if (method, path) in hostile.BODY_ROUTES else None
        response = send(outage, method, path, body)
        problem = assert_problem(response, 503)
        assert problem["title"] == "Storage unavailable"
        assert response.headers["Retry-After"] == "1"
    assert not [line for line in outage.output[mark:] if "Traceback" in line]
