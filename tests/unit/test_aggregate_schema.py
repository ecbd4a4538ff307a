"""The aggregate schema (storage.aggregates): keys, counters, slots and shards."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.records import MOMENT, record
from usage_pricing.ledger.aggregate_writer import (
    ShardPolicy,
    aggregate_updates,
    record_counters,
)
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.spend.breakdown import slot_terms
from usage_pricing.storage.aggregates import (
    QUARTERS_PER_DAY,
    Granularity,
    bucket_key,
    decode_item,
    hour_slot,
    item_key,
    parse_bucket,
    quarter_slot,
    split_sort_key,
)


@pytest.mark.parametrize(
    ("moment", "key"),
    [
        (datetime(2026, 11, 22, 8, 47, 31, tzinfo=UTC), "2026-11-22T08:47:31Z"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00Z"),
    ],
)
def test_given_any_year_when_keyed_then_the_key_is_fixed_width_and_round_trips(
    moment: datetime, key: str
) -> None:
    assert bucket_key(moment) == key
    assert parse_bucket(key) == moment


def test_given_keys_of_every_century_when_sorted_then_they_sort_as_time() -> None:
    moments = [datetime(y, 6, 1, tzinfo=UTC) for y in (5, 999, 1000, 1999, 2026, 9999)]
    shuffled = random.Random(1).sample(moments, len(moments))
    assert sorted(bucket_key(m) for m in shuffled) == [bucket_key(m) for m in moments]


@pytest.mark.parametrize(
    ("granularity", "bucket"),
    [
        (Granularity.MINUTE, "2026-11-22T08:47:00Z"),
        (Granularity.QUARTER, "2026-11-22T08:45:00Z"),
        (Granularity.HOUR, "2026-11-22T08:00:00Z"),
        (Granularity.DAY, "2026-11-22T00:00:00Z"),
    ],
)
def test_given_a_moment_when_keyed_then_each_granularity_floors_it(
    granularity: Granularity, bucket: str
) -> None:
    key = item_key("team_a", granularity, 3, MOMENT, "team_a/flux.v2")
    assert key == {"pk": f"team_a#{granularity.value}#3", "sk": f"{bucket}#team_a/flux.v2"}
    assert split_sort_key(key["sk"]) == (bucket, "team_a/flux.v2")


@pytest.mark.parametrize(
    ("fees", "total", "charged", "shares"),
    [
        ((100, 50, 0, 0), 150, 150, (100, 50, 0, 0, 0)),
        ((100, 50, 0, 0), 1_000, 1_000, (100, 50, 0, 0, 850)),  # a minimum charge
        ((100, 50, 0, 0), 120, 120, (100, 50, 0, 0, -30)),  # a discount in total_expression
        ((100, 50, 0, 0), 150, 0, (0, 0, 0, 0, 0)),  # failed: 100% discount
        ((100, 50, 0, 1), 151, 75, (49, 24, 0, 0, 2)),  # a partial discount scales every fee
        ((0, 0, 0, 0), 0, 0, (0, 0, 0, 0, 0)),
    ],
)
def test_given_fees_when_shared_then_the_groups_add_up_to_charged(
    fees: tuple[int, ...], total: int, charged: int, shares: tuple[int, ...]
) -> None:
    r = record(
        resource_fee=fees[0],
        inference_fee=fees[1],
        royalty_fee=fees[2],
        partner_fee=fees[3],
        total=total,
        discount=total - charged,
        charged=charged,
    )
    got = r.shares()
    assert tuple(got.values()) == shares
    assert sum(got.values()) == charged


def test_given_a_failed_task_when_counted_then_it_is_a_call_without_cost() -> None:
    failed = record(status="failed", billing_status="not_charged", discount=5_632_498, charged=0)
    assert record_counters(failed) == {
        "calls": 1,
        "v2:calls": 1,
        "t:cloud:calls": 1,
        "u:tier:cloud": 600,
        "u:type:gpu": 600,
        "u:model:llm-micro": 600,
        "u:total": 600,
    }


def updates_by_granularity(r: BillingRecord, refund: bool = False) -> dict[str, dict[str, Any]]:
    out = {}
    for entry in aggregate_updates(r, "AggregatesTable", refund=refund):
        update = entry["Update"]
        names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
        adds = {names[f"#c{i}"]: values[f":c{i}"] for i in range(len(values)) if f"#c{i}" in names}
        out[update["Key"]["pk"].split("#")[1]] = {
            "key": update["Key"],
            "add": adds,
            "expression": update["UpdateExpression"],
            "expires": values.get(":expires"),
        }
    return out


def test_given_a_charge_when_written_then_each_granularity_gets_one_update_and_the_day_its_slots() -> (
    None
):
    by = updates_by_granularity(record())
    assert set(by) == {"M", "Q", "H", "D"}
    assert {g: u["key"]["pk"] for g, u in by.items()} == {g: f"team_a#{g}#2" for g in "MQHD"}
    assert by["M"]["expires"] == int((MOMENT + timedelta(days=3)).timestamp())
    assert all(u["expires"] is None for g, u in by.items() if g != "M")
    day = by["D"]["add"]
    # 08:47 is hour 8 and quarter 35 (08:45) of the UTC day
    assert {k: v for k, v in day.items() if k[0] in "hq"} == {
        "h08c": 5_632_498,
        "h08n": 1,
        "q35c": 5_632_498,
        "q35n": 1,
    }
    assert by["H"]["add"] == {k: v for k, v in day.items() if k[0] not in "hq"}
    assert "f:adjustment" not in by["H"]["add"]  # total = the four fees: nothing to adjust
    assert by["H"]["add"]["f:resource"] == 5_232_498
    assert "bucket" not in by["H"]["expression"]


def test_given_a_refund_when_written_then_it_negates_the_charge_and_counts_the_refund() -> None:
    charge, refund = updates_by_granularity(record()), updates_by_granularity(record(), refund=True)
    refunds = re.compile(r"r:cost|r:calls|[hq]\d\dr")
    for granularity in "MQHD":
        added, taken = charge[granularity]["add"], refund[granularity]["add"]
        assert {k: -v for k, v in added.items()} == {
            k: v for k, v in taken.items() if not refunds.fullmatch(k)
        }
        assert (taken["r:cost"], taken["r:calls"]) == (5_632_498, 1)
    assert refund["D"]["add"]["h08r"] == refund["D"]["add"]["q35r"] == 5_632_498


def test_given_a_record_charged_before_this_layout_when_refunded_then_only_its_old_counters_move() -> (
    None
):
    legacy = record(aggregate_layout=1)
    taken = updates_by_granularity(legacy, refund=True)["D"]["add"]
    assert set(taken) == {
        "cost",
        "calls",
        "r:cost",
        "r:calls",
        "u:tier:cloud",
        "u:type:gpu",
        "u:model:llm-micro",
        "u:total",
    }


def test_given_an_item_when_decoded_then_keys_and_counters_come_apart() -> None:
    item = {
        "pk": "team_a#D#0",
        "sk": "2026-11-22T00:00:00Z#team_a/flux.v2",
        "app": "team_a/flux.v2",
        "bucket": "2026-11-22T00:00:00Z",  # older items carry it too
        "expires_at": Decimal(1796000000),
        "cost": Decimal("12345678901234567890123"),
        "u:model:a:b": Decimal(-3),
    }
    cell = decode_item(item)
    assert (cell.bucket, cell.app) == ("2026-11-22T00:00:00Z", "team_a/flux.v2")
    assert cell.counters == {"cost": 12345678901234567890123, "u:model:a:b": -3}


def test_given_a_quiet_app_when_charged_then_it_writes_shard_0_until_its_writes_contend() -> None:
    now = [0.0]
    policy = ShardPolicy(4, clock=lambda: now[0])
    tasks = [f"task-{i}" for i in range(40)]
    assert {policy.choose("team", "app", t, 0) for t in tasks} == {0}
    # A retried (contended) charge moves off shard 0.
    assert 0 not in {policy.choose("team", "app", t, 1) for t in tasks}
    policy.contended("team", "app")
    assert {policy.choose("team", "app", t, 0) for t in tasks} == {0, 1, 2, 3}
    assert {policy.choose("team", "other", t, 0) for t in tasks} == {0}
    now[0] += 301
    assert {policy.choose("team", "app", t, 0) for t in tasks} == {0}
    assert {ShardPolicy(1).choose("team", "app", t, a) for t in tasks for a in range(3)} == {0}


@pytest.mark.parametrize(
    ("first", "last", "terms"),
    [
        (0, 96, ((1, ""),)),
        (88, 96, ((1, "h22"), (1, "h23"))),  # Berlin in summer: the last two hours
        (0, 88, ((1, ""), (-1, "h22"), (-1, "h23"))),
        (
            74,
            96,
            ((1, "q74"), (1, "q75"), (1, "h19"), (1, "h20"), (1, "h21"), (1, "h22"), (1, "h23")),
        ),
        (
            0,
            74,
            (
                (1, ""),
                (-1, "q74"),
                (-1, "q75"),
                (-1, "h19"),
                (-1, "h20"),
                (-1, "h21"),
                (-1, "h22"),
                (-1, "h23"),
            ),
        ),
        (73, 74, ((1, "q73"),)),
        (20, 40, ((1, "h05"), (1, "h06"), (1, "h07"), (1, "h08"), (1, "h09"))),
    ],
)
def test_given_part_of_a_day_when_planned_then_it_takes_the_fewest_slots(
    first: int, last: int, terms: tuple[tuple[int, str], ...]
) -> None:
    assert slot_terms(first, last) == terms


@given(
    st.integers(0, QUARTERS_PER_DAY - 1),
    st.integers(1, QUARTERS_PER_DAY),
    st.lists(st.integers(-50, 50), min_size=96, max_size=96),
)
def test_given_any_part_of_a_day_when_summed_from_its_slots_then_it_is_exact(
    a: int, b: int, quarters: list[int]
) -> None:
    first, last = min(a, b - 1), max(a + 1, b)
    counters = {quarter_slot(q): v for q, v in enumerate(quarters)}
    counters |= {hour_slot(h): sum(quarters[4 * h : 4 * h + 4]) for h in range(24)}
    counters[""] = sum(quarters)
    got = sum(sign * counters[slot] for sign, slot in slot_terms(first, last))
    assert got == sum(quarters[first:last])
