"""No sequence of valid task events can make an app unbillable: the aggregate dimensions (model,
type, tier) are bounded per item, and every aggregate item stays within its 64 KB budget
(storage.aggregates, "Bounded dimensions")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.capacity import item_size
from tests.conftest import AwsWorld
from usage_pricing.storage.aggregates import DIMENSION_LIMITS, OTHER, dimension_set

from .billing_helpers import Billing, completed, refunded

ITEM_BUDGET = 64 * 1024
MODEL_LIMIT = DIMENSION_LIMITS["model"]
TASKS = 12


def _resources(models: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": f"r{i}", "type": "gpu", "model": model, "price_per_second": 7}
        for i, model in enumerate(models)
    ]


def _long(index: int, salt: str = "") -> str:
    return f"{salt}model-{index:06d}-" + "x" * (128 - 13 - len(salt))


def _scan(world: Billing, table_name: str) -> list[dict[str, Any]]:
    table = world.aws.dynamodb.Table(table_name)
    page = table.scan()
    items: list[dict[str, Any]] = page["Items"]
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    return items


def _items(world: Billing) -> list[dict[str, Any]]:
    return _scan(world, "AggregatesTable")


def _records(world: Billing) -> list[dict[str, Any]]:
    return _scan(world, "BillingTable")


def _day_items(world: Billing) -> list[dict[str, Any]]:
    return [i for i in _items(world) if "#D#" in i["pk"]]


def _models_counted(item: dict[str, Any]) -> set[str]:
    return {name.removeprefix("u:model:") for name in item if name.startswith("u:model:")}


def test_given_tasks_of_64_long_distinct_models_when_billed_then_every_task_is_billed_and_items_stay_small(
    aws: AwsWorld,
) -> None:
    # The attack that made an app unbillable (70 × 64 distinct 128-character models in one day),
    # cut to the 12 tasks that already took an unbounded day item past 64 KB.
    world = Billing(aws)
    moment = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    events = [
        completed(
            f"bloat-{t}",
            completed_at=moment + timedelta(seconds=t),
            elapsed_ms=1_000,
            resources=_resources([_long(t * 64 + r) for r in range(64)]),
        )
        for t in range(TASKS)
    ]
    for start in range(0, TASKS, 6):
        assert world.deliver(*events[start : start + 6]) == []
    # And an ordinary task of the same app in another quarter-hour of the same day.
    assert world.deliver(completed("ordinary", completed_at=moment + timedelta(minutes=20))) == []
    assert aws.dead_letters() == []
    records = {r["task_id"]: r for r in _records(world)}
    assert len(records) == TASKS + 1
    for item in _items(world):
        assert item_size(item) <= ITEM_BUDGET, item["pk"]
    (day,) = _day_items(world)
    counted = _models_counted(day)
    # The first task's 50 models fill the item; everything after counts as other; "llm-micro"
    # (the ordinary task's model) found the item full too.
    assert counted == {_long(r) for r in range(MODEL_LIMIT)} | {OTHER}
    assert day[dimension_set("model")] == {_long(r) for r in range(MODEL_LIMIT)}
    # Seconds are conserved: each task ran 1 s on each of its 64 resources, the ordinary one 600 s.
    assert day["u:total"] == TASKS * 64 + 600
    assert day["u:model:" + OTHER] == TASKS * 64 + 600 - MODEL_LIMIT
    # The records keep their usage as counted, so a refund reverses exactly that.
    first = records["bloat-0"]
    assert [u["model"] for u in first["usage"]] == [_long(r) for r in range(MODEL_LIMIT)] + [
        OTHER
    ] * (64 - MODEL_LIMIT)
    assert world.deliver(refunded("bloat-0")) == []
    (day,) = _day_items(world)
    assert day["u:total"] == (TASKS - 1) * 64 + 600
    assert {name for name, value in day.items() if name.startswith("u:model:") and value} == {
        "u:model:" + OTHER
    }


def test_given_a_full_item_when_a_model_it_counts_arrives_then_it_is_counted_under_its_own_name(
    aws: AwsWorld,
) -> None:
    world = Billing(aws)
    moment = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    fill = completed(
        "fill",
        completed_at=moment,
        elapsed_ms=1_000,
        resources=_resources([_long(r) for r in range(MODEL_LIMIT + 5)]),
    )
    again = completed(
        "again",
        completed_at=moment + timedelta(minutes=1),
        elapsed_ms=1_000,
        resources=_resources([_long(3), _long(MODEL_LIMIT + 1), "brand-new"]),
    )
    assert world.deliver(fill) == []
    assert world.deliver(again) == []
    usage = {r["task_id"]: [u["model"] for u in r["usage"]] for r in _records(world)}
    assert usage["again"] == [_long(3), OTHER, OTHER]
    # The minute item of the second task holds only what its day item counts.
    minute = [i for i in _items(world) if "#M#" in i["pk"] and i["calls"] == 1]
    assert sorted(_models_counted(i) for i in minute) == sorted(
        [{_long(r) for r in range(MODEL_LIMIT)} | {OTHER}, {_long(3), OTHER}], key=len
    )


def test_given_a_model_named_other_when_billed_then_it_counts_under_other_and_takes_no_slot(
    aws: AwsWorld,
) -> None:
    world = Billing(aws)
    assert world.deliver(completed("named-other", resources=_resources([OTHER, "real"]))) == []
    (day,) = _day_items(world)
    assert day[dimension_set("model")] == {"real"}
    assert _models_counted(day) == {OTHER, "real"}


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(st.integers(0, 400), st.integers(1, 64), st.sampled_from(["gpu", "cpu"])),
            min_size=1,
            max_size=4,
        ),
        min_size=2,
        max_size=4,
    ),
    salt=st.text(alphabet="abcdefghij", min_size=1, max_size=4),
)
def test_given_any_sequence_of_valid_events_of_one_app_and_day_then_every_task_is_billed_and_items_stay_within_64_kb(
    aws: AwsWorld, batches: list[list[tuple[int, int, str]]], salt: str
) -> None:
    world = Billing(aws)
    team = f"team_{salt}_{len(_records(world))}"
    moment = datetime.now(UTC).replace(hour=0, minute=5, second=0, microsecond=0) - timedelta(
        days=1
    )
    sent = 0
    for batch in batches:
        bodies = []
        for offset, width, kind in batch:
            resources = [
                {
                    "name": f"r{r}",
                    "type": kind,
                    "model": _long(offset + r * 7, salt),
                    "price_per_second": 3,
                }
                for r in range(width)
            ]
            bodies.append(
                completed(
                    f"{team}-{sent}",
                    team=team,
                    app=f"{team}/app",
                    completed_at=moment + timedelta(seconds=sent),
                    elapsed_ms=2_000,
                    resources=resources,
                )
            )
            sent += 1
        assert world.deliver(*bodies) == []
    assert aws.dead_letters() == []
    mine = [r for r in _records(world) if r["team_id"] == team]
    assert len(mine) == sent
    expected_seconds = sum(2 * len(r["resources"]) for r in mine)
    for item in _items(world):
        if item["pk"].startswith(f"{team}#"):
            assert item_size(item) <= ITEM_BUDGET
            assert len(_models_counted(item) - {OTHER}) <= MODEL_LIMIT
            assert item["u:total"] == expected_seconds


def test_given_models_of_128_four_byte_characters_when_the_item_fills_then_it_stays_within_64_kb(
    aws: AwsWorld,
) -> None:
    # UTF-8 bytes, not characters, are what an item holds: the worst 128-character name is 512 B.
    world = Billing(aws)
    moment = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    wide = [f"{chr(0x1D400 + t)}{r:02d}" + "\U0001d54f" * 125 for t in range(3) for r in range(64)]
    for t in range(3):
        event = completed(
            f"wide-{t}",
            completed_at=moment + timedelta(seconds=t),
            elapsed_ms=1_000,
            resources=_resources(wide[t * 64 : (t + 1) * 64]),
        )
        assert world.deliver(event) == []
    assert aws.dead_letters() == []
    sizes = [item_size(item) for item in _items(world)]
    assert max(sizes) <= ITEM_BUDGET
    (day,) = _day_items(world)
    assert len(day[dimension_set("model")]) == MODEL_LIMIT
