"""Property tests over moto: for any history of billed tasks (ties on completed_at, several apps,
failed and refunded tasks), any page size, app filter, status filter and read budget, the task
list's pages concatenate to the window's records in order, none twice and none missed, and a
walk newest first (order=desc) is exactly the reverse of a walk oldest first (docs/api.md); the
first page's count, on a window of whole minutes, is the number of records the walk found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import moto_session
from tests.integration.task_list_helpers import SECRET, walk
from tests.records import record as base_record

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)
START = NOW - timedelta(hours=30)  # a window of whole minutes, inside the minute retention
APPS = ("team_a/app-0", "team_a/app-1", "team_a/app-2")

# (task, app, minute of the window or outside it, failed, refunded); few distinct minutes, so
# that ties on completed_at are common.
TASKS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from([-1, 0, 1, 2, 29 * 60, 30 * 60 - 1, 30 * 60]),
        st.booleans(),
        st.booleans(),
    ),
    max_size=40,
)
QUERIES = st.fixed_dictionaries(
    {
        "limit": st.integers(1, 12),
        "apps": st.lists(st.sampled_from(APPS), max_size=3, unique=True),
        "statuses": st.sampled_from([(), ("failed",), ("refunded",), ("completed", "refunded")]),
        "max_items": st.integers(2, 12),
        "max_queries": st.integers(2, 10),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=TASKS, shape=QUERIES)
def test_given_any_history_query_and_budget_when_walked_newest_first_then_it_is_the_reverse_of_oldest_first(
    history: list[tuple[int, int, bool, bool]], shape: dict[str, Any]
) -> None:
    from local.atomic import serialize_dynamodb
    from local.template import create_tables
    from usage_pricing.core.cursors import CursorSigner
    from usage_pricing.ledger.repository import LedgerRepository
    from usage_pricing.spend.aggregate_reader import AggregateRepository
    from usage_pricing.spend.task_count import TaskCounter
    from usage_pricing.spend.task_index import TaskIndex
    from usage_pricing.spend.tasks import TaskList, TaskListQuery

    serialize_dynamodb()
    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        billing = moto.dynamodb.Table("BillingTable")
        aggregates = moto.dynamodb.Table("AggregatesTable")
        ledger = LedgerRepository(billing, aggregates, sleep=lambda _s: None)
        # (completed_at, task, app, the statuses a filter matches it by)
        truth: list[tuple[datetime, str, str, set[str]]] = []
        for number, (app, minute, failed, refund) in enumerate(history):
            task = f"t{number:02d}-{minute}"
            moment = START + timedelta(minutes=minute, seconds=number % 2)
            fee = 0 if failed else 1_000 + number
            ledger.charge(
                base_record(
                    task_id=task, app=APPS[app], completed_at=moment, started_at=moment,
                    billed_at=moment, status="failed" if failed else "completed",
                    billing_status="not_charged" if failed else "charged", charged=fee,
                    total=fee, resource_fee=fee, inference_fee=0, shard=number % 2,
                )
            )  # fmt: skip
            if refund:
                ledger.refund(task, "team_a", "goodwill", moment + timedelta(minutes=1))
            matched = {"failed" if failed else "completed"} | ({"refunded"} if refund else set())
            truth.append((moment, task, APPS[app], matched))

        tasks = TaskList(
            TaskIndex(billing),
            CursorSigner(SECRET),
            clock=lambda: NOW,
            counter=TaskCounter(AggregateRepository(aggregates)),
        )
        tasks.budget.max_items = shape["max_items"]
        tasks.budget.max_queries = shape["max_queries"]
        query = TaskListQuery(
            start=START.isoformat(),
            end=(START + timedelta(hours=30)).isoformat(),
            apps=tuple(shape["apps"]),
            statuses=shape["statuses"],
            limit=shape["limit"],
        )
        wanted = set(shape["statuses"])
        expected = [
            task
            for moment, task, app, matched in sorted(truth, key=lambda t: t[:2])
            if START <= moment < START + timedelta(hours=30)
            and (not shape["apps"] or app in shape["apps"])
            and (not wanted or matched & wanted)
        ]
        oldest_first, asc_counts = walk(tasks, query)
        newest_first, desc_counts = walk(tasks, query._replace(order="desc"))
        assert oldest_first == expected
        assert newest_first == expected[::-1]
        # Only a first page counts (a status filter, or the read budget, may end the two walks
        # after different numbers of pages).
        assert asc_counts[1:] == [None] * (len(asc_counts) - 1)
        assert desc_counts[1:] == [None] * (len(desc_counts) - 1)
        if wanted:
            assert asc_counts[0] is None and desc_counts[0] is None
        else:
            assert asc_counts[0] == desc_counts[0]
            assert (asc_counts[0].tasks, asc_counts[0].start, asc_counts[0].end) == (
                len(expected),
                "2026-11-21T02:30:00Z",
                "2026-11-22T08:30:00Z",
            )
