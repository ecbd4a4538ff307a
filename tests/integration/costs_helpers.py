"""The costs feed's test world: three billed days and the feed's answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .analytics_helpers import NOW, Analytics, at
from .billing_helpers import refunded

DAY = 86_400

TODAY = int(datetime(2026, 11, 22, tzinfo=UTC).timestamp())


def costs(world: Analytics, **query: str) -> tuple[int, dict[str, Any], str]:
    response = world.call(world.breakdown_fn, PATH, query)
    return response["statusCode"], response["headers"], response["body"]


def ok(world: Analytics, **query: str) -> Any:
    status, headers, body = costs(world, **query)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    return json.loads(body, parse_float=Decimal)


def bill_three_days(world: Analytics) -> None:
    """Two apps over the last three UTC days, one task refunded."""
    world.bill(
        at(NOW - timedelta(days=2), "d2", app="team_a/flux"),
        at(NOW - timedelta(days=1), "d1a", app="team_a/flux"),
        at(NOW - timedelta(days=1), "d1b", app="team_a/chat"),
        at(NOW - timedelta(hours=1), "d0", app="team_a/chat"),
        at(NOW - timedelta(hours=2), "gone", app="team_a/chat"),
    )
    world.bill(refunded("gone"))


PATH = "/v1/organization/costs"
