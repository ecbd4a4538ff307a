"""DynamoDB applies each request, and each transaction, atomically; moto's in-memory backend
takes no locks, so two threads can both pass a condition check before either writes (two
concurrent duplicate charges would both succeed). Serializing moto's DynamoDB operations behind
one lock restores the guarantee the ledger relies on. Used by the local stack and the tests.

moto also makes every transaction deep-copy each table it touches, to roll back on failure: a
ledger of N records costs O(N) per charge. Under the lock, rolling back just the items the
transaction names is equivalent, so transactions snapshot those items instead.

And moto answers every Query by sorting every item of the table before keeping the query's
partition: O(N log N) in the table where DynamoDB reads only the partition (a 90-day breakdown
over 3 × 10^4 charges took 23 s). A base-table Query is handed only its partition's items,
sorted the same way; the code that filters, pages and serializes them stays moto's own.

Last, two costs of moto's that grow with a Query's answer: it projects an item
(ProjectionExpression) by re-serializing the whole item once per projected attribute, and it
writes every response through a generic serializer that walks each attribute value against the
API's shape model (about 3 ms per item of 16 attributes). A projection of top-level attributes
now picks them from the item directly (nested paths stay moto's), and a Query's result, which
moto has already turned into DynamoDB's JSON, is written out directly with moto's JSON encoder
(which writes a Binary value's bytes as base64, as DynamoDB does).

And moto runs every UpdateExpression through a general validator that walks its syntax tree once
per rule, quadratically in the number of clauses: a charge's four aggregate updates (11-18 ADD
clauses each) cost about 25 ms apiece, most of a charge, so the demo's ~200 tasks took ~15 s to
bill. The ledger's updates have one simple shape, `ADD #n :v, … SET #n = :v, …` with
placeholders only; an update of exactly that shape on an item whose attributes have the types it
needs is applied here directly, with moto's own arithmetic (DynamoType addition, set union), after
moto itself has checked the condition and created a missing item. Anything else (another clause,
a path, a key attribute, a type mismatch, an undefined placeholder, a table with a stream) goes
moto's whole way, errors included. tests/unit/test_local_atomic.py holds the direct path to
moto's answers, item by item."""

from __future__ import annotations

import copy
import functools
import heapq
import re
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import ItemSizeToUpdateTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize, dynamo_json_dump
from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.RLock()
OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "transact_write_items",
    "transact_get_items",
    "batch_write_item",
)


def serialize_dynamodb() -> None:
    """Make the local DynamoDB behave as DynamoDB does where the ledger depends on it:
    serializable operations, item-level transaction rollback, partition-scoped Queries."""
    _scope_queries_to_partitions()
    _project_top_level_attributes_directly()
    _write_query_results_as_json()
    _apply_counter_updates_directly()
    for name in OPERATIONS:
        original = getattr(DynamoDBBackend, name, None)
        if original is None or getattr(original, "serialized", False):
            continue
        wrapped = _item_rollback(original) if name == "transact_write_items" else original
        setattr(DynamoDBBackend, name, _locked(wrapped))


class _TablesByReference:
    """Stands in for the copy module inside moto's DynamoDB models during a transaction: tables
    are not copied (the items they will change are snapshotted instead); anything else is."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def wrapper(
        backend: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        saved = [_snapshot(backend, entry) for entry in transact_items]
        module_copy = dynamodb_models.copy  # type: ignore[attr-defined]
        dynamodb_models.copy = _TablesByReference  # type: ignore[attr-defined]
        try:
            return transact(backend, transact_items, *args, **kwargs)
        except BaseException:
            for snapshot in reversed(saved):
                if snapshot is not None:
                    _restore(*snapshot)
            raise
        finally:
            dynamodb_models.copy = module_copy  # type: ignore[attr-defined]

    return wrapper


def _snapshot(backend: Any, entry: dict[str, Any]) -> tuple[Any, Any, Any, Any] | None:
    ((_, operation),) = entry.items()
    table = backend.tables.get(operation.get("TableName"))
    key = operation.get("Key") or operation.get("Item")
    if table is None or not key or table.hash_key_attr not in key:
        return None
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    if table.range_key_attr:
        current = table.items.get(hash_key, {}).get(range_key)
    else:
        current = table.items.get(hash_key)
    return table, hash_key, range_key, copy.deepcopy(current)


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if table.range_key_attr:
        rows = table.items[hash_key]
        if item is None:
            rows.pop(range_key, None)
        else:
            rows[range_key] = item
        if not rows:
            table.items.pop(hash_key, None)
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    wrapper.serialized = True  # type: ignore[attr-defined]
    return wrapper


_QUERY_SCOPE = threading.local()


def _scope_queries_to_partitions() -> None:
    if getattr(Table.query, "partition_scoped", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            _QUERY_SCOPE.index = _index_scope(self, hash_key, index_name, args, kwargs)
            try:
                return original_query(self, hash_key, *args, **kwargs)
            finally:
                _QUERY_SCOPE.index = None
        if hash_key is None or self.range_key_attr is None:
            return original_query(self, hash_key, *args, **kwargs)
        _QUERY_SCOPE.partition = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERY_SCOPE.partition = None

    def all_items(self: Table) -> Any:
        index = getattr(_QUERY_SCOPE, "index", None)
        if index is not None and index[0] is self:
            return index[1](self.items.values())  # a table without a range key: hash → item
        table, hash_key = getattr(_QUERY_SCOPE, "partition", None) or (None, None)
        if table is not self:
            return original_all_items(self)
        rows = self.items[hash_key].values() if hash_key in self.items else []
        return sorted(rows, key=lambda item: (item.hash_key, item.range_key))

    query.partition_scoped = True  # type: ignore[attr-defined]
    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]


def _index_scope(
    table: Table, hash_key: Any, index_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Table, Callable[[Any], list[Item]]] | None:
    """For a Query on an index with one string hash key and one string range key, compared
    with BETWEEN (the only kind the ledger's readers make): what all_items hands moto instead of
    every item of the table. The index partition's items inside the range, past the exclusive
    start key in the Query's direction, sorted as moto sorts them (range key, then the table's
    key), and only the first Limit + 1 of those: moto pages through the same items and stops at
    Limit, and needs the one after to report LastEvaluatedKey. DynamoDB reads the same (the
    partition's range from the start key on); moto, handed every item, sorted the whole
    partition on every page (over a second a Query at 10^5 records). Anything else: None, moto's
    own way."""
    names = ("range_comparison", "range_objs", "limit", "exclusive_start_key", "scan_index_forward")
    given = dict(zip(names, args[:5], strict=False)) | {k: kwargs[k] for k in names if k in kwargs}
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None or hash_key is None or given.get("range_comparison") != "BETWEEN":
        return None
    hash_names = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    range_names = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    low, high = given.get("range_objs") or (None, None)
    if len(hash_names) != 1 or len(range_names) != 1 or table.range_key_attr is not None:
        return None
    if not all(isinstance(v, DynamoType) and v.type == "S" for v in (hash_key, low, high)):
        return None
    hash_name, range_name, table_key = hash_names[0], range_names[0], table.hash_key_attr
    forward = given.get("scan_index_forward") is not False
    start = (given.get("exclusive_start_key") or {}).get(range_name)
    if start is not None and "S" not in start:
        return None
    after = (
        None
        if start is None
        else (start["S"], (given["exclusive_start_key"].get(table_key) or {}).get("S", ""))
    )
    limit = given.get("limit")

    def select(items: Any) -> list[Item]:
        rows = []
        wanted = hash_key.value
        for item in items:
            attrs = item.attrs
            partition = attrs.get(hash_name)  # compared raw: DynamoType's == casts every value
            if partition is None or partition.type != "S" or partition.value != wanted:
                continue
            value, key = attrs.get(range_name), attrs.get(table_key)
            if value is None or value.type != "S" or not low.value <= value.value <= high.value:
                continue
            position = (value.value, key.value if key is not None else "")
            if after is not None and (position <= after if forward else position >= after):
                continue
            rows.append((position, item))
        if limit:  # the first Limit + 1 in the Query's direction
            pick = heapq.nsmallest if forward else heapq.nlargest
            rows = pick(int(limit) + 1, rows, key=lambda row: row[0])
        else:
            rows.sort(key=lambda row: row[0], reverse=not forward)
        if not forward:
            rows.reverse()  # moto sorts ascending, then reverses for a backward Query
        return [item for _, item in rows]

    return table, select


def _project_top_level_attributes_directly() -> None:
    original = Item.project
    if getattr(original, "direct", False):
        return

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        if not all(len(path) == 1 for path in projection_expressions):
            return original(self, projection_expressions)
        projected = Item(self.hash_key, self.range_key, {})
        # One update: LimitedSizeDict re-measures the whole item on every single assignment.
        projected.attrs.update(
            {
                path[0]: self.attrs[path[0]]
                for path in projection_expressions
                if path[0] in self.attrs
            }
        )
        return projected

    project.direct = True  # type: ignore[attr-defined]
    Item.project = project  # type: ignore[method-assign]


def _write_query_results_as_json() -> None:
    original = DynamoHandler.query
    if getattr(original, "as_json", False):
        return

    @functools.wraps(original)
    def query(self: DynamoHandler) -> Any:
        answer = original(self)
        result = getattr(answer, "result", None)
        # An error, or anything but the plain JSON document a Query answers, goes moto's way.
        if not isinstance(result, dict) or "Count" not in result:
            return answer
        # moto's own encoder: Binary values (a record's compressed inputs) are bytes here.
        return dynamo_json_dump(result)

    query.as_json = True  # type: ignore[attr-defined]
    DynamoHandler.query = query  # type: ignore[method-assign]


# `ADD #a :a, #b :b SET #c = :c` (either clause first, each at most once): placeholders only.
_ADD_ELEMENT = r"#\w+\s+:\w+"
_SET_ELEMENT = r"#\w+\s*=\s*:\w+"
_CLAUSE = {"ADD": re.compile(rf"{_ADD_ELEMENT}(?:\s*,\s*{_ADD_ELEMENT})*"),
           "SET": re.compile(rf"{_SET_ELEMENT}(?:\s*,\s*{_SET_ELEMENT})*")}  # fmt: skip
_CLAUSES = re.compile(r"\s*\b(ADD|SET)\s+(.*?)(?=\s+\b(?:ADD|SET)\s|\s*$)", re.S)
_PLAIN_TYPES = {"S", "N", "BOOL", "SS", "NS"}
_ITEM_LIMIT = 405_000  # moto's LimitedSizeDict: DynamoDB's 400 KB, as measured by moto


def counter_update_plan(
    expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
) -> list[tuple[str, str, DynamoType]] | None:
    """The (action, attribute, value) steps of an update of the ledger's simple shape, or None
    for any other update (moto's own path then applies it, or names its error)."""
    if not expression or names is None or values is None:
        return None
    steps: list[tuple[str, str, DynamoType]] = []
    seen_actions: set[str] = set()
    consumed = 0
    for match in _CLAUSES.finditer(expression):
        action, body = match.group(1), match.group(2).strip()
        if match.start() != consumed or action in seen_actions:
            return None
        seen_actions.add(action)
        consumed = match.end()
        if not _CLAUSE[action].fullmatch(body):
            return None
        for element in body.split(","):
            name, value = re.split(r"\s*=\s*|\s+", element.strip())
            if name not in names or value not in values or not isinstance(values[value], dict):
                return None
            typed = DynamoType(values[value])
            if typed.type not in _PLAIN_TYPES or (typed.is_set() and not typed.value):
                return None
            if action == "ADD" and not (typed.is_number() or typed.is_set()):
                return None
            steps.append((action, names[name], typed))
    if consumed != len(expression) or not steps:
        return None
    attributes = [attribute for _, attribute, _ in steps]
    if len(set(attributes)) != len(attributes):  # overlapping paths: moto's error
        return None
    return steps


def _apply_counter_updates_directly() -> None:
    original = DynamoDBBackend.update_item
    if getattr(original, "direct", False):
        return

    @functools.wraps(original)
    def update_item(  # noqa: PLR0917 — moto's signature, called positionally by moto
        backend: DynamoDBBackend,
        table_name: str,
        key: dict[str, dict[str, Any]],
        update_expression: str,
        expression_attribute_names: dict[str, Any],
        expression_attribute_values: dict[str, Any],
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Item:
        def moto_path() -> Item:
            return original(
                backend, table_name, key, update_expression, expression_attribute_names,
                expression_attribute_values, attribute_updates, expected,
                condition_expression, return_values_on_condition_check_failure,
            )  # fmt: skip

        steps = counter_update_plan(
            update_expression, expression_attribute_names, expression_attribute_values
        )
        table = backend.tables.get(table_name)
        if steps is None or attribute_updates or expected or table is None:
            return moto_path()
        key_attributes = {definition["AttributeName"] for definition in table.attr}
        key_attributes |= {table.hash_key_attr, table.range_key_attr}
        if table.stream_shard is not None or any(a in key_attributes for _, a, _ in steps):
            return moto_path()
        try:
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
        except Exception:  # a malformed key: moto names the error
            return moto_path()
        attrs = current.attrs if current is not None else {}
        for action, attribute, value in steps:
            existing = attrs.get(attribute)
            if action == "ADD" and existing is not None and existing.type != value.type:
                return moto_path()  # moto's type error
        # moto's own path with no expression: key checks, the condition, the missing item
        # created from its key; then the steps, with moto's arithmetic.
        item = original(
            backend, table_name, key, "", expression_attribute_names,
            expression_attribute_values, {}, None, condition_expression,
            return_values_on_condition_check_failure,
        )  # fmt: skip
        changed: dict[str, DynamoType] = {}
        for action, attribute, value in steps:
            existing = item.attrs.get(attribute)
            if action == "SET" or existing is None:
                changed[attribute] = copy.deepcopy(value)
            elif value.is_number():
                changed[attribute] = existing + value
            else:
                changed[attribute] = DynamoType({value.type: existing.value + [
                    member for member in value.value if member not in existing.value
                ]})  # fmt: skip
        # The item's size checked once for the whole update, with moto's measure and limit (its
        # LimitedSizeDict measures the whole item again on every single assignment).
        final = {**item.attrs, **changed}
        if sum(bytesize(name) + value.size() for name, value in final.items()) > _ITEM_LIMIT:
            raise ItemSizeToUpdateTooLarge()
        dict.update(item.attrs, changed)
        return item

    update_item.direct = True  # type: ignore[attr-defined]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
