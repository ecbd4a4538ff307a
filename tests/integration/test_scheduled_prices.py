"""Scheduled prices (docs/billing.md): a version published with effective_at prices the tasks that
complete from then on; until then the previous version does; the owner sees what is scheduled,
lists it (GET …/pricing/scheduled) and cancels a version (DELETE …/scheduled/{version}) while it
is still more than the completion-time allowance ahead; publishing never changes a record already
billed. Time is an injected clock shared by the pricing store and billing, never a sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld
from usage_pricing.core.errors import ConflictError, NotFoundError
from usage_pricing.core.limits import CLOCK_SKEW, MAX_SCHEDULED_VERSIONS

from .billing_helpers import (
    Billing,
    Clock,
    completed,
    run_concurrently,
)
from .billing_helpers import iso_micro as iso
from .billing_helpers import publish_pricing as publish

V1 = {"prices": {"per_image": 200_000}, "inference_expression": "image_count(outputs) * prices.per_image"}  # fmt: skip
V2 = {"prices": {"per_image": 300_000}}
V3 = {"prices": {"per_image": 400_000}}
RESOURCE = 5_232_498  # llm/micro for 600 s
APP = "team_a/flux"
T0 = datetime.now(UTC).replace(microsecond=0)
FIFTEEN = "15 minutes"


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


@pytest.fixture
def clock(world: Billing) -> Clock:
    return Clock(world, T0)


def charged(world: Billing, task_id: str) -> tuple[int, int]:
    status, cost = world.cost(task_id)
    assert status == 200, cost
    return cost["charged"]["value"], cost["pricing_version"]


def scheduled_versions(world: Billing) -> list[tuple[int, str]]:
    status, listing = world.scheduled(APP)
    assert status == 200, listing
    return [(v["version"], v["effective_at"]) for v in listing["scheduled"]]


def test_given_a_version_scheduled_at_e_when_tasks_complete_1ms_around_it_then_each_is_priced_by_the_version_live_then(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    effective = T0 + timedelta(minutes=20)
    publish(world, V2, effective)
    clock.now = effective - timedelta(minutes=10)  # billing accepts completions up to E + 5 min
    cases = [  # task, completed_at, (charged, pricing version)
        ("before", effective - timedelta(milliseconds=1), (RESOURCE + 2 * 200_000, 1)),
        ("at", effective, (RESOURCE + 2 * 300_000, 2)),
        ("after", effective + timedelta(milliseconds=1), (RESOURCE + 2 * 300_000, 2)),
    ]
    assert world.deliver(*(completed(task, completed_at=at) for task, at, _ in cases)) == []
    for task, _, expected in cases:
        assert charged(world, task) == expected, task


def test_given_a_scheduled_version_when_the_owner_and_another_team_read_then_only_the_owner_sees_it(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    effective = T0 + timedelta(days=1)
    view = publish(world, V2, effective)
    assert view["live"]["version"] == 1
    assert [(v["version"], v["effective_at"]) for v in view["scheduled"]] == [(2, iso(effective))]
    assert view["scheduled"][0]["pricing"]["prices"] == {"per_image": 300_000}
    assert view["warnings"] == []
    status, theirs = world.view(APP, team="team_b")
    assert status == 200
    assert theirs["live"]["version"] == 1
    assert theirs["scheduled"] is None and theirs["draft"] is None


def test_given_only_a_scheduled_version_when_another_team_reads_then_nothing_is_live_for_them(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    assert world.view(APP, team="team_b")[0] == 404
    status, mine = world.view(APP)
    assert status == 200 and mine["live"] is None and len(mine["scheduled"]) == 1


def test_given_a_billed_task_when_a_new_version_is_published_then_its_record_keeps_its_cost(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    early = completed("early", completed_at=T0)
    assert world.deliver(early) == []
    clock.now = T0 + timedelta(seconds=1)
    publish(world, V2)  # effective now
    late_but_earlier = completed("late", completed_at=T0)  # completed before, delivered after
    assert world.deliver(early, late_but_earlier) == []
    assert charged(world, "early") == (RESOURCE + 400_000, 1)
    assert charged(world, "late") == (RESOURCE + 400_000, 1)
    assert world.deliver(completed("new", completed_at=clock.now)) == []
    assert charged(world, "new") == (RESOURCE + 600_000, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"effective_at": iso(T0 - timedelta(minutes=5))}, "effective_at"),  # in the past
        ({"effective_at": iso(T0)}, "effective_at"),  # now
        ({"effective_at": "2999-01-01"}, "effective_at"),  # a date, not a date-time
        ({"effective_at": "2999-01-01T00:00:00"}, "effective_at"),  # no offset
        ({"effective_at": "2999-01-01 00:00:00Z"}, "effective_at"),  # not RFC 3339
        ({"effective_at": "2999-02-30T00:00:00Z"}, "effective_at"),  # no such day
        ({"effective_at": "3000-01-01T00:00:00Z"}, "effective_at"),  # beyond the table's years
        ({"effective_at": "9999-12-31T23:59:59-23:59"}, "effective_at"),  # overflows UTC
        ({"effective_at": 1767225600}, "effective_at"),  # a number
        ({"effective_at": iso(T0 + timedelta(days=1)), "at": "x"}, "at"),  # unknown field
    ],
)
def test_given_a_bad_effective_at_when_publishing_then_400_names_the_field_and_nothing_is_published(
    world: Billing, clock: Clock, body: dict[str, Any], field: str
) -> None:
    assert world.patch(APP, V1)[0] == 200
    status, problem = world.publish(APP, body=body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]
    assert world.view(APP)[1]["live"] is None and world.view(APP)[1]["scheduled"] == []


@pytest.mark.parametrize(
    "ahead",
    [timedelta(minutes=14), timedelta(minutes=14, seconds=59), CLOCK_SKEW],
    ids=["14 minutes", "14:59", "exactly 15 minutes"],
)
def test_given_effective_at_at_most_15_minutes_ahead_when_publishing_then_400_says_why(
    world: Billing, clock: Clock, ahead: timedelta
) -> None:
    """A task billed a moment ago may complete up to 15 minutes ahead (the completion-time
    allowance); a version taking effect before that could be the one live at its completed_at."""
    assert world.patch(APP, V1)[0] == 200
    effective_at = iso(T0 + ahead)
    status, problem = world.publish(APP, body={"effective_at": effective_at})
    assert status == 400, problem
    assert problem["detail"] == (
        f"effective_at {effective_at} is less than 15 minutes ahead: tasks may report "
        "completed_at up to 15 minutes in the future, so a version must be scheduled later than "
        "any task already billed"
    )
    assert problem["errors"] == [
        {
            "field": "effective_at",
            "message": "must be more than 15 minutes ahead (omit it to publish now)",
        }
    ]
    assert world.view(APP)[1]["scheduled"] == []


@pytest.mark.parametrize(
    "ahead",
    [CLOCK_SKEW + timedelta(microseconds=1), timedelta(minutes=16)],
    ids=["15 minutes and 1 µs", "16 minutes"],
)
def test_given_effective_at_more_than_15_minutes_ahead_when_publishing_then_it_is_scheduled(
    world: Billing, clock: Clock, ahead: timedelta
) -> None:
    view = publish(world, V1, T0 + ahead)
    assert view["live"] is None
    assert [(v["version"], v["effective_at"]) for v in view["scheduled"]] == [(1, iso(T0 + ahead))]


def test_given_effective_at_with_an_offset_and_nanoseconds_when_publishing_then_it_is_read_as_utc(
    world: Billing, clock: Clock
) -> None:
    assert world.patch(APP, V1)[0] == 200
    status, view = world.publish(APP, body={"effective_at": "2998-06-01T10:00:00.123456789+02:00"})
    assert status == 200, view
    assert view["scheduled"][0]["effective_at"] == "2998-06-01T08:00:00.123456Z"


# --- GET …/pricing/scheduled ---------------------------------------------------------------


def test_given_versions_scheduled_out_of_order_when_the_owner_lists_them_then_soonest_first(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)  # live: not listed
    publish(world, V2, T0 + timedelta(hours=3))
    publish(world, V3, T0 + timedelta(hours=1))
    publish(world, {"prices": {"per_image": 500_000}}, T0 + timedelta(hours=2))
    status, listing = world.scheduled(APP, scopes="apps:read")
    assert status == 200, listing
    assert listing == {
        "app": APP,
        "scheduled": [
            {
                "version": version,
                "published_at": iso(T0),
                "effective_at": iso(T0 + timedelta(hours=hours)),
                "pricing": {
                    "prices": {"per_image": per_image},
                    "upstream_pricing": "",
                    "resource_expression": "",
                    "inference_expression": V1["inference_expression"],
                    "royalty_expression": "",
                    "partner_expression": "",
                    "total_expression": "",
                    "description": "",
                    "description_rendered": "",
                },
            }
            for version, hours, per_image in [(3, 1, 400_000), (4, 2, 500_000), (2, 3, 300_000)]
        ],
    }
    clock.now = T0 + timedelta(hours=1)  # version 3 has taken effect
    assert scheduled_versions(world) == [
        (4, iso(T0 + timedelta(hours=2))),
        (2, iso(T0 + timedelta(hours=3))),
    ]


def test_given_nothing_scheduled_when_the_owner_lists_then_an_empty_list(
    world: Billing, clock: Clock
) -> None:
    assert world.scheduled(APP) == (200, {"app": APP, "scheduled": []})
    publish(world, V1)
    assert world.scheduled(APP) == (200, {"app": APP, "scheduled": []})


def test_given_another_teams_app_when_listing_or_cancelling_its_schedule_then_404_and_it_stays(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    assert world.scheduled(APP, team="team_b") == (
        404,
        {
            "type": "urn:usage-pricing:problem:not-found",
            "title": "Not found",
            "status": 404,
            "detail": f"no scheduled pricing for {APP}",
        },
    )
    status, problem = world.cancel(APP, 1, team="team_b")
    assert status == 404
    assert problem["detail"] == f"{APP} has no scheduled version 1"
    assert world.cancel(APP, 7, team="team_b") == (status, {**problem, "detail": f"{APP} has no scheduled version 7"})  # fmt: skip
    assert scheduled_versions(world) == [(1, iso(T0 + timedelta(hours=1)))]


def test_given_a_read_only_key_when_cancelling_then_403_and_the_version_stays(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    status, problem = world.cancel(APP, 1, scopes="apps:read billing:read")
    assert status == 403, problem
    assert problem["title"] == "Forbidden"
    assert scheduled_versions(world) == [(1, iso(T0 + timedelta(hours=1)))]


# --- DELETE …/pricing/scheduled/{version} ---------------------------------------------------


def test_given_a_cancelled_version_when_a_task_completes_after_its_time_then_the_old_version_prices_it(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    effective = T0 + timedelta(hours=1)
    publish(world, V2, effective)
    assert world.cancel(APP, 2, scopes="apps:write") == (204, None)
    assert scheduled_versions(world) == []
    assert world.view(APP)[1]["scheduled"] == []
    clock.now = effective + timedelta(minutes=1)
    after = completed("after", completed_at=effective + timedelta(seconds=30))
    assert world.deliver(after) == []
    assert charged(world, "after") == (RESOURCE + 2 * 200_000, 1)
    assert world.view(APP)[1]["live"]["version"] == 1
    # its number is never reused: the next publish is version 3
    assert publish(world, V3)["live"]["version"] == 3


def test_given_a_cancelled_version_when_cancelled_again_then_404(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    assert world.cancel(APP, 1) == (204, None)
    status, problem = world.cancel(APP, 1)
    assert status == 404
    assert problem["detail"] == f"{APP} has no scheduled version 1: it was cancelled"


@pytest.mark.parametrize("version", ["2", "999999"])
def test_given_no_such_version_when_cancelling_then_404(
    world: Billing, clock: Clock, version: str
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    status, problem = world.cancel(APP, version)
    assert (status, problem["detail"]) == (404, f"{APP} has no scheduled version {version}")


@pytest.mark.parametrize("version", ["x", "1.5", "0", "-1", "1000000", "9" * 40])
def test_given_a_version_that_is_not_a_version_number_when_cancelling_then_400_names_it(
    world: Billing, clock: Clock, version: str
) -> None:
    status, problem = world.cancel(APP, version)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == ["version"]


def test_given_a_version_that_took_effect_when_cancelling_then_409(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)  # effective now
    publish(world, V2, T0 + timedelta(hours=1))
    status, problem = world.cancel(APP, 1)
    assert (status, problem["detail"]) == (409, f"{APP} version 1 has already taken effect")
    clock.now = T0 + timedelta(hours=1)  # version 2's time has come
    status, problem = world.cancel(APP, 2)
    assert (status, problem["detail"]) == (409, f"{APP} version 2 has already taken effect")
    assert world.view(APP)[1]["live"]["version"] == 2


def test_given_a_version_within_15_minutes_of_its_time_when_cancelling_then_409_and_a_task_billed_with_it_stays_right(
    world: Billing, clock: Clock
) -> None:
    """Billing accepts completed_at up to 15 minutes ahead, so from 15 minutes before its time a
    scheduled version may already have priced a task; cancelling it then would leave that
    record priced by a version that never took effect."""
    publish(world, V1)
    effective = T0 + timedelta(hours=1)
    publish(world, V2, effective)
    clock.now = effective - timedelta(minutes=10)
    assert world.deliver(completed("early-bird", completed_at=effective + timedelta(minutes=4))) == []  # fmt: skip
    assert charged(world, "early-bird") == (RESOURCE + 2 * 300_000, 2)
    status, problem = world.cancel(APP, 2)
    assert status == 409
    assert problem["detail"] == (
        f"{APP} version 2 takes effect at {iso(effective)}: it can be cancelled only until "
        f"{FIFTEEN} before (tasks completing after it may already be billed with it)"
    )
    assert scheduled_versions(world) == [(2, iso(effective))]
    clock.now = effective - CLOCK_SKEW  # exactly the allowance ahead: already too late
    assert world.cancel(APP, 2)[0] == 409
    clock.now = effective - CLOCK_SKEW - timedelta(microseconds=1)
    assert world.cancel(APP, 2) == (204, None)


def test_given_time_passes_between_the_check_and_the_write_when_cancelling_then_the_condition_refuses_it(
    world: Billing, clock: Clock
) -> None:
    """The check reads the clock, then the write reads it again and conditions the delete on
    the version's effective_at still lying beyond the allowance: a cancel that crosses the
    line on the way is refused by DynamoDB, not by the earlier check."""
    publish(world, V1)
    effective = T0 + timedelta(hours=1)
    publish(world, V2, effective)
    moments = iter([effective - CLOCK_SKEW - timedelta(seconds=1), effective - CLOCK_SKEW])
    store = world.pricing.store
    with pytest.raises(ConflictError, match="can be cancelled only until 15 minutes before"):
        store.repository.cancel(APP, 2, lambda: next(moments), CLOCK_SKEW)
    assert scheduled_versions(world) == [(2, iso(effective))]


def test_given_concurrent_cancels_of_one_version_then_exactly_one_succeeds_and_the_rest_are_404(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    repository = world.pricing.store.repository
    outcomes: list[str] = []

    def cancel() -> None:
        try:
            repository.cancel(APP, 1, clock, CLOCK_SKEW)
            outcomes.append("cancelled")
        except NotFoundError:
            outcomes.append("404")

    run_concurrently(cancel)
    assert sorted(outcomes) == ["404"] * 7 + ["cancelled"]
    assert scheduled_versions(world) == []


# --- warnings and the bound on scheduled versions -------------------------------------------


def test_given_a_later_version_scheduled_when_publishing_now_then_warnings_name_it(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    publish(world, V2, T0 + timedelta(hours=2))
    publish(world, V3, T0 + timedelta(hours=1))
    view = publish(world, {"prices": {"per_image": 500_000}})
    assert view["live"]["version"] == 4
    assert view["warnings"] == [
        {
            "field": "effective_at",
            "message": f"version {version} is scheduled to take effect at {at} and will replace "
            f"version 4 then, unless cancelled (DELETE …/pricing/scheduled/{version})",
        }
        for version, at in [
            (3, iso(T0 + timedelta(hours=1))),
            (2, iso(T0 + timedelta(hours=2))),
        ]
    ]
    # they still replace it when their time comes
    clock.now = T0 + timedelta(hours=1)
    assert world.view(APP)[1]["live"]["version"] == 3


def test_given_a_version_scheduled_before_a_later_one_when_publishing_then_only_the_later_is_named(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1, T0 + timedelta(hours=1))
    view = publish(world, V2, T0 + timedelta(hours=2))
    assert view["warnings"] == []
    view = publish(world, V3, T0 + timedelta(minutes=30))
    assert [w["message"].split(" is ")[0] for w in view["warnings"]] == ["version 1", "version 2"]


def test_given_the_most_scheduled_versions_when_scheduling_another_then_409_but_publishing_now_works(
    world: Billing, clock: Clock
) -> None:
    for index in range(MAX_SCHEDULED_VERSIONS):
        publish(world, {"prices": {"per_image": 1_000 + index}}, T0 + timedelta(hours=index + 1))
    assert world.patch(APP, V1)[0] == 200
    status, problem = world.publish(APP, body={"effective_at": iso(T0 + timedelta(days=2))})
    assert status == 409
    assert problem["detail"] == (
        f"{APP} already has {MAX_SCHEDULED_VERSIONS} scheduled versions, the most it may have; "
        "cancel one (DELETE …/pricing/scheduled/{version}) or wait for one to take effect"
    )
    assert len(scheduled_versions(world)) == MAX_SCHEDULED_VERSIONS
    assert world.cancel(APP, 1) == (204, None)
    assert world.publish(APP, body={"effective_at": iso(T0 + timedelta(days=2))})[0] == 200
    view = publish(world, V2)  # publishing now is never refused by the bound
    assert view["live"]["version"] == MAX_SCHEDULED_VERSIONS + 2
    assert len(view["warnings"]) == MAX_SCHEDULED_VERSIONS
