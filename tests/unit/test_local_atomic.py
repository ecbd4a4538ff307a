"""The local DynamoDB applies the ledger's simple counter updates (`ADD #n :v, … SET #n = :v, …`)
directly instead of through moto's general validator (local/atomic.py): each case here runs the
same updates through the direct path and through moto's own, and the items, or the errors, are the
same."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from local import atomic
from local.atomic import counter_update_plan, serialize_dynamodb

PLANNED: list[bool] = []
KEY = {"pk": {"S": "team#1"}, "sk": {"S": "day#2026-12-01"}}


@pytest.fixture
def client() -> Iterator[Any]:
    serialize_dynamodb()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("Direct", "Moto"):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        yield dynamodb


def both_ways(
    client: Any, monkeypatch: pytest.MonkeyPatch, updates: list[dict[str, Any]]
) -> tuple[list[Any], list[Any]]:
    """Each update applied to table Direct as the local stack applies it, then to table Moto by
    moto's own update_item: what each answered (its new item, or its error's code). PLANNED
    records, per update of Direct, whether it had the direct path's shape."""
    PLANNED.clear()

    def plan(*args: Any) -> Any:
        steps = counter_update_plan(*args)
        PLANNED.append(steps is not None)
        return steps

    monkeypatch.setattr(atomic, "counter_update_plan", plan)

    def run(table: str) -> list[Any]:
        answers: list[Any] = []
        for update in updates:
            try:
                client.update_item(TableName=table, Key=KEY, **update)
            except ClientError as error:
                answers.append(("error", error.response["Error"]["Code"]))
                continue
            answers.append(client.get_item(TableName=table, Key=KEY).get("Item"))
        return answers

    direct = run("Direct")
    with monkeypatch.context() as patch:
        patch.setattr(DynamoDBBackend, "update_item", inspect.unwrap(DynamoDBBackend.update_item))
        moto = run("Moto")
    return direct, moto


def add(values: dict[str, Any], sets: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    names = {f"#c{i}": name for i, name in enumerate(values)}
    placeholders = {f":c{i}": value for i, value in enumerate(values.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(values)))
    if sets:
        expression += " SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
        names.update({f"#s{i}": name for i, name in enumerate(sets)})
        placeholders.update({f":s{i}": value for i, value in enumerate(sets.values())})
    return {
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": placeholders,
        **extra,
    }


def test_given_counter_updates_when_applied_directly_then_the_items_are_moto_s(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = [
        add({"cost": {"N": "5632498"}, "calls": {"N": "1"}}, {"app": {"S": "team_local/a"}}),
        add({"cost": {"N": "-5632498"}, "calls": {"N": "1"}, "share": {"N": "0.1"}}),
        add({"share": {"N": "0.2"}, "models": {"SS": ["llm-micro", "sdxl"]}}),
        add({"models": {"SS": ["sdxl", "flux"]}, "big": {"N": "9223372036854775807"}}),
        add({"big": {"N": "1"}}, {"app": {"S": "team_local/b"}, "expires_at": {"N": "17"}}),
    ]
    direct, moto = both_ways(client, monkeypatch, updates)
    assert PLANNED == [True] * 5
    assert direct == moto
    assert direct[-1] == {
        **KEY,
        "app": {"S": "team_local/b"},
        "big": {"N": "9223372036854775808"},
        "calls": {"N": "2"},
        "cost": {"N": "0"},
        "expires_at": {"N": "17"},
        "models": {"SS": ["llm-micro", "sdxl", "flux"]},
        "share": {"N": "0.3"},
    }


def test_given_a_condition_when_it_fails_or_holds_then_the_direct_path_answers_as_moto(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    condition = {
        "ConditionExpression": "attribute_not_exists(#c0) OR #c0 < :limit",
    }
    first = add({"cost": {"N": "10"}}, **condition)
    first["ExpressionAttributeValues"][":limit"] = {"N": "15"}
    direct, moto = both_ways(client, monkeypatch, [first, first, first])
    assert PLANNED == [True] * 3
    assert direct == moto
    assert direct[2] == ("error", "ConditionalCheckFailedException")
    assert direct[1] == {**KEY, "cost": {"N": "20"}}


def test_given_a_type_mismatch_or_a_key_attribute_when_updated_then_moto_names_the_error(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates = [
        add({"cost": {"N": "1"}}, {"label": {"S": "x"}}),
        add({"label": {"N": "1"}}),  # ADD a number to a string
        add({"cost": {"SS": ["a"]}}),  # ADD a set to a number
        add({"cost": {"N": "1"}}, {"sk": {"S": "moved"}}),  # a key attribute
        add({"cost": {"N": "1"}, "#c0": {"N": "2"}}),  # the same attribute twice
    ]
    updates[-1]["UpdateExpression"] = "ADD #c0 :c0, #c0 :c1"
    direct, moto = both_ways(client, monkeypatch, updates)
    # The mismatches are found on the item itself; moto's request layer refuses the last update
    # (one attribute twice) before any backend sees it.
    assert PLANNED == [True] * 4
    assert direct == moto
    assert [answer[0] for answer in direct[1:]] == ["error"] * 4


@pytest.mark.parametrize(
    "expression",
    [
        "SET #a = #a + :v",
        "ADD #a :v REMOVE #b",
        "ADD #a.b :v",
        "ADD #a :v, #b :w ADD #b :w",
        "DELETE #a :v",
        "ADD #a :undefined",
        "ADD #undefined :v",
        "",
    ],
)
def test_given_any_other_update_when_planned_then_it_goes_moto_s_way(expression: str) -> None:
    names = {"#a": "a", "#b": "b"}
    values = {":v": {"N": "1"}, ":w": {"N": "2"}}
    assert counter_update_plan(expression, names, values) is None


def test_given_the_ledger_s_shape_when_planned_then_each_step_is_named() -> None:
    plan = counter_update_plan(
        "ADD #c0 :c0, #c1 :c1 SET #app = :app",
        {"#c0": "cost", "#c1": "calls", "#app": "app"},
        {":c0": {"N": "5"}, ":c1": {"N": "1"}, ":app": {"S": "team_local/a"}},
    )
    assert plan is not None
    assert [(action, name, value.value) for action, name, value in plan] == [
        ("ADD", "cost", "5"),
        ("ADD", "calls", "1"),
        ("SET", "app", "team_local/a"),
    ]
