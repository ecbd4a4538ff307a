"""Scheduled prices (SPEC §6): a version published with effective_at prices the tasks that
complete from then on; until then the previous version does; the owner sees what is scheduled;
publishing never changes a record already billed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld

from .billing_helpers import Billing, completed

V1 = {"prices": {"per_image": 200_000}, "inference_expression": "image_count(outputs) * prices.per_image"}  # fmt: skip
V2 = {"prices": {"per_image": 300_000}}
RESOURCE = 5_232_498  # llm/micro for 600 s
APP = "team_a/flux"


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def publish(world: Billing, body: dict[str, Any], effective_at: datetime | None = None) -> Any:
    assert world.patch(APP, body)[0] == 200
    status, view = world.publish(
        APP, body=None if effective_at is None else {"effective_at": iso(effective_at)}
    )
    assert status == 200, view
    return view


def charged(world: Billing, task_id: str) -> tuple[int, int]:
    status, cost = world.cost(task_id)
    assert status == 200, cost
    return cost["charged"]["value"], cost["pricing_version"]


def test_given_a_version_scheduled_at_e_when_tasks_complete_1ms_around_it_then_each_is_priced_by_the_version_live_then(
    world: Billing,
) -> None:
    publish(world, V1)
    effective = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    publish(world, V2, effective)
    cases = [  # task, completed_at, (charged, pricing version)
        ("before", effective - timedelta(milliseconds=1), (RESOURCE + 2 * 200_000, 1)),
        ("at", effective, (RESOURCE + 2 * 300_000, 2)),
        ("after", effective + timedelta(milliseconds=1), (RESOURCE + 2 * 300_000, 2)),
    ]
    assert world.deliver(*(completed(task, completed_at=at) for task, at, _ in cases)) == []
    for task, _, expected in cases:
        assert charged(world, task) == expected, task


def test_given_a_scheduled_version_when_the_owner_and_another_team_read_then_only_the_owner_sees_it(
    world: Billing,
) -> None:
    publish(world, V1)
    effective = datetime.now(UTC) + timedelta(days=1)
    view = publish(world, V2, effective)
    assert view["live"]["version"] == 1
    assert [(v["version"], v["effective_at"]) for v in view["scheduled"]] == [(2, iso(effective))]
    assert view["scheduled"][0]["pricing"]["prices"] == {"per_image": 300_000}
    status, theirs = world.view(APP, team="team_b")
    assert status == 200
    assert theirs["live"]["version"] == 1
    assert theirs["scheduled"] is None and theirs["draft"] is None


def test_given_only_a_scheduled_version_when_another_team_reads_then_nothing_is_live_for_them(
    world: Billing,
) -> None:
    publish(world, V1, datetime.now(UTC) + timedelta(hours=1))
    assert world.view(APP, team="team_b")[0] == 404
    status, mine = world.view(APP)
    assert status == 200 and mine["live"] is None and len(mine["scheduled"]) == 1


def test_given_a_billed_task_when_a_new_version_is_published_then_its_record_keeps_its_cost(
    world: Billing,
) -> None:
    publish(world, V1)
    done = datetime.now(UTC)
    early = completed("early", completed_at=done)
    assert world.deliver(early) == []
    publish(world, V2)  # effective now
    late_but_earlier = completed("late", completed_at=done)  # completed before, delivered after
    assert world.deliver(early, late_but_earlier) == []
    assert charged(world, "early") == (RESOURCE + 400_000, 1)
    assert charged(world, "late") == (RESOURCE + 400_000, 1)
    assert world.deliver(completed("new")) == []
    assert charged(world, "new") == (RESOURCE + 600_000, 2)


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"effective_at": iso(NOW - timedelta(minutes=5))}, "effective_at"),  # in the past
        ({"effective_at": "2999-01-01"}, "effective_at"),  # a date, not a date-time
        ({"effective_at": "2999-01-01T00:00:00"}, "effective_at"),  # no offset
        ({"effective_at": "2999-01-01 00:00:00Z"}, "effective_at"),  # not RFC 3339
        ({"effective_at": "2999-02-30T00:00:00Z"}, "effective_at"),  # no such day
        ({"effective_at": "3000-01-01T00:00:00Z"}, "effective_at"),  # beyond the table's years
        ({"effective_at": "9999-12-31T23:59:59-23:59"}, "effective_at"),  # overflows UTC
        ({"effective_at": 1767225600}, "effective_at"),  # a number
        ({"effective_at": iso(NOW + timedelta(days=1)), "at": "x"}, "at"),  # unknown field
    ],
)
def test_given_a_bad_effective_at_when_publishing_then_400_names_the_field_and_nothing_is_published(
    world: Billing, body: dict[str, Any], field: str
) -> None:
    assert world.patch(APP, V1)[0] == 200
    status, problem = world.publish(APP, body=body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]
    assert world.view(APP)[1]["live"] is None and world.view(APP)[1]["scheduled"] == []


def test_given_effective_at_with_an_offset_and_nanoseconds_when_publishing_then_it_is_read_as_utc(
    world: Billing,
) -> None:
    assert world.patch(APP, V1)[0] == 200
    status, view = world.publish(APP, body={"effective_at": "2998-06-01T10:00:00.123456789+02:00"})
    assert status == 200, view
    assert view["scheduled"][0]["effective_at"] == "2998-06-01T08:00:00.123456Z"
