"""GET /keys/current: what the calling key may do, read from the same authorizer context every
route checks (docs/api.md#keys-scopes-and-versions)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import LambdaContext, load_handler
from tests.events import http_event
from tests.problems import assert_problem


@pytest.fixture(scope="module")
def handler() -> ModuleType:
    return load_handler("evaluate")


def ask(handler: ModuleType, scopes: str, team: str | None = "team_a") -> dict[str, Any]:
    response = handler.lambda_handler(
        http_event("GET /keys/current", team=team, scopes=scopes), LambdaContext()
    )
    return response  # type: ignore[no-any-return]


def answer(response: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    return response["statusCode"], response["headers"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("scopes", "grants"),
    [
        ("*", ["apps:read", "apps:write", "billing:read", "billing:write"]),
        ("billing", ["billing:read", "billing:write"]),
        ("apps:read", ["apps:read"]),
        ("billing:read apps:write", ["apps:write", "billing:read"]),
        ("billing:write apps", ["apps:read", "apps:write", "billing:write"]),
    ],
)
def test_given_a_key_when_it_asks_what_it_may_do_then_it_gets_its_team_namespace_and_grants(
    handler: ModuleType, scopes: str, grants: list[str]
) -> None:
    status, headers, body = answer(ask(handler, scopes))
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert body == {
        "team_id": "team_a",
        "namespace": "team_a",
        "scopes": sorted(scopes.split()),
        "grants": grants,
    }


def test_given_a_key_that_opens_no_route_when_it_asks_then_403(handler: ModuleType) -> None:
    assert_problem(
        answer(ask(handler, "apps:admin")),
        403,
        detail="this API key lacks the apps:read or apps:write or billing:read or "
        "billing:write scope",
    )


def test_given_no_key_when_it_asks_then_401(handler: ModuleType) -> None:
    assert_problem(
        answer(ask(handler, "", team="")),
        401,
        detail="missing API key: send Authorization: Bearer <key>",
    )
