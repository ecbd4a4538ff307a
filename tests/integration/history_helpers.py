"""The hand-computed history the backtest and audit tests read, billed through the billing function
(moto tables from template.yaml): team_a's app team_a/flux, every task 600 s on llm/micro (resource fee
R = 5,232,498 µ¢), billed under three versions:

| task     | completed | version | images | status    | charged                           |
|----------|-----------|---------|--------|-----------|-----------------------------------|
| old      | T − 2 h   | 0       | 2      | completed | R (no pricing yet)                |
| v1       | T + 60 s  | 1       | 2      | completed | R + 2 × 200,000                   |
| failed   | T + 61 s  | 1       | 3      | failed    | 0 (total R + 600,000, discounted) |
| review   | T + 62 s  | 1       | 2      | completed | R: inference ÷ 0, needs_review    |
| refunded | T + 63 s  | 1       | 2      | refunded  | left out                          |
| v2       | T + 240 s | 2       | 1      | completed | R + 300,000 (v2 from T + 180 s)   |

plus tasks the backtest must not see: another team's run of the app, another app of team_a, and
a task before the window."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import AwsWorld

from .billing_helpers import Billing, completed, refunded

R = 5_232_498
APP = "team_a/flux"
DIVIDED = "image_count(outputs) * prices.per_image / get(task_inputs, 'div', 1)"
V1 = {"prices": {"per_image": 200_000}, "inference_expression": DIVIDED}
V2 = {"prices": {"per_image": 300_000}}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class History:
    def __init__(self, world: Billing) -> None:
        self.world = world
        self.t = datetime.now(UTC).replace(microsecond=0)
        t = self.t
        assert world.deliver(completed("old", completed_at=t - timedelta(hours=2))) == []
        assert world.deliver(completed("before-window", completed_at=t - timedelta(days=2))) == []
        # Both published half an hour ago (an injected clock): version 2 was then scheduled more
        # than the completion-time allowance ahead, to take effect at t + 180 s.
        clock, world.pricing.store.clock = (
            world.pricing.store.clock,
            lambda: t - timedelta(minutes=30),
        )
        assert world.patch(APP, V1)[0] == 200
        assert world.publish(APP)[0] == 200
        assert world.patch(APP, V2)[0] == 200
        status, view = world.publish(APP, body={"effective_at": iso(t + timedelta(seconds=180))})
        assert status == 200, view
        world.pricing.store.clock = clock
        at = t + timedelta(seconds=60)
        events = [
            completed("v1", completed_at=at),
            completed("failed", completed_at=at + timedelta(seconds=1), status="failed", images=3),
            completed("review", completed_at=at + timedelta(seconds=2), task_inputs={"div": 0}),
            completed("refunded", completed_at=at + timedelta(seconds=3)),
            completed("v2", completed_at=t + timedelta(seconds=240), images=1),
            completed("theirs", completed_at=at, team="team_b"),
            completed("other-app", completed_at=at, app="team_a/other"),
        ]
        assert world.deliver(*events) == []
        assert world.deliver(refunded("refunded")) == []
        self.window = {"start": iso(t - timedelta(days=1)), "end": iso(t + timedelta(hours=1))}

    def backtest(
        self, body: Any = None, *, team: str = "team_a", scopes: str = "*", **query: str
    ) -> tuple[int, Any]:
        return self.world.backtest(
            APP, body=body, team=team, scopes=scopes, query={**self.window, **query}
        )

    def cost(self, task_id: str) -> tuple[int, int]:
        status, cost = self.world.cost(task_id)
        assert status == 200, cost
        return cost["charged"]["value"], cost["pricing_version"]


def shared_history(aws: AwsWorld, built: dict[str, Any]) -> History:
    """The history, billed once per module (AwsWorld.once) and restored into each test's fresh
    tables; each test gets its own copy with freshly loaded handlers, so no handler cache and no
    change to `window` crosses tests."""
    history = copy.copy(aws.once(built, "history", lambda: History(Billing(aws))))
    history.world = Billing(aws)
    return history
