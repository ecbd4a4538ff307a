"""The local database (moto in server mode, as `make dev` runs it) for the benchmarks, and a way
to load 10^5 charges into it in minutes instead of hours.

Through HTTP, one LedgerRepository.charge cost the local database about 40 ms of CPU: moto
parses and validates each of the four aggregate UpdateExpressions (ten ADDed counters each)
through a generic AST walker. (local/atomic.py now applies updates of that shape directly in the
local database too; the round trips and moto's request handling remain.) 10^5 charges would
still take many minutes. InProcessLedgerClient takes
the TransactItems LedgerRepository.charge builds, unchanged, and applies them to the same moto
tables in process: the record Put stored as is, and the aggregate Updates, which are always
"ADD counters SET attributes", by adding and setting the attributes directly.
bench/analytics.py proves the result identical, item for item, to what the HTTP path writes for
the same records before it uses the loader.

moto's whole-table sort on every Query (about 220,000 aggregate items at 10^5 charges) is
corrected for the local stack itself, in local/atomic.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from local.database import LocalDatabase
from local.template import create_tables, load_template

# What `make dev` sets before loading the handlers (local/__main__.py): quiet logs, no metrics.
HANDLER_ENVIRONMENT = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "UsagePricingBench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
# The one shape LedgerRepository._aggregate_updates writes.
AGGREGATE_UPDATE = re.compile(
    r"ADD (?P<add>#\w+ :\w+(?:, #\w+ :\w+)*) SET (?P<set>#\w+ = :\w+(?:, #\w+ = :\w+)*)"
)


@contextlib.contextmanager
def local_database() -> Iterator[LocalDatabase]:
    """A LocalDatabase on a free port with every table of template.yaml, its Queries partition-
    scoped. LocalDatabase.start points boto3 at it through AWS_ENDPOINT_URL_* in os.environ; the
    environment is restored afterwards so later benchmarks (and their subprocesses) do not
    inherit it."""
    saved = dict(os.environ)
    for key, value in HANDLER_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    database = LocalDatabase(port=0)
    try:
        database.start(load_template())  # with local.atomic's partition-scoped Queries
        yield database
    finally:
        database.stop()
        os.environ.clear()
        os.environ.update(saved)


def backend(region: str) -> DynamoDBBackend:
    """The in-memory state the local database's HTTP endpoint serves for a region (moto keeps it
    in this process, under its default account)."""
    for account in dynamodb_backends:
        if region in dynamodb_backends[account]:
            return dynamodb_backends[account][region]
    raise LookupError(f"the local database has no tables in {region}")


def create_region(database: LocalDatabase, region: str) -> DynamoDBBackend:
    """Every table of template.yaml again in another region of the same local database."""
    create_tables(boto3.client("dynamodb", region_name=region, endpoint_url=database.endpoint))
    return backend(region)


def dynamo_json(value: Any) -> dict[str, Any]:
    """A Python value in DynamoDB's wire format, as boto3's TypeSerializer writes the values the
    ledger uses (strings, integers, Decimals, booleans, None, lists, maps)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [dynamo_json(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: dynamo_json(v) for k, v in value.items()}}
    raise TypeError(f"the ledger now writes a {type(value).__name__}: teach the loader")


class InProcessLedgerClient:
    """A DynamoDB client for LedgerRepository whose transact_write_items applies the
    transaction to the local database's tables in process. It accepts only what the ledger's
    charge writes and raises on anything else, so a change to the ledger's transaction shows up
    here instead of silently loading something different.

    Items are built as moto stores them, but their attributes are set in one dict.update:
    moto's per-attribute assignment re-measures the whole item each time to enforce the 400 KB
    item limit (quadratic in attributes: most of moto's put cost), and the ledger's items are
    under 1 KB (bench/billing.py measures them)."""

    def __init__(self, dynamodb: DynamoDBBackend) -> None:
        self.dynamodb = dynamodb

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 — boto3's name
        # Not locked against the HTTP endpoint: the benchmark loads first and reads afterwards.
        for entry in TransactItems:  # every condition first: a failed guard writes nothing
            ((kind, request),) = entry.items()
            if kind == "Put":
                self._check_new(request)
        for entry in TransactItems:
            ((kind, request),) = entry.items()
            if kind == "Put":
                self._put(request)
            elif kind == "Update":
                self._update(request)
            else:
                raise ValueError(f"the ledger's charge now writes {kind}: teach the loader")
        return {}

    def _key(self, table: Any, attributes: dict[str, Any]) -> tuple[DynamoType, Any]:
        hash_value = DynamoType(dynamo_json(attributes[table.hash_key_attr]))
        if table.range_key_attr is None:
            return hash_value, None
        return hash_value, DynamoType(dynamo_json(attributes[table.range_key_attr]))

    def _check_new(self, request: dict[str, Any]) -> None:
        if request.get("ConditionExpression") != "attribute_not_exists(pk)":
            raise ValueError("the ledger's record guard changed: teach the loader")
        table = self.dynamodb.get_table(request["TableName"])
        if table.get_item(*self._key(table, request["Item"])) is not None:
            raise ValueError(f"task already charged: {request['Item']['pk']}")

    def _store(self, table: Any, hash_value: DynamoType, range_value: Any, item: Item) -> None:
        if range_value is None:
            table.items[hash_value] = item
        else:
            table.items[hash_value][range_value] = item

    def _put(self, request: dict[str, Any]) -> None:
        table = self.dynamodb.get_table(request["TableName"])
        hash_value, range_value = self._key(table, request["Item"])
        item = Item(hash_value, range_value, {})
        item.attrs.update({name: DynamoType(dynamo_json(v)) for name, v in request["Item"].items()})
        self._store(table, hash_value, range_value, item)

    def _update(self, request: dict[str, Any]) -> None:
        found = AGGREGATE_UPDATE.fullmatch(request["UpdateExpression"])
        condition = request.get("ConditionExpression")
        if found is None or (condition is not None and "#d" not in condition):
            raise ValueError("the ledger's aggregate update changed shape: teach the loader")
        # A day update's dimension guard (storage.aggregates.DimensionGuard) is not checked: the
        # benchmarks' models fit in their items, which bench/billing.py measures.
        names = request["ExpressionAttributeNames"]
        values = request["ExpressionAttributeValues"]
        table = self.dynamodb.get_table(request["TableName"])
        hash_value, range_value = self._key(table, request["Key"])
        item = table.get_item(hash_value, range_value)
        if item is None:
            item = Item(hash_value, range_value, {})
            item.attrs.update(
                {name: DynamoType(dynamo_json(v)) for name, v in request["Key"].items()}
            )
            self._store(table, hash_value, range_value, item)
        changes = {}
        for pair in found["add"].split(", "):
            name_token, value_token = pair.split(" ")
            current = item.attrs.get(names[name_token])
            value = values[value_token]
            if isinstance(value, set):  # a dimension set: union
                members = set(current.value) if current else set()
                changes[names[name_token]] = DynamoType({"SS": sorted(members | value)})
                continue
            total = Decimal(value) + (Decimal(current.value) if current else 0)
            changes[names[name_token]] = DynamoType({"N": str(total)})
        for pair in found["set"].split(", "):
            name_token, value_token = pair.split(" = ")
            changes[names[name_token]] = DynamoType(dynamo_json(values[value_token]))
        item.attrs.update(changes)


def table_contents(dynamodb: DynamoDBBackend, table_name: str) -> set[str]:
    """Every item of a table, as canonical JSON: for comparing two tables item for item."""
    table = dynamodb.get_table(table_name)
    return {json.dumps(item.to_json(), sort_keys=True) for item in table.all_items()}
