"""A hold's refusal under contention (docs/spend-controls.md): a refusal is made only on budgets
read for the request, and that read takes no attempt of the ones contention may use up, so a
budget that is full when the last attempt looks is a 402, never a 429 "busy"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AwsWorld

from .controls_helpers import Controls, Recorder, fig


@pytest.fixture
def controls(aws: AwsWorld, recorder: Recorder) -> Iterator[Controls]:
    yield Controls(aws)


def contended(
    controls: Controls, times: int, meanwhile: Any = lambda: None, tried: list[int] | None = None
) -> list[int]:
    """The authorization handler's transactions are cancelled `times` times by a counter's
    condition (another hold moved it), and `meanwhile` runs before the last of them; the budget
    reads each attempt made."""
    from usage_pricing.controls.store import Transaction

    service = controls.holds.holds
    store = service.store
    transact, team = store.transact, store.team
    reads: list[int] = []

    def flaky(items: list[dict[str, Any]], action: str) -> None:
        nonlocal times
        if tried is not None:
            tried.append(1)
        if times > 0:
            times -= 1
            if times == 0:
                meanwhile()
            error: Any = None
            raise Transaction([None, None, "ConditionalCheckFailed"], error)
        transact(items, action)

    def counted(team_id: str) -> Any:
        reads.append(1)
        return team(team_id)

    store.transact, store.team = flaky, counted
    service.sleep = lambda _s: None
    return reads


def test_given_a_budget_filled_while_every_attempt_was_contended_when_the_last_attempt_looks_then_it_is_a_402_not_busy(
    controls: Controls,
) -> None:
    from usage_pricing.controls.holds import ATTEMPTS

    assert controls.put("hard", {"period": "month", "limit": 100, "action": "block"})[0] == 201
    assert controls.authorize({"task_id": "warm", "app": "team_a/flux", "amount": 10})[0] == 201
    # the handler now caches the team's budgets; another process takes the rest meanwhile
    store = controls.holds.holds.store

    def fill() -> None:
        from usage_pricing.controls.holds import AuthorizationRequest, AuthorizationService
        from usage_pricing.controls.store import ControlsStore

        rival = AuthorizationService(ControlsStore(store.table))
        body = {"task_id": "other", "app": "team_a/flux", "amount": 90}
        rival.authorize("team_a", AuthorizationRequest.model_validate(body), 90)

    reads = contended(controls, ATTEMPTS - 1, fill)
    status, problem = controls.authorize({"task_id": "late", "app": "team_a/flux", "amount": 5})
    assert status == 402, problem
    assert problem["budgets"] == [{"budget_id": "hard", "remaining": fig(0)}]
    assert len(reads) == 1  # the cached list answered every attempt, one read confirmed it


def test_given_every_attempt_contended_when_a_hold_asks_then_it_is_busy_after_exactly_the_attempts(
    controls: Controls,
) -> None:
    from usage_pricing.controls.holds import ATTEMPTS

    assert controls.put("hard", {"period": "month", "limit": 100, "action": "block"})[0] == 201
    assert controls.authorize({"task_id": "warm", "app": "team_a/flux", "amount": 10})[0] == 201
    tried: list[int] = []
    reads = contended(controls, 10**6, tried=tried)
    status, problem = controls.authorize({"task_id": "late", "app": "team_a/flux", "amount": 5})
    assert (status, problem["detail"]) == (
        429,
        "the budget is busy; retry the authorization shortly",
    )
    assert (len(tried), len(reads)) == (ATTEMPTS, 0)
    assert controls.get("hard")[1]["held"] == fig(10)
