"""What keeping a record's inputs costs (docs/billing.md, reproducible charges): the billing record's size
and write units before and after it stores what it was priced from, for the README's example
task and for the largest events the limits allow.

A task event reaches billing as at most 256 KB (EventBridge's limit; billing dead-letters a
larger body), so the largest inputs are events of 256 KB built to be as bad as possible for the
record: incompressible task_inputs (random text), task inputs whose canonical JSON is longer than
the event's (floats written short, `1e15`, re-printed `1000000000000000.0`), non-ASCII text, and
2,000 metadata items with every field set. Each is billed by the real BillingService, stored by
the ledger's own record_item, measured by DynamoDB's item-size rules (bench/capacity.py), and the
worst is written to DynamoDB (moto, which enforces the 400 KB item limit) through the real
transaction. Write units: the record's Put is transactional (2 WCU per started KB); each of its
two GSIs (projection ALL) is written at the standard rate (1 WCU per started KB); the four
aggregate Updates are unchanged (bench/billing.py)."""

from __future__ import annotations

import json
import math
import random
import string
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from usage_pricing import PricingEvaluator, new_engine
from usage_pricing.core.limits import MAX_EVENT_BYTES, MAX_META_ITEMS
from usage_pricing.ledger.billing import BillingService, parse_event_body
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import record_item

from .capacity import item_size
from .workload import PublishedPricing, task_completed

ITEM_LIMIT = 400 * 1024
GSIS = 2  # by_team_time and by_team_app_time, both projecting every attribute
NOW = datetime.now(UTC).replace(microsecond=0)


def _service() -> BillingService:
    return BillingService(
        SimpleNamespace(shards=4),  # type: ignore[arg-type]
        PublishedPricing(),  # type: ignore[arg-type]
        PricingEvaluator(new_engine("cel-expr")),
    )


def _event(task_id: str, **detail: Any) -> dict[str, Any]:
    event = task_completed(task_id, "team_bench", "team_bench/flux-dev", NOW - timedelta(minutes=5))
    event["detail"].update(detail)
    return event


PLACEHOLDER = '"__task_inputs__"'


def _body(event: dict[str, Any], task_inputs_json: str | None = None) -> str:
    """The event as the queue delivers it; task_inputs written as the raw JSON text given (so a
    float can be sent as short as JSON allows, "1e15")."""
    if task_inputs_json is None:
        return json.dumps(event, ensure_ascii=False)
    event = {**event, "detail": {**event["detail"], "task_inputs": "__task_inputs__"}}
    return json.dumps(event, ensure_ascii=False).replace(PLACEHOLDER, task_inputs_json)


def _filled(task_id: str, make: Any) -> str:
    """The event whose task_inputs are {"x": <make(n)>} (raw JSON text) for the largest n that
    keeps it within 256 KB (UTF-8)."""
    event = _event(task_id)
    low, high = 0, MAX_EVENT_BYTES
    while low < high:
        middle = (low + high + 1) // 2
        if len(_body(event, '{"x": ' + make(middle) + "}").encode()) <= MAX_EVENT_BYTES:
            low = middle
        else:
            high = middle - 1
    return _body(event, '{"x": ' + make(low) + "}")


def _incompressible(n: int) -> str:
    # Printable ASCII but the two characters JSON escapes: the most entropy per byte a JSON
    # string can carry (~6.5 bits), so zlib saves least.
    rng = random.Random(1)
    alphabet = "".join(c for c in string.printable[:94] if c not in '"\\')
    return json.dumps("".join(rng.choices(alphabet, k=n)))


def _short_floats(n: int) -> str:
    # "9e15" (4 bytes) is re-printed as 9000000000000000.0 (18): the largest expansion of Python's
    # float repr; varied digits and exponents keep it from compressing to nothing.
    rng = random.Random(2)
    return "[" + ",".join(f"{rng.randint(1, 9)}e{rng.randint(10, 15)}" for _ in range(n // 5)) + "]"


def _non_ascii(n: int) -> str:
    rng = random.Random(3)
    return json.dumps(
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n // 3)), ensure_ascii=False
    )


def _full_metadata() -> str:
    """1,000 input and 1,000 output items, every field non-default, trimmed to 256 KB."""
    rng = random.Random(4)

    def item(kind: int) -> dict[str, Any]:
        if kind % 2:
            return {"type": "video", "width": rng.randint(1, 10**6), "height": rng.randint(1, 10**6),
                    "resolution_mp": rng.random() * 100, "resolution": "4k", "seconds": rng.random() * 1e5,
                    "fps": rng.randint(1, 240), "extra": {"k": rng.randint(0, 10**9)}}  # fmt: skip
        return {"type": "image", "width": rng.randint(1, 10**6), "height": rng.randint(1, 10**6),
                "resolution_mp": rng.random() * 100, "steps": rng.randint(1, 999), "count": rng.randint(2, 99),
                "extra": {"k": rng.randint(0, 10**9)}}  # fmt: skip

    meta = {
        "inputs": [item(i) for i in range(MAX_META_ITEMS)],
        "outputs": [item(i + 1) for i in range(MAX_META_ITEMS)],
    }
    while len(_body(_event("full-metadata", output_meta=meta)).encode()) > MAX_EVENT_BYTES:
        meta["inputs"].pop()
        meta["outputs"].pop()
    return _body(_event("full-metadata", output_meta=meta))


def _cases() -> dict[str, str]:
    return {
        "the README example": _body(_event("readme-example")),
        "256 KB event: incompressible task_inputs": _filled("incompressible", _incompressible),
        "256 KB event: floats that print longer": _filled("short-floats", _short_floats),
        "256 KB event: CJK text task_inputs (UTF-8)": _filled("cjk", _non_ascii),
        "256 KB event: 2 × ~1,000 metadata items, every field set": _full_metadata(),
    }


def _units(size: int) -> dict[str, int]:
    kb = math.ceil(size / 1024)
    return {"put_wcu": 2 * kb, "gsi_wcu": GSIS * kb}


def _figures(record: BillingRecord) -> dict[str, Any]:
    before = record.model_copy(update={"priced_from": "", "platform_fees": {}})
    after_item = record_item(record)
    stored = after_item.get("priced_from_z", after_item.get("priced_from", ""))
    sizes = {"before": item_size(record_item(before)), "after": item_size(after_item)}
    return {
        "canonical_json_bytes": len(record.priced_from.encode()),
        "stored_bytes": len(stored) if isinstance(stored, bytes) else len(stored.encode()),
        "compressed": isinstance(stored, bytes),
        "item_bytes": sizes,
        "units": {side: _units(size) for side, size in sizes.items()},
    }


def record_sizes() -> dict[str, Any]:
    service = _service()
    results: dict[str, Any] = {}
    worst: tuple[int, BillingRecord] | None = None
    for name, body in _cases().items():
        assert len(body.encode()) <= MAX_EVENT_BYTES, (name, len(body.encode()))
        record = service.price_task(parse_event_body(body).detail)  # type: ignore[union-attr]
        figure = {"event_bytes": len(body.encode()), **_figures(record)}
        results[name] = figure
        if worst is None or figure["item_bytes"]["after"] > worst[0]:
            worst = (figure["item_bytes"]["after"], record)
    assert worst is not None
    results["worst_item_bytes"] = worst[0]
    results["worst_fits"] = worst[0] <= ITEM_LIMIT
    results["worst_written_to_dynamodb"] = _write(worst[1])
    return results


def _write(record: BillingRecord) -> bool:
    """The worst record through the ledger's real transaction into moto, which refuses an item
    over 400 KB; read back equal."""
    import boto3
    from moto import mock_aws

    from local.template import create_tables
    from usage_pricing.ledger.repository import LedgerOutcome, LedgerRepository

    with mock_aws():
        create_tables(boto3.client("dynamodb", region_name="us-east-1"))
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        ledger = LedgerRepository(dynamodb.Table("BillingTable"), dynamodb.Table("AggregatesTable"))
        assert ledger.charge(record) is LedgerOutcome.WRITTEN
        return ledger.get(record.task_id) == record
