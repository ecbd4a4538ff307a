"""`make audit` (docs/operations.md) over a ledger billed through the real functions (moto tables from
template.yaml): a clean ledger exits 0; a hand-corrupted record or aggregate exits 1 and the
output names it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from local.audit import LOCAL_TABLES, main

from .billing_helpers import completed
from .history_helpers import History


def run_audit(history: History, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(
        ["--team", "team_a", *args], target=(history.world.aws.dynamodb, dict(LOCAL_TABLES), 4)
    )
    return code, capsys.readouterr().out


def table(history: History, name: str) -> Any:
    return history.world.aws.dynamodb.Table(name)


def day_item(history: History, app: str = "team_a/flux") -> dict[str, Any]:
    """The day aggregate item of the app holding the most calls."""
    items = [
        i
        for i in table(history, "AggregatesTable").scan()["Items"]
        if "#D#" in i["pk"] and i["sk"].endswith(app)
    ]
    return max(items, key=lambda i: i["calls"])


def test_given_a_clean_ledger_when_audited_then_it_exits_0_and_says_so(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_audit(history, capsys)
    assert code == 0, out
    # team_a: old, before-window, v1, failed, review, refunded, v2, other-app
    assert out.splitlines()[-1].startswith("8 records (1 refunded), 8 priced again, ")
    assert out.splitlines()[-1].endswith(": no drift")


def corrupt_record(field: str, value: Any) -> Callable[[History], str]:
    def apply(history: History) -> str:
        table(history, "BillingTable").update_item(
            Key={"pk": "TASK#v1"}, UpdateExpression="SET #f = :v",
            ExpressionAttributeNames={"#f": field}, ExpressionAttributeValues={":v": value},
        )  # fmt: skip
        return f"record v1 (team_a/flux, pricing version {value if field == 'pricing_version' else 1}): {field} is"

    return apply


def add_to_aggregate(counter: str, amount: int) -> Callable[[History], str]:
    def apply(history: History) -> str:
        item = day_item(history)
        table(history, "AggregatesTable").update_item(
            Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="ADD #c :n",
            ExpressionAttributeNames={"#c": counter}, ExpressionAttributeValues={":n": amount},
        )  # fmt: skip
        return f"aggregate {item['pk']} {item['sk']}: {counter} is"

    return apply


def delete_aggregate(history: History) -> str:
    item = day_item(history)
    table(history, "AggregatesTable").delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    return f"aggregate {item['pk']} {item['sk']}: calls is 0, the records' charges and refunds add"


def phantom_aggregate(history: History) -> str:
    bucket = (
        (history.t - timedelta(hours=2))
        .replace(minute=0, second=0)
        .isoformat()
        .replace("+00:00", "Z")
    )
    table(history, "AggregatesTable").put_item(
        Item={"pk": "team_a#H#3", "sk": f"{bucket}#team_a/ghost", "app": "team_a/ghost", "bucket": bucket, "cost": 7, "calls": 1}
    )  # fmt: skip
    return f"aggregate team_a#H#3 {bucket}#team_a/ghost: calls is 1, the records' charges and refunds add 0"


def delete_record(history: History) -> str:
    table(history, "BillingTable").delete_item(Key={"pk": "TASK#v2"})
    return "(all shards): cost is"  # its aggregates remain: every granularity shows it


def altered_inputs(history: History) -> str:
    table(history, "BillingTable").update_item(
        Key={"pk": "TASK#v1"}, UpdateExpression="SET priced_from = :p",
        ExpressionAttributeValues={":p": '{"output_meta":{"outputs":[{"type":"image","count":5}]},"task_inputs":{}}'},
    )  # fmt: skip
    return "record v1 (team_a/flux, pricing version 1): inference_fee is 400000, priced again it is 1000000"


def refunded_without_reversal(history: History) -> str:
    table(history, "BillingTable").update_item(
        Key={"pk": "TASK#v1"}, UpdateExpression="SET refunded = :t", ExpressionAttributeValues={":t": True}
    )  # fmt: skip
    return "aggregates D"


CORRUPTIONS = {
    "a record's charged": corrupt_record("charged", Decimal(5_632_499)),
    "a record's fee": corrupt_record("inference_fee", Decimal(1)),
    "a record's status": corrupt_record("billing_status", "not_charged"),
    "an unreadable record": lambda history: (
        corrupt_record("billing_status", "charged_twice")(history),
        "record v1: item is 'unreadable'",
    )[1],
    "a record's pricing version": corrupt_record("pricing_version", Decimal(9)),
    "a record's stored inputs": altered_inputs,
    "an aggregate's cost": add_to_aggregate("cost", 1),
    "an aggregate's usage seconds": add_to_aggregate("u:total", -600),
    "a double-counted call": add_to_aggregate("calls", 1),
    "a lost aggregate item": delete_aggregate,
    "a phantom aggregate item": phantom_aggregate,
    "a lost record": delete_record,
    "a refund that kept its aggregates": refunded_without_reversal,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_given_a_hand_corrupted_ledger_when_audited_then_it_exits_1_naming_what_drifted(
    history: History, capsys: pytest.CaptureFixture[str], corruption: str
) -> None:
    named = CORRUPTIONS[corruption](history)
    code, out = run_audit(history, capsys)
    assert code == 1, out
    assert named in out, out
    assert out.splitlines()[-1].endswith(": DRIFT")


def test_given_a_record_billed_before_records_kept_inputs_when_audited_then_it_is_listed_not_drift(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    table(history, "BillingTable").update_item(
        Key={"pk": "TASK#old"}, UpdateExpression="REMOVE priced_from"
    )
    code, out = run_audit(history, capsys)
    assert code == 0, out
    assert (
        "1 record(s) billed before records kept their inputs cannot be priced again (not drift): old"
        in out
    )


def test_given_a_window_when_audited_then_only_its_records_and_its_days_aggregates_are_checked(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt_record("charged", Decimal(1))(history)  # v1, at T + 60 s
    day = (history.t - timedelta(days=2)).date()  # "before-window" alone completed that day
    window = ["--start", day.isoformat(), "--end", (day + timedelta(days=1)).isoformat()]
    code, out = run_audit(history, capsys, *window)
    assert code == 0, out
    assert out.splitlines()[-1].startswith("1 records (0 refunded), 1 priced again")
    code, out = run_audit(history, capsys, "--start", day.isoformat())
    assert code == 1
    assert (
        "record v1 (team_a/flux, pricing version 1): charged is 1, priced again it is 5632498"
        in out
    )
    # a record's day is checked whole: its aggregates no longer add up with it either
    assert "(all shards): cost is" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--start", "yesterday"],
        ["--end", "2026-13-01"],
        ["--start", "2026-02-02", "--end", "2026-02-01"],
    ],
)
def test_given_a_bad_window_when_audited_then_it_exits_2(
    history: History, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code = main(
        ["--team", "team_a", *args], target=(history.world.aws.dynamodb, dict(LOCAL_TABLES), 4)
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err


def test_given_another_team_when_audited_then_it_sees_only_its_own_ledger(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--team", "team_b"], target=(history.world.aws.dynamodb, dict(LOCAL_TABLES), 4))
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1].startswith("1 records (0 refunded), 1 priced again")


def test_given_minute_items_past_their_ttl_when_audited_then_present_or_deleted_they_are_not_drift(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    ancient = completed("ancient", completed_at=history.t - timedelta(days=4))
    assert history.world.deliver(ancient) == []
    aggregates = table(history, "AggregatesTable")
    now = datetime.now(UTC).timestamp()
    expired = [
        i for i in aggregates.scan()["Items"] if "#M#" in i["pk"] and int(i["expires_at"]) <= now
    ]
    assert len(expired) == 1  # the ancient task's minute item; DynamoDB's TTL deletes it later
    assert run_audit(history, capsys)[0] == 0
    aggregates.delete_item(Key={"pk": expired[0]["pk"], "sk": expired[0]["sk"]})
    code, out = run_audit(history, capsys)
    assert code == 0, out


def test_given_a_stack_when_audited_then_its_tables_and_shards_come_from_its_outputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    import local.audit

    described = {
        "Outputs": [
            {"OutputKey": "BillingTableName", "OutputValue": "s-Billing-1"},
            {"OutputKey": "AggregatesTableName", "OutputValue": "s-Aggregates-1"},
            {"OutputKey": "PricingTableName", "OutputValue": "s-Pricing-1"},
        ],
        "Parameters": [
            {"ParameterKey": "AggregateShards", "ParameterValue": "8"},
            {"ParameterKey": "CelEngine", "ParameterValue": "cel-python"},
        ],
    }
    asked: list[str] = []

    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 — boto3's name
            asked.append(StackName)
            return {"Stacks": [described]}

    monkeypatch.setattr(boto3, "client", lambda service, **_: CloudFormation())
    _, names, shards = local.audit._tables("usage-pricing")
    assert asked == ["usage-pricing"]
    assert names == {
        "BillingTableName": "s-Billing-1",
        "AggregatesTableName": "s-Aggregates-1",
        "PricingTableName": "s-Pricing-1",
    }
    assert shards == 8
    assert local.audit._engine("usage-pricing") == "cel-python"  # error messages are the engine's
    described["Outputs"] = described["Outputs"][:1]  # a stack deployed before these outputs
    with pytest.raises(SystemExit, match="no output AggregatesTableName, PricingTableName"):
        local.audit._tables("usage-pricing")
