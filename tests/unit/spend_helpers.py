"""The random task histories the spend property tests share (breakdown, summary, costs feed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.fakes import FakeAggregatesTable
from usage_pricing.ledger.aggregate_writer import aggregate_updates
from usage_pricing.ledger.records import BillingRecord, UsageEvent
from usage_pricing.spend.aggregate_reader import AggregateRepository
from usage_pricing.spend.breakdown import SpendAnalytics
from usage_pricing.storage.aggregates import LAYOUT

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

TEAM = "team_p"

APPS = ("team_p/alpha", "team_p/beta", "team_p/gamma")

# Six local days around DST changes: Europe's spring change, and Europe's and America's autumn ones.
FIRST_DAYS = (date(2026, 3, 27), date(2026, 10, 23), date(2026, 10, 30), date(2026, 4, 3))


@dataclass(frozen=True)
class Task:
    record: BillingRecord
    refunded: bool


@st.composite
def tasks(draw: st.DrawFn, first_day: date) -> list[Task]:
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    out = []
    for index in range(draw(st.integers(0, 25))):
        moment = start + timedelta(seconds=draw(st.integers(0, (DAYS + 2) * 86_400 - 1)))
        fees = [draw(st.integers(0, 10**9)) for _ in range(4)]
        # total_expression: the sum, a minimum charge above it, or a discount below it
        total = max(0, sum(fees) + draw(st.sampled_from([0, 0, 250_000_000, -(10**8)])))
        completed = draw(st.booleans()) or draw(st.booleans())
        tier = draw(st.sampled_from(["cloud", "private"]))
        record = BillingRecord(
            task_id=f"p{index}",
            team_id=TEAM,
            app=draw(st.sampled_from(APPS)),
            status="completed" if completed else "failed",
            billing_status="charged" if completed else "not_charged",
            started_at=moment,
            completed_at=moment,
            billed_at=moment,
            elapsed_ms=1000,
            usage_seconds=1,
            tier=tier,
            resource_fee=fees[0],
            inference_fee=fees[1],
            royalty_fee=fees[2],
            partner_fee=fees[3],
            total=total,
            discount=0 if completed else total,
            charged=total if completed else 0,
            usage=[
                UsageEvent(tier=tier, type="gpu", model="m1", seconds=draw(st.integers(1, 5000)))
            ],
            shard=draw(st.integers(0, 3)),  # as if hot apps had spread over every shard
            aggregate_layout=LAYOUT,
        )
        out.append(Task(record, draw(st.booleans()) and draw(st.booleans())))
    return out


def world(billed: list[Task]) -> SpendAnalytics:
    table = FakeAggregatesTable(page_size=25)
    for task in billed:
        table.apply(aggregate_updates(task.record, "AggregatesTable"))
        if task.refunded:
            table.apply(aggregate_updates(task.record, "AggregatesTable", refund=True))
    return SpendAnalytics(AggregateRepository(table, shards=4), clock=lambda: NOW)


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


DAYS = 6
