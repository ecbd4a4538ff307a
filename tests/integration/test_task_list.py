"""GET /usage/tasks: the team's billing records from the record GSIs, a page at a time."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import AwsWorld, LambdaContext, sample_event
from tests.integration.task_list_helpers import NOW, Tasks, at, bounded_history, fill

from .billing_helpers import completed, refunded


@pytest.fixture
def world(aws: AwsWorld) -> Tasks:
    return Tasks(aws)


@pytest.mark.parametrize("limit", ["1", "2", "5", "16", "17", "100"])
def test_given_records_when_paged_at_any_size_then_the_pages_concatenate_to_the_window_in_order(
    world: Tasks, limit: str
) -> None:
    expected = fill(world)
    world.bill(at(60 * 24 * 8, "too-old"), at(-5, "future"))  # outside the default 7 days
    assert world.walk({"limit": limit}) == expected


def test_given_tasks_arriving_between_pages_when_paged_then_no_record_is_missed_or_repeated(
    world: Tasks,
) -> None:
    world.bill(*(at(100 - i, f"a{i:02d}") for i in range(10)))
    world.handler.tasks.clock = lambda: NOW + timedelta(minutes=5)
    arrivals = iter(range(100))

    def arrive(_page: int) -> None:
        n = next(arrivals)
        # one inside the window after every position, one after the window's end
        world.bill(at(-1 - n / 100, f"new{n:02d}"), at(-10 - n, f"later{n:02d}"))

    ids = world.walk({"limit": "3"}, between=arrive)
    assert len(ids) == len(set(ids))
    assert ids[:10] == [f"a{i:02d}" for i in range(10)]
    assert all(i.startswith("new") for i in ids[10:])
    assert not any(i.startswith("later") for i in ids)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("app", "team_a/app-1")], {"t01", "t04", "t07", "t10", "tie-a", "tie-b", "tie-c"}),
        (
            [("app", "team_a/app-0"), ("app", "team_a/app-2")],
            {"t00", "t02", "t03", "t05", "t06", "t08", "t09", "t11"},
        ),
        ([("status", "failed")], {"t03"}),
        ([("status", "refunded")], {"t05"}),
        ([("status", "needs_review")], set()),
        ([("status", "failed"), ("status", "refunded")], {"t03", "t05"}),
        ([("status", "cancelled"), ("app", "team_a/app-0")], set()),
        ([("status", "completed"), ("app", "team_a/app-2")], {"t02", "t05", "t08", "t11"}),
    ],
)
def test_given_filters_when_paged_then_only_matching_records_come_in_order(
    world: Tasks, query: list[tuple[str, str]], expected: set[str]
) -> None:
    events = [at(60 * 24 * 3 - i * 37.5, f"t{i:02d}", app=f"team_a/app-{i % 3}") for i in range(12)]
    events[3]["detail"]["status"] = "failed"
    events += [at(30, tie, app="team_a/app-1") for tie in ("tie-b", "tie-a", "tie-c")]
    world.bill(*events)
    world.bill(refunded("t05"))
    ids, cursor = [], None
    while True:
        response = world.call(query + [("limit", "2")] + ([("cursor", cursor)] if cursor else []))
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, body
        ids += [t["task_id"] for t in body["data"]]
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert set(ids) == expected
    assert ids == sorted(ids, key=lambda i: (i.startswith("tie"), i))


def test_given_a_record_when_listed_then_it_is_its_task_cost(world: Tasks) -> None:
    world.bill(at(10, "t1"))
    [task] = world.page({})["data"]
    assert task["task_id"] == "t1"
    assert task["charged"] == {"value": 5_232_498, "dollars": "0.05232498"}
    assert "output_meta" not in task and "task_inputs" not in task
    assert set(task) >= {
        "resource_fee",
        "inference_fee",
        "royalty_fee",
        "partner_fee",
        "total",
        "discount",
        "pricing_version",
        "billing_status",
    }


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-1"])
def test_given_a_limit_out_of_bounds_when_listed_then_it_is_a_400(world: Tasks, limit: str) -> None:
    response = world.call({"limit": limit})
    assert response["statusCode"] == 400
    assert [e["field"] for e in json.loads(response["body"])["errors"]] == ["limit"]


def tamper(cursor: str, position: int) -> str:
    flipped = "A" if cursor[position] != "A" else "B"
    return cursor[:position] + flipped + cursor[position + 1 :]


def test_given_an_altered_or_foreign_cursor_when_listed_then_it_is_a_400(world: Tasks) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(5)))
    world.bill(*(at(10 + i, f"b{i}", team="team_b", app="team_b/x") for i in range(5)))
    cursor = world.page({"limit": "2"})["next_cursor"]
    foreign = world.page({"limit": "2"}, team="team_b")["next_cursor"]
    dot = cursor.index(".")
    cases: list[tuple[dict[str, str], str]] = [
        ({"cursor": tamper(cursor, 5)}, "team_a"),  # the position
        ({"cursor": tamper(cursor, dot + 3)}, "team_a"),  # the digest
        ({"cursor": cursor[:-2]}, "team_a"),
        ({"cursor": "not-a-cursor"}, "team_a"),
        ({"cursor": "e30.AAAA"}, "team_a"),
        ({"cursor": foreign}, "team_a"),  # another team's cursor
        ({"cursor": cursor}, "team_b"),  # this team's cursor, shown to another
        ({"cursor": cursor, "app": "team_a/flux"}, "team_a"),  # another query
        ({"cursor": cursor, "range": "30d"}, "team_a"),
        ({"cursor": cursor, "status": "completed"}, "team_a"),
    ]
    for query, team in cases:
        response = world.call({"limit": "2", **query}, team=team)
        body = json.loads(response["body"])
        assert (response["statusCode"], [e["field"] for e in body.get("errors", [])]) == (
            400,
            ["cursor"],
        ), query
    # The page size may change between pages; the query may not.
    assert [t["task_id"] for t in world.page({"limit": "3", "cursor": cursor})["data"]] == [
        "t2",
        "t1",
        "t0",
    ]


def test_given_csv_when_listed_then_rows_carry_every_fee_and_a_link_names_the_next_page(
    world: Tasks,
) -> None:
    world.bill(*(at(10 + i, f"t{i}") for i in range(3)), at(9, "f1", status="failed"))
    response = world.call({"limit": "3", "format": "csv", "app": "team_a/flux"})
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert response["headers"]["Content-Disposition"] == 'attachment; filename="tasks.csv"'
    rows = list(csv.DictReader(io.StringIO(response["body"])))
    assert [r["task_id"] for r in rows] == ["t2", "t1", "t0"]
    assert rows[0]["charged_microcents"] == "5232498" and rows[0]["charged_usd"] == "0.05232498"
    assert list(rows[0]) == [
        "task_id", "app", "app_version", "status", "billing_status", "completed_at",
        "resource_fee_microcents", "resource_fee_usd", "inference_fee_microcents", "inference_fee_usd",
        "royalty_fee_microcents", "royalty_fee_usd", "partner_fee_microcents", "partner_fee_usd",
        "total_microcents", "total_usd", "discount_microcents", "discount_usd",
        "charged_microcents", "charged_usd", "refunded", "pricing_version",
    ]  # fmt: skip
    link = response["headers"]["Link"]
    assert link.startswith("</usage/tasks?") and link.endswith('>; rel="next"')
    following = dict(parse_qsl(urlsplit(link[1 : link.index(">")]).query))
    assert (
        following["format"] == "csv"
        and following["app"] == "team_a/flux"
        and following["limit"] == "3"
    )
    last = world.call(following)
    assert "Link" not in last["headers"]
    [row] = list(csv.DictReader(io.StringIO(last["body"])))
    assert (
        row["task_id"],
        row["status"],
        row["charged_microcents"],
        row["discount_microcents"],
    ) == (
        "f1",
        "failed",
        "0",
        "5232498",
    )
    json_page = world.call({"limit": "3"}, headers={"Accept": "application/json"})
    assert json_page["headers"]["Link"].endswith('rel="next"')


def test_given_windows_when_listed_then_only_their_records_come(world: Tasks) -> None:
    world.bill(
        completed(
            "d1", completed_at=datetime(2026, 11, 20, 22, 59, 59, tzinfo=UTC)
        ),  # Nov 20 in Berlin
        completed(
            "d2", completed_at=datetime(2026, 11, 20, 23, 0, 0, tzinfo=UTC)
        ),  # Nov 21 in Berlin
        completed("d3", completed_at=datetime(2026, 11, 21, 22, 59, 59, 999_000, tzinfo=UTC)),
        completed("d4", completed_at=datetime(2026, 11, 21, 23, 0, 0, tzinfo=UTC)),
    )
    berlin = world.page({"start": "2026-11-21", "end": "2026-11-22", "tz": "Europe/Berlin"})
    assert [t["task_id"] for t in berlin["data"]] == ["d2", "d3"]
    exact = world.page({"start": "2026-11-20T22:59:59Z", "end": "2026-11-21T23:00:00Z"})
    assert [t["task_id"] for t in exact["data"]] == ["d1", "d2", "d3"]
    assert [t["task_id"] for t in world.page({"range": "1d"})["data"]] == ["d3", "d4"]
    problem = world.call({"start": "2026-11-22", "end": "2026-11-21"})
    assert problem["statusCode"] == 400


def test_given_another_teams_records_when_listed_then_they_never_appear(world: Tasks) -> None:
    world.bill(at(10, "mine"), at(10, "theirs", team="team_b", app="team_b/x"))
    assert [t["task_id"] for t in world.page({})["data"]] == ["mine"]
    assert [t["task_id"] for t in world.page({}, team="team_b")["data"]] == ["theirs"]
    assert world.page({"app": "team_b/x"})["data"] == []


@pytest.mark.parametrize(
    ("scopes", "status"), [("apps:read", 403), ("billing:read", 200), ("billing", 200), ("*", 200)]
)
def test_given_scopes_when_listed_then_billing_read_is_required(
    world: Tasks, scopes: str, status: int
) -> None:
    assert world.call({}, scopes=scopes)["statusCode"] == status


def test_given_the_sample_event_when_invoked_then_it_answers(world: Tasks) -> None:
    response = world.handler.lambda_handler(sample_event("task_list"), LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])["data"]) == (200, [])


# ---- every page is bounded (docs/api.md): a read budget, a deadline, a signed cursor -------------


class Remaining(LambdaContext):
    """A Lambda context with `ms` milliseconds left when the request starts."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


class Ticking:
    """A monotonic clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ({"status": "failed"}, {"failed"}),
        ({"status": "refunded"}, {"refunded"}),
        ({"status": "needs_review"}, set()),
        ([("status", "failed"), ("app", "team_a/app-0"), ("app", "team_a/app-1")], {"failed"}),
    ],
)
def test_given_a_small_read_budget_when_a_status_filter_is_walked_then_each_page_reads_at_most_it_and_the_pages_are_the_unfiltered_truth(
    world: Tasks, query: dict[str, str] | list[tuple[str, str]], wanted: set[str]
) -> None:
    truth = bounded_history(world)
    expected = [task for task, _, status in truth if status in wanted]
    world.handler.tasks.budget.max_items = 8  # 2 items a Query per partition of an app filter
    world.handler.tasks.budget.max_queries = 4
    index = world.handler.tasks.index
    pairs = list(query.items()) if isinstance(query, dict) else query
    ids: list[str] = []
    reads: list[tuple[int, int]] = []
    cursor = None
    for _ in range(100):
        before = (index.stats.scanned, index.stats.queries)
        response = world.call(
            pairs + [("limit", "1000")] + ([("cursor", cursor)] if cursor else [])
        )
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, body
        reads.append((index.stats.scanned - before[0], index.stats.queries - before[1]))
        ids += [t["task_id"] for t in body["data"]]
        assert body["has_more"] == (body["next_cursor"] is not None)
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert ids == expected  # every match, in order, none twice
    assert max(scanned for scanned, _ in reads) <= 8
    assert max(queries for _, queries in reads) <= 4
    assert len(reads) > 30 // 8  # the budget, not the limit of 1,000, ended the pages


def test_given_a_budget_when_a_filtered_page_matches_nothing_yet_then_it_answers_no_rows_and_has_more(
    world: Tasks,
) -> None:
    bounded_history(world)
    world.handler.tasks.budget.max_items = 4
    body = world.page({"status": "refunded", "limit": "1"})
    # t00…t03 read (two Queries of 2 items), none refunded: no row, and where to go on from
    assert (body["data"], body["has_more"]) == ([], True)
    following = world.page({"status": "refunded", "limit": "1", "cursor": body["next_cursor"]})
    assert following["data"] == [] and following["has_more"]


def test_given_the_deadline_when_a_filtered_list_is_walked_then_each_page_stops_at_it_and_the_walk_loses_nothing(
    world: Tasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = bounded_history(world)
    monkeypatch.setattr("usage_pricing.spend.task_index.FILTERED_PAGE", 3)
    from usage_pricing.spend.tasks import MARGIN_MS

    # 2.5 s once the margin is kept: the budget starts at 1 s of the ticking clock, which it reads
    # once per check; the checks at 2 s and 3 s allow a Query each, the one at 4 s does not.
    world.handler.tasks.budget.clock = Ticking()
    index = world.handler.tasks.index
    ids, queries, cursor = [], [], None
    for _ in range(100):
        before = index.stats.queries
        response = world.call(
            {"status": "failed", "limit": "1000", **({"cursor": cursor} if cursor else {})},
            context=Remaining(MARGIN_MS + 2_500),
        )
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, body
        queries.append(index.stats.queries - before)
        ids += [t["task_id"] for t in body["data"]]
        if not body["has_more"]:
            break
        cursor = body["next_cursor"]
    assert ids == [task for task, _, status in truth if status == "failed"]
    assert set(queries[:-1]) == {3}  # the forced first Query and the two the deadline allowed


def test_given_no_time_left_when_listed_then_a_page_still_moves_on(world: Tasks) -> None:
    bounded_history(world)
    world.handler.tasks.budget.max_items = 4
    body = world.page({"status": "failed", "limit": "1000"})
    context = Remaining(0)
    second = world.call(
        {"status": "failed", "limit": "1000", "cursor": body["next_cursor"]}, context=context
    )
    page = json.loads(second["body"])
    assert second["statusCode"] == 200
    assert page["next_cursor"] != body["next_cursor"]


def old_constant_key_cursor(team: str, query: Any, payload: dict[str, Any], version: int) -> str:
    """A cursor minted as anyone who read the earlier source could: MAC'd with its constant key."""
    import base64
    import hashlib

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    raw = json.dumps({"v": version, **payload}, separators=(",", ":"), sort_keys=True).encode()
    mac = hashlib.blake2b(key=b"usage-pricing task-list cursor v1", digest_size=16)
    parts = [b"task-list"] if version == 2 else []
    for part in (*parts, team.encode(), query.fingerprint(), raw):
        mac.update(len(part).to_bytes(4, "big") + part)
    return f"{b64(raw)}.{b64(mac.digest())}"


def test_given_a_cursor_forged_with_the_old_constant_key_or_another_deployments_secret_then_it_is_a_400(
    world: Tasks,
) -> None:
    from usage_pricing.core.cursors import CursorSigner
    from usage_pricing.core.utc import sortable as time_key
    from usage_pricing.spend.tasks import TaskListQuery

    world.bill(*(at(10 + i, f"t{i}") for i in range(5)))
    genuine = world.page({"limit": "2"})["next_cursor"]
    position = {
        "l": time_key(NOW - timedelta(days=7)),
        "h": time_key(NOW),
        "a": time_key(NOW - timedelta(minutes=12)) + "#t2",
    }
    query = TaskListQuery(limit=2)
    forged = [
        old_constant_key_cursor("team_a", query, position, 1),
        old_constant_key_cursor("team_a", query, position, 2),
        CursorSigner("another deployment's secret, long enough").seal(
            "task-list", (b"team_a", query.fingerprint()), position
        ),
    ]
    for cursor in forged:
        response = world.call({"limit": "2", "cursor": cursor})
        assert response["statusCode"] == 400, cursor
        assert [e["field"] for e in json.loads(response["body"])["errors"]] == ["cursor"]
    # the genuine one, to the same position, works
    assert [t["task_id"] for t in world.page({"limit": "2", "cursor": genuine})["data"]] == [
        "t2",
        "t1",
    ]


def test_given_a_signed_cursor_outside_its_querys_window_then_it_is_a_400_and_reaches_no_query(
    world: Tasks,
) -> None:
    from usage_pricing.core.utc import sortable as time_key
    from usage_pricing.spend.tasks import TaskListQuery

    world.bill(*(at(10 + i, f"t{i}") for i in range(3)))
    signer = world.handler.tasks.signer
    week, now = time_key(NOW - timedelta(days=7)), time_key(NOW)
    start, end = "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"
    explicit = {"start": start, "end": end}
    s, e = (
        time_key(datetime(2026, 11, 20, tzinfo=UTC)),
        time_key(datetime(2026, 11, 21, tzinfo=UTC)),
    )
    cases: list[tuple[dict[str, str], dict[str, Any], str]] = [
        ({}, {"l": now, "h": week, "a": week + "#t"}, "runs backwards"),
        ({}, {"l": week, "h": week, "a": week + "#t"}, "empty"),
        ({}, {"l": week, "h": now, "a": "2000-01-01T00:00:00.000000Z#t"}, "before its window"),
        ({}, {"l": week, "h": now, "a": now + "#t"}, "at its end"),
        ({}, {"l": week, "h": now, "a": "~"}, "past its end"),
        ({}, {"l": time_key(NOW - timedelta(days=30)), "h": now, "a": now}, "not the range"),
        ({}, {"l": time_key(NOW - timedelta(days=6)), "h": time_key(NOW + timedelta(days=1)), "a": now}, "future"),
        ({}, {"l": "2000-01-01", "h": now, "a": now}, "not a key"),
        ({}, {"l": week, "h": now}, "no position"),
        (explicit, {"l": time_key(datetime(2000, 1, 1, tzinfo=UTC)), "h": e, "a": s + "#t"}, "another start"),
        (explicit, {"l": s, "h": time_key(datetime(2026, 11, 22, tzinfo=UTC)), "a": s + "#t"}, "another end"),
        (explicit, {"l": e, "h": s, "a": s + "#t"}, "inverted"),
    ]  # fmt: skip
    index = world.handler.tasks.index
    for params, position, why in cases:
        query = TaskListQuery(start=params.get("start"), end=params.get("end"), limit=2)
        cursor = signer.seal("task-list", (b"team_a", query.fingerprint()), position)
        before = index.stats.queries
        response = world.call({**params, "limit": "2", "cursor": cursor})
        body = json.loads(response["body"])
        assert (response["statusCode"], [i["field"] for i in body.get("errors", [])]) == (
            400,
            ["cursor"],
        ), why
        assert index.stats.queries == before, why


@pytest.mark.parametrize("secret", ["", "too-short-a-secret"])
def test_given_no_cursor_secret_when_listed_then_the_route_fails_closed_with_a_503(
    aws: AwsWorld, secret: str
) -> None:
    world = Tasks(aws)
    world.handler = aws.handler("task_cost", "TaskCostFunction", CURSOR_SECRET=secret)
    world.bill(at(10, "t1"))
    response = world.call({"limit": "1"})
    problem = json.loads(response["body"])
    assert (response["statusCode"], problem["title"]) == (503, "Service unavailable")
    assert "CURSOR_SECRET" in problem["detail"]
    assert "Retry-After" not in response["headers"]
