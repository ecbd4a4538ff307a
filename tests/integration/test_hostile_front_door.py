"""The hostile corpus of the front door (tests/hostile.py) against the in-process handlers: the
local stack's own router and authorizer (local.stack.LocalApi) in front of the real handlers,
moto's tables behind them, no sockets. tests/e2e/test_hostile_front_door.py runs the same
tables over HTTP.

Each case: Given a request, When it reaches the front door, Then its status, the problem+json
shape and the field it names; and nothing at all is logged with a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.functions import load_functions
from local.stack import LocalApi
from tests import hostile
from tests.conftest import AwsWorld
from tests.problems import assert_problem
from usage_pricing.edge.key_store import ApiKeyRepository
from usage_pricing.runtime.wiring import Wiring

from .faults import PERMANENT_FAULTS, TRANSPORT_FAULTS, FailingDynamoDB


class FrontDoor:
    def __init__(self, aws: AwsWorld) -> None:
        self.aws = aws
        self.api = LocalApi(aws.template, load_functions(aws.template))
        self.keys = ApiKeyRepository(aws.dynamodb.Table("ApiKeysTable"))
        self.dev_key = self.new_key(hostile.TEAM, "*")

    def new_key(self, team: str, scopes: str) -> str:
        return self.keys.create(team, scopes.split())[0]

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "dev",
        body: str | None = None,
        content_type: str | None = "application/json",
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"x-api-version": "2"}
        if key is not None:
            headers["authorization"] = f"Bearer {self.dev_key if key == 'dev' else key}"
        if content_type is not None:
            headers["content-type"] = content_type
        raw = (body or "").encode()
        status, out_headers, out = self.api.handle(method, path, headers, raw, "127.0.0.1")
        return status, out_headers, json.loads(out) if out else None


@pytest.fixture(scope="module")
def world() -> Iterator[AwsWorld]:
    """One moto world for the module: the corpus is read-only but for drafts of its own apps."""
    from moto import mock_aws

    from local.atomic import serialize_dynamodb

    serialize_dynamodb()
    with mock_aws():
        yield AwsWorld()


@pytest.fixture(scope="module")
def door(world: AwsWorld) -> FrontDoor:
    return FrontDoor(world)


@pytest.fixture(autouse=True)
def no_traceback_is_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An expected failure (a 4xx, a storage outage) is answered and at most logged as a line;
    only a bug logs a traceback ("unhandled error")."""
    yield
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text] == []
    assert "Traceback" not in caplog.text


# --- bodies that once answered 500 ----------------------------------------------------------------


def test_the_corpus_calls_every_route_the_gateway_serves_with_a_key(world: AwsWorld) -> None:
    """Given template.yaml's routes, then hostile.routes() reaches every authorized one: a route
    added later (budgets, holds, the costs feed once were) meets the hostile bodies and the key
    table's outage too, not only the routes that existed when the corpus was written."""
    served = [r for r in world.template.routes() if r.path != "$default" and r.authorized]
    called = hostile.routes()
    missing = [
        r.route_key
        for r in served
        if not any(r.match(method, path) is not None for method, path in called)
    ]
    assert missing == []


@pytest.mark.parametrize(("method", "path"), hostile.routes(), ids=" ".join)
@pytest.mark.parametrize("case", hostile.HOSTILE_BODIES, ids=lambda c: c.id)
def test_a_hostile_body_is_a_400_naming_its_field_on_every_route(
    door: FrontDoor, method: str, path: str, case: hostile.BodyCase
) -> None:
    status, headers, problem = door.request(method, path, body=case.body)
    assert_problem((status, headers, problem), 400)
    issues = {e["field"]: e["message"] for e in problem["errors"]}
    assert case.field in issues, issues
    assert issues[case.field].startswith(case.message)


@pytest.mark.parametrize(
    "body", hostile.ACCEPTED_EVALUATE_BODIES.values(), ids=list(hostile.ACCEPTED_EVALUATE_BODIES)
)
def test_the_neighbours_of_the_hostile_bodies_are_priced(door: FrontDoor, body: str) -> None:
    status, _, answer = door.request("POST", "/usage/cel/evaluate", body=body)
    assert status == 200, answer


@pytest.mark.parametrize(("method", "path"), hostile.BODY_ROUTES, ids=" ".join)
@pytest.mark.parametrize("media_type", hostile.ACCEPTED_MEDIA_TYPES)
def test_json_media_types_are_case_insensitive(
    door: FrontDoor, method: str, path: str, media_type: str
) -> None:
    status, _, answer = door.request(
        method, path, body=hostile.VALID_BODY[method], content_type=media_type
    )
    assert status == 200, answer


@pytest.mark.parametrize(("method", "path"), hostile.BODY_ROUTES, ids=" ".join)
@pytest.mark.parametrize("media_type", hostile.REFUSED_MEDIA_TYPES)
def test_other_media_types_are_a_415_naming_the_header(
    door: FrontDoor, method: str, path: str, media_type: str
) -> None:
    status, headers, problem = door.request(
        method, path, body=hostile.VALID_BODY[method], content_type=media_type
    )
    assert_problem((status, headers, problem), 415)
    assert [e["field"] for e in problem["errors"]] == ["Content-Type"]


# --- drafts ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team_a_apps(door: FrontDoor) -> dict[str, str]:
    """team_a's `draft-only` app (a draft, never published) and `live-and-draft` app (v1 live,
    a newer draft holding the secret)."""
    owner = door.new_key("team_a", "apps")
    apps = {"draft-only": "team_a/draft-only", "live-and-draft": "team_a/live-and-draft"}
    live = apps["live-and-draft"]
    assert (
        door.request(
            "PATCH", f"/apps/{live}/pricing", key=owner, body=json.dumps(hostile.LIVE_PRICING)
        )[0]
        == 200
    )
    assert door.request("POST", f"/apps/{live}/pricing/publish", key=owner)[0] == 200
    for app in apps.values():
        patch = json.dumps(hostile.DRAFT_PRICING)
        assert door.request("PATCH", f"/apps/{app}/pricing", key=owner, body=patch)[0] == 200
    return apps


@pytest.mark.parametrize("case", hostile.DRAFT_CASES, ids=lambda c: c.id)
def test_a_draft_is_seen_only_by_its_owner(
    door: FrontDoor, team_a_apps: dict[str, str], case: hostile.DraftCase
) -> None:
    apps = team_a_apps
    key = door.new_key("team_a" if case.team == "owner" else "team_b", case.scopes)
    status, headers, answer = door.request("GET", f"/apps/{apps[case.state]}/pricing", key=key)
    assert status == case.status, answer
    text = json.dumps(answer)
    if status != 200:
        assert_problem((status, headers, answer), case.status)
    elif case.sees_draft:
        assert answer["draft"]["pricing"]["prices"][hostile.DRAFT_SECRET] == 777
    else:
        assert answer.get("draft") is None
        assert answer["live"]["pricing"]["prices"] == hostile.LIVE_PRICING["prices"]
    if not case.sees_draft:
        assert hostile.DRAFT_SECRET not in text and "secret upstream" not in text
    if case.live_version is not None and status == 200:
        assert answer["live"]["version"] == case.live_version


# --- the storage edge --------------------------------------------------------------------------


def storage_routes() -> list[tuple[str, str, str | None]]:
    """Every route that reads or writes a table, with a body it accepts."""
    app = f"/apps/{hostile.TEAM}/{hostile.APP}/pricing"
    return [
        ("GET", "/usage/breakdown", None),
        ("GET", "/usage/summary", None),
        ("GET", "/usage/tasks/t-1/cost", None),
        ("GET", "/usage/tasks", None),
        ("GET", app, None),
        ("PATCH", app, hostile.VALID_BODY["PATCH"]),
        ("POST", f"{app}/publish", None),
        ("POST", f"{app}/quote", None),
    ]


@pytest.fixture
def failing_handlers(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Callable[[], Exception]], FailingDynamoDB]:
    """Handlers (loaded after this) whose every table fails as planned, injected through the
    composition root."""

    def install(fault: Callable[[], Exception]) -> FailingDynamoDB:
        failing = FailingDynamoDB(fault)
        monkeypatch.setattr(Wiring, "resource_factory", staticmethod(lambda: failing))
        return failing

    return install


FAULTS = {**TRANSPORT_FAULTS, **PERMANENT_FAULTS}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("route", storage_routes(), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_storage_failure_is_a_503_on_every_route(
    world: AwsWorld,
    failing_handlers: Callable[[Callable[[], Exception]], FailingDynamoDB],
    fault: str,
    route: tuple[str, str, str | None],
) -> None:
    """Given DynamoDB failing every call (throttled, down, unreachable, or misconfigured), when
    any route that needs it is called, then 503 problem+json: with Retry-After when a retry
    may succeed, without it when it will not; never a 500."""
    method, path, body = route
    failing = failing_handlers(FAULTS[fault])
    api = LocalApi(world.template, load_functions(world.template))
    # The key was resolved before the outage began (the gateway caches the authorizer's answer).
    key = "inf_" + "k" * 43
    resolved = {"team_id": hostile.TEAM, "scopes": "*", "reason": ""}
    api.cache.put((f"Bearer {key}",), {"isAuthorized": True, "context": resolved})
    headers = {"authorization": f"Bearer {key}", "x-api-version": "2"}
    headers["content-type"] = "application/json"
    status, out_headers, out = api.handle(method, path, headers, (body or "").encode(), "")
    problem = json.loads(out)
    assert_problem((status, out_headers, problem), 503)
    assert problem["title"] == "Storage unavailable"
    assert out_headers.get("Retry-After") == ("1" if fault in TRANSPORT_FAULTS else None)
    assert failing.calls(), "the route never reached storage"


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_the_authorizer_answers_an_unreachable_key_table_with_a_503(
    world: AwsWorld,
    failing_handlers: Callable[[Callable[[], Exception]], FailingDynamoDB],
    fault: str,
) -> None:
    """Given the API-keys table failing, when a key is presented, then the authorizer does not
    crash (which the gateway would turn into a bare 500): the handler answers 503 with
    Retry-After, and every route does the same."""
    failing = failing_handlers(FAULTS[fault])
    api = LocalApi(world.template, load_functions(world.template))
    headers = {"authorization": "Bearer inf_" + "k" * 43, "x-api-version": "2"}
    for method, path in hostile.routes():
        status, out_headers, out = api.handle(method, path, headers, b"", "")
        assert_problem((status, out_headers, json.loads(out)), 503)
        assert out_headers["Retry-After"] == "1"
    assert failing.calls() == ["get_item"]  # once: the gateway caches the answer, as it would


def test_repositories_map_every_call_the_same_way(world: AwsWorld) -> None:
    """Given each repository on failing tables, when any of its operations runs, then it raises
    a StorageError (retryable for a transient fault) and nothing else."""
    from datetime import UTC, datetime

    from usage_pricing import AppPricing, Settings, StorageError
    from usage_pricing.ledger.billing import BillingService
    from usage_pricing.pricing.repository import PricingRepository
    from usage_pricing.storage.aggregates import Granularity
    from usage_pricing.usage.events import TaskCompletedEvent, TaskEventEnvelope

    from .billing_helpers import completed

    event = TaskEventEnvelope.parse(completed("t-1"))
    assert isinstance(event, TaskCompletedEvent)
    working = Wiring(Settings(), dynamodb=world.dynamodb)
    record = BillingService(
        working.ledger(),
        PricingRepository(world.dynamodb.Table("PricingTable")),
        working.evaluator(),
    ).price_task(event.detail)
    now = datetime.now(UTC)

    def operations(wiring: Wiring) -> dict[str, Callable[[], object]]:
        keys, pricing = wiring.api_keys(), wiring.pricing()
        aggregates, ledger = wiring.aggregates(), wiring.ledger()
        ledger.sleep = lambda _seconds: None
        return {
            "api_keys.create": lambda: keys.create("t", ["*"]),
            "api_keys.get": lambda: keys.get("inf_" + "k" * 43),
            "api_keys.revoke": lambda: keys.revoke("inf_" + "k" * 43),
            "pricing.draft": lambda: pricing.draft("a/b"),
            "pricing.save_draft": lambda: pricing.save_draft("a/b", AppPricing(), 0, now),
            "pricing.live": lambda: pricing.live("a/b"),
            "pricing.live_at": lambda: pricing.live_at("a/b", now),
            "pricing.publish": lambda: pricing.publish("a/b", AppPricing(), now),
            "aggregates.read": lambda: aggregates.read("t", Granularity.DAY, "a", "b"),
            "ledger.get": lambda: ledger.get("t-1"),
            "ledger.charge": lambda: ledger.charge(record),
            "ledger.refund": lambda: ledger.refund("t-1", "t", "r", now),
        }

    for name, fault in FAULTS.items():
        for operation, call in operations(
            Wiring(Settings(), dynamodb=FailingDynamoDB(fault))
        ).items():
            with pytest.raises(StorageError) as raised:
                call()
            assert raised.value.retryable is (name in TRANSPORT_FAULTS), (name, operation)
