"""Quotes (docs/api.md, POST /apps/{namespace}/{name}/pricing/quote): a hypothetical task priced
with the app's published version live now, or live at `at`, answered as the evaluate route
answers plus the version and when the next one takes effect. Any team may quote a published app;
the draft and cancelled versions are never quoted. Time is the pricing store's injected clock, as
in test_scheduled_prices.py: a version is scheduled more than 15 minutes ahead, never slept on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import AwsWorld

from .billing_helpers import Billing, Clock, completed
from .billing_helpers import iso_micro as iso
from .billing_helpers import publish_pricing as publish

APP = "team_a/flux"
V1 = {
    "prices": {"per_image": 200_000},
    "inference_expression": "image_count(outputs) * prices.per_image",
    "description": "$0.002 per image",
}
V2 = {"prices": {"per_image": 300_000}, "description": "$0.003 per image"}
V3 = {"prices": {"per_image": 400_000}, "description": "$0.004 per image"}
RESOURCE = 5_232_498  # llm/micro for 600 s (docs/pricing.md, meters)
# Two 1024×1024 images on llm/micro for 600 s: the task billing_helpers.completed() reports.
SAMPLE = {
    "output_meta": {"outputs": [{"type": "image", "width": 1024, "height": 1024, "count": 2}]},
    "resources": [{"name": "gpu0", "type": "gpu", "model": "llm-micro", "meter": "llm/micro"}],
    "usage_seconds": 600,
    "task_inputs": {"steps": 20},
}
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def world(aws: AwsWorld) -> Billing:
    return Billing(aws)


@pytest.fixture
def clock(world: Billing) -> Clock:
    return Clock(world, T0)


def quote(world: Billing, body: Any = None, *, app: str = APP, **kwargs: Any) -> tuple[int, Any]:
    return world.pricing_route("POST", app, "/quote", body=body, **kwargs)


def quoted(per_image: int, version: int, valid_until: str | None) -> dict[str, Any]:
    """The answer for SAMPLE when images cost `per_image` microcents each."""
    inference = 2 * per_image
    total = RESOURCE + inference
    return {
        "resource_fee": {"value": RESOURCE, "dollars": "0.05232498"},
        "inference_fee": {"value": inference, "dollars": f"{inference / 100_000_000:.3f}"},
        "royalty_fee": {"value": 0, "dollars": "0.00"},
        "partner_fee": {"value": 0, "dollars": "0.00"},
        "total": {"value": total, "dollars": f"{total / 100_000_000:.8f}"},
        "description": {"value": f"${per_image / 100_000_000:.3f} per image"},
        "pricing_version": version,
        "valid_until": valid_until,
    }


def at(body: dict[str, Any], moment: datetime | str) -> dict[str, Any]:
    return {**body, "at": moment if isinstance(moment, str) else iso(moment)}


def test_given_a_live_version_when_quoting_then_the_evaluate_answer_with_its_version_and_no_end(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    assert quote(world, SAMPLE, scopes="apps:read") == (200, quoted(200_000, 1, None))
    assert quoted(200_000, 1, None)["total"] == {"value": 5_632_498, "dollars": "0.05632498"}


def test_given_a_live_version_and_a_newer_draft_when_quoting_then_the_live_version_prices_it(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    assert world.patch(APP, V3)[0] == 200  # saved, never published
    assert quote(world, SAMPLE) == (200, quoted(200_000, 1, None))
    assert quote(world, SAMPLE, team="team_b") == (200, quoted(200_000, 1, None))


def test_given_a_quote_when_the_same_task_is_billed_then_it_is_charged_what_was_quoted(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    _, answer = quote(world, SAMPLE)
    assert world.deliver(completed("same", completed_at=T0)) == []
    status, cost = world.cost("same")
    assert status == 200, cost
    assert (cost["charged"]["value"], cost["pricing_version"]) == (
        answer["total"]["value"],
        answer["pricing_version"],
    )


def test_given_no_body_when_quoting_then_an_empty_task_is_priced(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    status, answer = quote(world)
    assert status == 200, answer
    assert (answer["total"], answer["pricing_version"]) == ({"value": 0, "dollars": "0.00"}, 1)


def test_given_a_scheduled_version_when_quoting_before_and_after_it_then_each_side_gets_its_own(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    effective = T0 + timedelta(minutes=20)
    publish(world, V2, effective)
    before = quoted(200_000, 1, iso(effective))
    after = quoted(300_000, 2, None)
    assert quote(world, SAMPLE) == (200, before)  # now
    assert quote(world, at(SAMPLE, effective - timedelta(microseconds=1))) == (200, before)
    assert quote(world, at(SAMPLE, effective)) == (200, after)
    assert quote(world, at(SAMPLE, effective + timedelta(days=30))) == (200, after)
    # The same instants written with an offset.
    assert quote(world, at(SAMPLE, (effective - timedelta(seconds=1)).isoformat())) == (
        200,
        before,
    )
    clock.now = effective  # it has taken effect: the default is now
    assert quote(world, SAMPLE) == (200, after)
    # A time in the past quotes what was live then, and when that ended.
    assert quote(world, at(SAMPLE, T0)) == (200, before)


def test_given_two_scheduled_versions_when_quoting_between_them_then_valid_until_is_the_next(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    publish(world, V3, T0 + timedelta(hours=2))
    publish(world, V2, T0 + timedelta(hours=1))  # published later, takes effect sooner
    assert quote(world, SAMPLE)[1]["valid_until"] == iso(T0 + timedelta(hours=1))
    middle = at(SAMPLE, T0 + timedelta(minutes=90))
    assert quote(world, middle) == (200, quoted(300_000, 3, iso(T0 + timedelta(hours=2))))


def test_given_a_published_app_when_another_team_quotes_then_it_gets_the_owners_answer(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    effective = T0 + timedelta(hours=1)
    publish(world, V2, effective)
    theirs = quote(world, SAMPLE, team="team_b", scopes="apps:read")
    assert theirs == quote(world, SAMPLE) == (200, quoted(200_000, 1, iso(effective)))
    later = at(SAMPLE, effective)
    assert quote(world, later, team="team_b", scopes="apps:read") == (200, quoted(300_000, 2, None))


def test_given_an_app_with_only_a_draft_when_anyone_quotes_then_404_and_the_draft_is_not_priced(
    world: Billing, clock: Clock
) -> None:
    assert world.patch(APP, V1)[0] == 200
    for team in ("team_a", "team_b"):
        status, problem = quote(world, SAMPLE, team=team)
        assert status == 404, problem
        assert problem["detail"] == "no published pricing for team_a/flux: nothing to quote"
    status, problem = quote(world, SAMPLE, app="team_c/never-heard-of")
    assert (status, problem["detail"]) == (
        404,
        "no published pricing for team_c/never-heard-of: nothing to quote",
    )


def test_given_only_a_scheduled_version_when_quoting_before_and_at_it_then_404_then_priced(
    world: Billing, clock: Clock
) -> None:
    effective = T0 + timedelta(hours=1)
    publish(world, V1, effective)
    status, problem = quote(world, SAMPLE)
    assert status == 404, problem
    status, problem = quote(world, at(SAMPLE, effective - timedelta(microseconds=1)))
    assert (status, problem["detail"]) == (
        404,
        f"no published pricing for {APP} was live at {iso(effective - timedelta(microseconds=1))}",
    )
    assert quote(world, at(SAMPLE, effective)) == (200, quoted(200_000, 1, None))


def test_given_a_cancelled_scheduled_version_when_quoting_at_any_time_then_it_is_never_quoted(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    publish(world, V2, T0 + timedelta(hours=1))
    publish(world, V3, T0 + timedelta(hours=2))
    assert world.cancel(APP, 2)[0] == 204
    until_v3 = quoted(200_000, 1, iso(T0 + timedelta(hours=2)))
    assert quote(world, SAMPLE) == (200, until_v3)  # valid_until skips the cancelled one
    assert quote(world, at(SAMPLE, T0 + timedelta(hours=1))) == (200, until_v3)
    assert quote(world, at(SAMPLE, T0 + timedelta(minutes=90))) == (200, until_v3)
    assert quote(world, at(SAMPLE, T0 + timedelta(hours=2))) == (200, quoted(400_000, 3, None))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tomorrow", "must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00Z"),
        ("2026-12-01", "must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00Z"),  # a date
        ("2026-12-01T00:00:00", "must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00Z"),
        ("2026-02-30T00:00:00Z", "is not a valid date-time"),  # no such day
        ("9999-12-31T23:59:59-23:59", "is not a valid date-time"),  # overflows UTC
        # Version keys hold 4-digit years: "999-…" would sort after "2026-…".
        ("0999-12-31T00:00:00Z", "must be from 1970-01-01 and before 3000-01-01"),
        ("1969-12-31T23:59:59Z", "must be from 1970-01-01 and before 3000-01-01"),
        ("3000-01-01T00:00:00Z", "must be from 1970-01-01 and before 3000-01-01"),
    ],
)
def test_given_a_bad_at_when_quoting_then_400_names_at(
    world: Billing, clock: Clock, value: str, message: str
) -> None:
    publish(world, V1)
    status, problem = quote(world, at(SAMPLE, value))
    assert status == 400, problem
    assert problem["errors"] == [{"field": "at", "message": message}]


def test_given_a_malformed_at_when_quoting_then_the_detail_quotes_it(
    world: Billing, clock: Clock
) -> None:
    publish(world, V1)
    status, problem = quote(world, at(SAMPLE, "0999-12-31T00:00:00Z"))
    assert (status, problem["detail"]) == (
        400,
        "at: 0999-12-31T00:00:00Z is outside 1970-01-01 to 3000-01-01",
    )
    status, problem = quote(world, at(SAMPLE, "soon"))
    assert (status, problem["detail"]) == (
        400,
        "at: 'soon' is not an RFC 3339 date-time with an offset",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at": 1767225600}, "at"),  # a number
        ({"at": "2026-12-01T00:00:00Z" + " " * 60}, "at"),  # over 64 characters
        # A quote prices only what is published: the caller's own formulas are refused.
        ({"pricing": {"inference_expression": "0"}}, "pricing"),
        ({"usage_seconds": -1}, "usage_seconds"),
        ({"usage_seconds": "600"}, "usage_seconds"),
        ({"resources": [{"meter": "llm/nope"}]}, "resources.0"),
        ({"output_meta": {"outputs": [{"type": "image"}] * 1001}}, "output_meta.outputs"),
    ],
)
def test_given_a_bad_body_when_quoting_then_400_names_the_field(
    world: Billing, clock: Clock, body: dict[str, Any], field: str
) -> None:
    publish(world, V1)
    status, problem = quote(world, body)
    assert status == 400, problem
    assert [e["field"] for e in problem["errors"]] == [field]


def test_given_a_key_without_apps_read_when_quoting_then_403(world: Billing, clock: Clock) -> None:
    publish(world, V1)
    status, problem = quote(world, SAMPLE, team="team_b", scopes="billing:read")
    assert status == 403, problem


def test_given_a_formula_error_when_quoting_then_200_with_the_error_on_its_component(
    world: Billing, clock: Clock
) -> None:
    publish(world, {**V1, "royalty_expression": "inference_fee / (image_count(outputs) - 2)"})
    status, answer = quote(world, SAMPLE)
    assert status == 200, answer
    assert answer["royalty_fee"]["value"] == 0
    assert "divide by zero" in answer["royalty_fee"]["error"]
    assert answer["total"] == {"value": 5_632_498, "dollars": "0.05632498"}
