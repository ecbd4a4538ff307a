"""Property test over moto: the task list's first-page count (spend.task_count) equals the number
of records the list walks, for any window whose bounds are whole minutes (inside the minute
aggregates' three days) or whole quarter-hours (beyond), any app filter, and any history of
tasks completing exactly on, or a millisecond either side of, minute, quarter-hour, hour and day
boundaries, charged, failed or refunded, on any of four aggregate shards (a hot app's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import moto_session
from tests.records import record as base_record

from .task_list_helpers import SECRET, walk

NOW = datetime(2026, 11, 22, 8, 30, 0, tzinfo=UTC)
APPS = ("team_a/app-0", "team_a/app-1")
# Boundaries a bucket edge can fall on, across a day change two and five days back.
EDGES = [
    datetime(2026, 11, 20, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 20, 23, 45, tzinfo=UTC),
    datetime(2026, 11, 21, 0, 15, tzinfo=UTC),
    datetime(2026, 11, 21, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 21, 1, 1, tzinfo=UTC),
    datetime(2026, 11, 17, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 17, 0, 15, tzinfo=UTC),
    datetime(2026, 11, 16, 23, 45, tzinfo=UTC),
]
NUDGES = [timedelta(0), timedelta(milliseconds=-1), timedelta(milliseconds=1)]
TASKS = st.lists(
    st.tuples(
        st.sampled_from(EDGES),
        st.sampled_from(NUDGES),
        st.integers(0, 1),  # app
        st.integers(0, 3),  # shard
        st.booleans(),  # failed
        st.booleans(),  # refunded
    ),
    max_size=30,
)
# Window bounds: whole quarter-hours when older than three days, whole minutes within them.
BOUNDS = st.lists(
    st.sampled_from([*EDGES, NOW, NOW + timedelta(days=1)]), min_size=2, max_size=2, unique=True
).map(sorted)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    history=TASKS,
    bounds=BOUNDS,
    apps=st.lists(st.sampled_from(APPS), max_size=2, unique=True),
)
def test_given_tasks_on_bucket_edges_when_the_first_page_counts_a_window_of_whole_buckets_then_it_is_the_walks_length(
    history: list[tuple[datetime, timedelta, int, int, bool, bool]],
    bounds: list[datetime],
    apps: list[str],
) -> None:
    from local.atomic import serialize_dynamodb
    from local.template import create_tables
    from usage_pricing.core.cursors import CursorSigner
    from usage_pricing.ledger.repository import LedgerRepository
    from usage_pricing.spend.aggregate_reader import AggregateRepository
    from usage_pricing.spend.task_count import TaskCounter
    from usage_pricing.spend.task_index import TaskIndex
    from usage_pricing.spend.tasks import TaskList, TaskListQuery

    first, last = bounds
    # beyond three days only whole quarter-hours are a window the count states as the list's
    assume(first >= NOW - timedelta(days=3) + timedelta(hours=1) or last.minute % 15 == 0)
    serialize_dynamodb()
    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        billing = moto.dynamodb.Table("BillingTable")
        aggregates = moto.dynamodb.Table("AggregatesTable")
        ledger = LedgerRepository(billing, aggregates, sleep=lambda _s: None)

        class Pinned:
            """The shard each task was drawn to, as a hot app's ShardPolicy spreads them."""

            shards = 4

            def choose(self, team_id: str, app: str, task_id: str, attempt: int) -> int:
                return int(task_id.rsplit("-", 1)[1])

            def contended(self, team_id: str, app: str) -> None:
                pass

        ledger.shard_policy = Pinned()  # type: ignore[assignment]
        inside = 0
        for number, (edge, nudge, app, shard, failed, refund) in enumerate(history):
            moment = edge + nudge
            task = f"t{number:02d}-{shard}"
            fee = 0 if failed else 1_000 + number
            ledger.charge(
                base_record(
                    task_id=task, app=APPS[app], completed_at=moment, started_at=moment,
                    billed_at=moment, status="failed" if failed else "completed",
                    billing_status="not_charged" if failed else "charged", charged=fee,
                    total=fee, resource_fee=fee, inference_fee=0,
                )
            )  # fmt: skip
            if refund:
                ledger.refund(task, "team_a", "goodwill", moment + timedelta(minutes=1))
            inside += first <= moment < last and (not apps or APPS[app] in apps)
        tasks = TaskList(
            TaskIndex(billing),
            CursorSigner(SECRET),
            clock=lambda: NOW,
            counter=TaskCounter(AggregateRepository(aggregates, shards=4)),
        )
        query = TaskListQuery(
            start=first.isoformat(), end=last.isoformat(), apps=tuple(apps), limit=7
        )
        for order in ("asc", "desc"):
            listed, counts = walk(tasks, query._replace(order=order))
            assert len(listed) == inside
            assert counts[0] is not None
            assert (counts[0].tasks, counts[0].start, counts[0].end) == (
                inside,
                first.strftime("%Y-%m-%dT%H:%M:%SZ"),
                last.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
