"""Property tests over moto: any interleaving of charges, redeliveries, refunds, holds, releases
and the passing of time leaves every budget exact (docs/spend-controls.md):

- each crossing and each clear is emitted once (unique ids), alternating per threshold, and the
  thresholds crossed are exactly those the spend has reached;
- the spend equals the sum of the charged, unrefunded tasks;
- the holds counted are exactly the granted holds neither released, settled nor expired;
- a block budget never grants a hold that takes spend + holds above its limit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import moto_session
from tests.records import record as base_record

BASE = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def put(self, entries: Sequence[Any]) -> list[bool]:
        self.sent += list(entries)
        return [True] * len(entries)


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), st.integers(0, 3), st.integers(0, 40)),
        st.tuples(st.just("refund"), st.integers(0, 3), st.just(0)),
        st.tuples(st.just("hold"), st.integers(0, 3), st.integers(1, 40)),
        st.tuples(st.just("release"), st.integers(0, 3), st.just(0)),
        st.tuples(st.just("tick"), st.integers(0, 0), st.integers(1, 1800)),
    ),
    max_size=30,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS)
def test_given_any_interleaving_then_budgets_crossings_and_holds_stay_exact(
    operations: list[tuple[str, int, int]],
) -> None:
    from local.atomic import serialize_dynamodb
    from local.template import create_tables
    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.charging import BudgetCharges
    from usage_pricing.controls.holds import (
        AuthorizationRequest,
        AuthorizationService,
        BudgetExceededError,
    )
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.controls.outbox import OutboxRelay
    from usage_pricing.controls.periods import now_minute
    from usage_pricing.controls.store import ControlsStore
    from usage_pricing.controls.thresholds import crossed
    from usage_pricing.core.errors import ConflictError, NotFoundError
    from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository

    serialize_dynamodb()
    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        now = [BASE]

        def clock() -> datetime:
            return now[0]

        store = ControlsStore(moto.dynamodb.Table("ControlsTable"))
        budgets = BudgetService(store, lambda *_: 0, clock)
        budgets.put(
            "team_a", "alert", BudgetRequest(period="month", limit=100, thresholds=[25, 50, 100])
        )
        budgets.put("team_a", "hard", BudgetRequest(period="month", limit=60, thresholds=[100], action="block", app="team_a/flux"))  # fmt: skip
        ledger = LedgerRepository(
            moto.dynamodb.Table("BillingTable"),
            moto.dynamodb.Table("AggregatesTable"),
            sleep=lambda _s: None,
        )
        ledger.controls = BudgetCharges(store, clock, cache_seconds=0)
        recorder = Recorder()
        relay = OutboxRelay(store, recorder, clock)
        holds = AuthorizationService(store, clock, sleep=lambda _s: None)
        charged: dict[str, int] = {}
        refunded: set[str] = set()
        active: dict[str, tuple[int, int]] = {}  # task -> (amount, counting until, Unix s)
        placed: set[str] = set()

        for kind, index, amount in operations:
            task = f"t{index}"
            if kind == "tick":
                now[0] += timedelta(seconds=amount)
            elif kind == "charge":
                record = base_record(
                    task_id=task, app="team_a/flux", charged=charged.get(task, amount),
                    total=charged.get(task, amount), resource_fee=charged.get(task, amount),
                    inference_fee=0, completed_at=now[0], started_at=now[0], billed_at=now[0],
                )  # fmt: skip
                outcome = ledger.charge(record)
                if outcome is LedgerOutcome.WRITTEN:
                    relay.deliver(ledger.controls.pending)
                    charged[task] = record.charged
                    active.pop(task, None)  # settled (or expired: no longer counted anyway)
                else:
                    assert task in charged
            elif kind == "refund":
                if task not in charged:
                    continue
                outcome = ledger.refund(task, "team_a", "goodwill", now[0])
                if outcome is LedgerOutcome.WRITTEN:
                    relay.deliver(ledger.controls.pending)
                    refunded.add(task)
                else:
                    assert task in refunded
            elif kind == "hold":
                request = AuthorizationRequest(
                    task_id=task, app="team_a/flux", amount=amount, ttl_seconds=600
                )
                view = budgets.get("team_a", "hard")
                try:
                    answer = holds.authorize("team_a", request, amount)
                except BudgetExceededError:
                    assert view.spent.value + view.held.value + amount > 60
                    continue
                except ConflictError:
                    continue  # the same task id with another amount
                until = int(datetime.fromisoformat(answer.expires_at).timestamp())
                if task not in placed:  # a new hold (the same task id again is the same hold)
                    # a block budget never grants a hold beyond its limit
                    assert view.spent.value + view.held.value + amount <= 60
                    placed.add(task)
                    # It counts until released, settled by its task's charge, or expired: a
                    # hold placed after its task was billed counts until it expires.
                    active[task] = (amount, until)
            elif kind == "release":
                try:
                    holds.release("team_a", task)
                except (NotFoundError, ConflictError):
                    continue
                active.pop(task, None)

        spent = sum(v for t, v in charged.items() if t not in refunded)
        live = sum(a for a, until in active.values() if until > now[0].timestamp())
        minute = now_minute(now[0])
        for budget_id, limit, thresholds in (("alert", 100, [25, 50, 100]), ("hard", 60, [100])):
            view = budgets.get("team_a", budget_id)
            assert view.spent.value == spent
            assert view.held.value == live, (budget_id, minute)
            assert view.crossed == crossed(thresholds, limit, spent)
            events = [e for e in recorder.sent if e.detail["budget_id"] == budget_id]
            for threshold in thresholds:
                kinds = [e.detail_type for e in events if e.detail["threshold"] == threshold]
                expected = ["Budget Threshold Crossed", "Budget Threshold Cleared"] * len(kinds)
                assert kinds == expected[: len(kinds)]
                assert (kinds[-1:] == ["Budget Threshold Crossed"]) == (threshold in view.crossed)
        ids = [e.event_id for e in recorder.sent]
        assert len(ids) == len(set(ids))


def test_given_eight_billing_workers_charging_one_budget_at_once_then_spend_and_crossings_are_exact() -> (
    None
):
    """Concurrent billing workers, each with its own ledger and budget cache, racing on one
    counter: every charge is counted once and every threshold crossed exactly once."""
    import threading

    from local.atomic import serialize_dynamodb
    from local.template import create_tables
    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.charging import BudgetCharges
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.controls.store import ControlsStore
    from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository

    serialize_dynamodb()
    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        store = ControlsStore(moto.dynamodb.Table("ControlsTable"))
        thresholds = list(range(10, 101, 10))
        budgets = BudgetService(store, lambda *_: 0, lambda: BASE)
        budgets.put(
            "team_a", "m", BudgetRequest(period="month", limit=8 * 25 * 7, thresholds=thresholds)
        )
        sent: list[Any] = []
        lock = threading.Lock()

        def worker(number: int) -> None:
            ledger = LedgerRepository(
                moto.dynamodb.Table("BillingTable"), moto.dynamodb.Table("AggregatesTable")
            )
            ledger.controls = BudgetCharges(store, lambda: BASE)
            for index in range(25):
                record = base_record(
                    task_id=f"w{number}-{index}", charged=7, total=7, resource_fee=7,
                    inference_fee=0, completed_at=BASE, started_at=BASE, billed_at=BASE,
                )  # fmt: skip
                assert ledger.charge(record) is LedgerOutcome.WRITTEN
                with lock:
                    sent.extend(ledger.controls.pending)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        view = budgets.get("team_a", "m")
        assert view.spent.value == 8 * 25 * 7
        assert view.crossed == thresholds
        assert sorted(e.detail["threshold"] for e in sent) == thresholds
        outbox = moto.dynamodb.Table("ControlsTable").scan(
            FilterExpression="begins_with(pk, :o)", ExpressionAttributeValues={":o": "OUTBOX#"}
        )["Items"]
        assert len(outbox) == len(thresholds)


def test_given_budgets_in_45_and_30_minute_zones_when_charges_straddle_local_midnight_then_each_lands_in_its_day() -> (
    None
):
    from local.atomic import serialize_dynamodb
    from local.template import create_tables
    from usage_pricing.controls.budgets import BudgetService
    from usage_pricing.controls.charging import BudgetCharges
    from usage_pricing.controls.model import BudgetRequest
    from usage_pricing.controls.store import ControlsStore
    from usage_pricing.ledger.repository import LedgerRepository

    serialize_dynamodb()
    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        store = ControlsStore(moto.dynamodb.Table("ControlsTable"))
        # Kathmandu (+05:45) starts 2026-11-10 at 2026-11-09T18:15Z; Kolkata (+05:30) at 18:30Z
        before = datetime(2026, 11, 9, 18, 14, 59, 999_999, tzinfo=UTC)
        now = [datetime(2026, 11, 2, tzinfo=UTC)]  # the budgets exist from early in the month
        budgets = BudgetService(store, lambda *_: 0, lambda: now[0])
        budgets.put("team_a", "ktm", BudgetRequest(period="day", limit=100, tz="Asia/Kathmandu"))
        budgets.put("team_a", "ccu", BudgetRequest(period="week", limit=100, tz="Asia/Kolkata"))
        ledger = LedgerRepository(
            moto.dynamodb.Table("BillingTable"), moto.dynamodb.Table("AggregatesTable")
        )
        ledger.controls = BudgetCharges(store, lambda: now[0], cache_seconds=0)
        for task, moment, amount in (
            ("a", before, 3),
            ("b", before + timedelta(microseconds=1), 5),  # Kathmandu's midnight
            ("c", datetime(2026, 11, 8, 18, 29, 59, tzinfo=UTC), 7),  # Sunday 23:59:59 in Kolkata
            ("d", datetime(2026, 11, 8, 18, 30, tzinfo=UTC), 11),  # Monday 00:00 in Kolkata
        ):
            ledger.charge(
                base_record(task_id=task, charged=amount, total=amount, resource_fee=amount,
                            inference_fee=0, completed_at=moment, started_at=moment, billed_at=moment)
            )  # fmt: skip
        views = {}
        for moment in (
            datetime(2026, 11, 8, 18, 0, tzinfo=UTC),
            datetime(2026, 11, 9, 18, 0, tzinfo=UTC),
            datetime(2026, 11, 9, 19, 0, tzinfo=UTC),
        ):
            now[0] = moment
            views[moment.isoformat()[5:16]] = {
                b: (v.period_start, v.spent.value)
                for b in ("ktm", "ccu")
                for v in [budgets.get("team_a", b)]
            }
        assert views == {
            "11-08T18:00": {"ktm": ("2026-11-07T18:15:00Z", 0), "ccu": ("2026-11-01T18:30:00Z", 7)},
            "11-09T18:00": {"ktm": ("2026-11-08T18:15:00Z", 3 + 7 + 11), "ccu": ("2026-11-08T18:30:00Z", 3 + 5 + 11)},
            "11-09T19:00": {"ktm": ("2026-11-09T18:15:00Z", 5), "ccu": ("2026-11-08T18:30:00Z", 3 + 5 + 11)},
        }  # fmt: skip
