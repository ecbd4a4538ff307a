"""An in-memory aggregates table for fast property tests: it applies the very Updates
ledger.aggregate_writer.aggregate_updates builds, and answers AggregateRepository's Queries (key range,
projection, app filter, paging) as a boto3 Table resource does (numbers as Decimal), so the real
reader code runs.

Only the expression shapes the schema module writes and reads are understood; anything else
raises, so a change to them shows up here rather than passing silently."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

ADD_SET = re.compile(
    r"ADD (?P<add>#\w+ :\w+(?:, #\w+ :\w+)*) SET (?P<set>#\w+ = :\w+(?:, #\w+ = :\w+)*)"
)
KEY_RANGE = "#pk = :pk AND #sk BETWEEN :first AND :last"
APP_FILTER = re.compile(r"#app IN \((?P<values>:a\d+(?:, :a\d+)*)\)")


def _resource_value(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("no booleans in aggregates")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"no {type(value).__name__} in aggregates")


class FakeAggregatesTable:
    def __init__(self, page_size: int = 40) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.page_size = page_size
        self.meta = None  # no botocore client behind it

    def apply(self, updates: list[dict[str, Any]]) -> None:
        for entry in updates:
            ((kind, request),) = entry.items()
            if kind != "Update":
                raise ValueError(kind)
            found = ADD_SET.fullmatch(request["UpdateExpression"])
            if found is None:
                raise ValueError(request["UpdateExpression"])
            names, values = (
                request["ExpressionAttributeNames"],
                request["ExpressionAttributeValues"],
            )
            key = (request["Key"]["pk"], request["Key"]["sk"])
            item = self.items.setdefault(key, dict(request["Key"]))
            for pair in found["add"].split(", "):
                name, value = pair.split(" ")
                item[names[name]] = item.get(names[name], 0) + values[value]
            for pair in found["set"].split(", "):
                name, value = pair.split(" = ")
                item[names[name]] = values[value]

    def query(self, **request: Any) -> dict[str, Any]:
        if request["KeyConditionExpression"] != KEY_RANGE:
            raise ValueError(request["KeyConditionExpression"])
        names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
        pk, first, last = values[":pk"], values[":first"], values[":last"]
        rows = sorted(
            (sk, item) for (p, sk), item in self.items.items() if p == pk and first <= sk <= last
        )
        start = request.get("ExclusiveStartKey")
        if start is not None:
            rows = [(sk, item) for sk, item in rows if sk > start["sk"]]
        page, rest = rows[: self.page_size], rows[self.page_size :]
        apps = None
        if "FilterExpression" in request:
            found = APP_FILTER.fullmatch(request["FilterExpression"])
            if found is None:
                raise ValueError(request["FilterExpression"])
            apps = {values[token] for token in found["values"].split(", ")}
        wanted = None
        if "ProjectionExpression" in request:
            wanted = {names[token] for token in request["ProjectionExpression"].split(", ")}
        out = []
        for _, item in page:
            if apps is not None and item.get("app") not in apps:
                continue
            out.append(
                {k: _resource_value(v) for k, v in item.items() if wanted is None or k in wanted}
            )
        response: dict[str, Any] = {"Items": out, "Count": len(out), "ScannedCount": len(page)}
        if rest:
            response["LastEvaluatedKey"] = {"pk": pk, "sk": page[-1][0]}
        return response
