"""Reproducible charges (docs/billing.md): any billed task, priced again from its stored record with its
own pricing version, is charged exactly the same microcents for every fee, on both engines.

Each example is a generated task event (metadata of every kind, JSON task inputs, resources,
time, status) under a generated pricing that reads every variable a formula can see, billed by
the real BillingService, stored as the ledger stores it (record_item, then through boto3's
DynamoDB type serializer and back, as a PutItem and a GetItem would) and read back; the record
is then priced again by an evaluator whose own platform defaults differ from those it was billed
with (the record's are the ones that count)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.conftest import engine_named, examples
from usage_pricing import AppPricing, PlatformDefaults, PricingEvaluator
from usage_pricing.core.fees import COMPONENTS
from usage_pricing.ledger.billing import BillingService, parse_event_body
from usage_pricing.ledger.charges import (
    Charge,
    NotReproducibleError,
    canonical_inputs,
    pricing_input,
    reprice,
)
from usage_pricing.ledger.records import BillingRecord
from usage_pricing.ledger.repository import (
    COMPRESSED_PRICED_FROM,
    INLINE_PRICED_FROM_BYTES,
    record_from_item,
    record_item,
)
from usage_pricing.pricing.repository import PricingRecordVersion
from usage_pricing.usage.meters import METER_CATALOGUE, Resource

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
INT64 = 2**63 - 1

# ---- generated usage ------------------------------------------------------------------------

# Text without NUL, which the JSON edge refuses (tests/unit/test_jsonsafe.py).
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
seconds = st.one_of(st.sampled_from([0.0, -0.0, 0.5, 1e-9]), st.floats(0, 1e6, allow_nan=False))
quantity = st.integers(0, 10**12)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), INT64),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(text.filter(lambda t: len(t) <= 6), inner, max_size=4)
    ),
    max_leaves=12,
)
extra = st.dictionaries(text.filter(lambda t: len(t) <= 6), json_values, max_size=3)
items = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "tokens": quantity}, optional={"extra": extra}),
    st.fixed_dictionaries(
        {"type": st.just("image")},
        optional={"width": quantity, "height": quantity, "count": st.integers(0, 100),
                  "steps": st.integers(0, 1000), "resolution_mp": seconds, "extra": extra},
    ),
    st.fixed_dictionaries(
        {"type": st.just("video"), "seconds": seconds},
        optional={"resolution": st.sampled_from(["480p", "720p", "4k"]), "fps": st.integers(0, 120),
                  "width": quantity, "height": quantity},
    ),
    st.fixed_dictionaries({"type": st.just("audio"), "seconds": seconds}, optional={"sample_rate": quantity}),
    st.fixed_dictionaries({"type": st.just("raw"), "cost": seconds}, optional={"extra": extra}),
)  # fmt: skip
rates = st.one_of(
    st.sampled_from(sorted(METER_CATALOGUE)).map(lambda m: {"meter": m}),
    st.integers(0, 10**12).map(lambda r: {"price_per_hour": r}),
    st.integers(0, 10**9).map(lambda r: {"price_per_second": r}),
)
resources = st.lists(
    st.builds(
        lambda rate, count, kind, model: {"name": "r", "type": kind, "model": model, "count": count, **rate},
        rates, st.integers(0, 4), st.sampled_from(["gpu", "cpu"]), st.sampled_from(["", "llm-micro"]),
    ),
    max_size=3,
)  # fmt: skip
# A large, barely compressible input now and then: the record stores it compressed.
task_inputs = st.one_of(
    st.dictionaries(text.filter(lambda t: len(t) <= 8), json_values, max_size=5),
    st.binary(min_size=800, max_size=3000).map(lambda b: {"blob": b.hex(), "steps": 20}),
)

# ---- generated pricing: every formula reads what tasks report -------------------------------

FORMULAS = {
    "resource_expression": ["", "usage_seconds * prices.rate", "int(elapsed_seconds * 1000.0)",
                            "sum(resources.map(r, r.count * r.price_per_hour)) / 3600"],
    "inference_expression": ["", "image_count(outputs) * prices.per_image",
                             "text_tokens(inputs) * 3 + size(task_inputs)",
                             "int(video_seconds(outputs) * 100.0 + audio_seconds(inputs))",
                             "get(task_inputs, 'steps', 0) * 1000",
                             "task_inputs.steps * 2",  # an error where steps is absent or not an int
                             "size(outputs.filter(o, get_extra(o, 'hd', false) == true)) * 50",
                             "outputs.exists(o, o.type == 'raw') ? int(first(outputs, 'raw').cost * 1000.0) : 7"],
    "royalty_expression": ["", "inference_fee / 10", "double(inference_fee) * 0.15",
                           "resource_fee + elapsed_ms"],
    "partner_expression": ["", "size(outputs) * 7", "count_type(inputs, 'text') * prices.rate",
                           "double(prices.rate) / double(size(outputs))"],  # ∞ without outputs
    "total_expression": ["", "max(resource_fee + inference_fee + royalty_fee + partner_fee, prices.minimum)",
                         "resource_fee + inference_fee + royalty_fee + partner_fee + 1"],
}  # fmt: skip
pricings = st.fixed_dictionaries(
    {name: st.sampled_from(options) for name, options in FORMULAS.items()}
).map(
    lambda formulas: AppPricing(
        prices={"rate": 3, "per_image": 200_000, "minimum": 5_000_000}, **formulas
    )
)
platform = st.builds(
    lambda i, r, p: PlatformDefaults(inference_fee=i, royalty_fee=r, partner_fee=p),
    st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6),
)  # fmt: skip


def event(detail: dict[str, Any]) -> str:
    return json.dumps(
        {"source": "inference.tasks", "detail-type": "Task Completed", "detail": detail}
    )


def task_detail(
    meta: dict[str, Any],
    inputs: dict[str, Any],
    rows: list[dict[str, Any]],
    elapsed: int,
    status: str,
) -> dict[str, Any]:
    return {
        "task_id": "t-1", "team_id": "team_a", "app": "team_a/flux", "status": status,
        "started_at": (NOW - timedelta(milliseconds=elapsed)).isoformat(),
        "completed_at": NOW.isoformat(), "elapsed_ms": elapsed, "tier": "private",
        "resources": rows, "task_inputs": inputs, "output_meta": meta,
    }  # fmt: skip


def stored_and_read_back(record: BillingRecord) -> BillingRecord:
    """The record through the ledger's item encoding and DynamoDB's type system."""
    serializer, deserializer = TypeSerializer(), TypeDeserializer()
    wire = {k: serializer.serialize(v) for k, v in record_item(record).items()}
    return record_from_item({k: deserializer.deserialize(v) for k, v in wire.items()})


def bill(engine: str, pricing: AppPricing, defaults: PlatformDefaults, body: str) -> BillingRecord:
    live = SimpleNamespace(live_at=lambda app, moment: PricingRecordVersion(pricing, 3, "x"))
    service = BillingService(
        SimpleNamespace(shards=4),  # type: ignore[arg-type]
        live,  # type: ignore[arg-type]
        PricingEvaluator(engine_named(engine), defaults),
        clock=lambda: NOW,
    )
    task = parse_event_body(body).detail
    return service.price_task(task)  # type: ignore[union-attr]


EXAMPLES = {"cel-expr": examples(100), "cel-python": examples(20)}  # × FUZZ_DEPTH under make fuzz


def fee_values(charge: Charge) -> dict[str, int]:
    return {c.field: charge.result.fee(c).value for c in COMPONENTS}


@contextmanager
def catalogue_rates_doubled() -> Iterator[None]:
    """A deploy that changes every meter's rate (the catalogue is read when a row is priced)."""
    before = dict(METER_CATALOGUE)
    METER_CATALOGUE.update({meter: 2 * rate for meter, rate in before.items()})
    try:
        yield
    finally:
        METER_CATALOGUE.update(before)


def metered_record(**overrides: Any) -> BillingRecord:
    """The README example task (llm/micro for 600 s) billed under the platform defaults."""
    detail = task_detail({}, {}, [{"meter": "llm/micro"}], 600_000, "completed")
    record = bill("cel-expr", AppPricing(), PlatformDefaults(), event(detail))
    return record.model_copy(update=overrides)


def test_given_a_metered_task_when_billed_then_its_record_keeps_the_meters_rate() -> None:
    record = stored_and_read_back(metered_record())
    assert record.meter_rates == {"llm/micro": 31_394_988}
    assert record.resource_fee == 5_232_498  # 31,394,988 × 600 / 3600


def test_given_the_catalogue_changed_when_a_record_is_priced_again_then_it_keeps_its_rate() -> None:
    record = metered_record()
    with catalogue_rates_doubled():
        charge = reprice(record, AppPricing(), PricingEvaluator(engine_named("cel-expr")))
        assert charge.result.resource_fee.value == 5_232_498
        assert record.meter_price_per_hour == 31_394_988
        # A record billed before records kept the rates prices at the catalogue of the day.
        legacy = metered_record(meter_rates={})
        repriced = reprice(legacy, AppPricing(), PricingEvaluator(engine_named("cel-expr")))
        assert repriced.result.resource_fee.value == 2 * 5_232_498
        assert legacy.meter_price_per_hour == 2 * 31_394_988


def test_given_an_unmetered_task_when_stored_then_no_meter_rates_attribute_is_written() -> None:
    detail = task_detail({}, {}, [{"price_per_hour": 3_600}], 1_000, "completed")
    record = bill("cel-expr", AppPricing(), PlatformDefaults(), event(detail))
    assert record.meter_rates == {} and "meter_rates" not in record_item(record)
    assert "meter_rates" in record_item(metered_record())


@pytest.mark.parametrize("engine", sorted(EXAMPLES))
def test_given_any_billed_task_when_priced_again_from_its_record_then_every_fee_is_the_same(
    engine: str,
) -> None:
    @settings(
        max_examples=EXAMPLES[engine],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        meta=st.fixed_dictionaries({}, optional={"inputs": st.lists(items, max_size=4), "outputs": st.lists(items, max_size=4)}),
        inputs=task_inputs, rows=resources, elapsed=st.integers(0, 10**7),
        status=st.sampled_from(["completed", "completed", "failed", "cancelled"]),
        pricing=pricings, billed_with=platform, now_with=platform,
    )  # fmt: skip
    def round_trip(  # noqa: PLR0917 — one argument per generated part
        meta: dict[str, Any],
        inputs: dict[str, Any],
        rows: list[dict[str, Any]],
        elapsed: int,
        status: str,
        pricing: AppPricing,
        billed_with: PlatformDefaults,
        now_with: PlatformDefaults,
    ) -> None:
        record = bill(
            engine, pricing, billed_with, event(task_detail(meta, inputs, rows, elapsed, status))
        )
        back = stored_and_read_back(record)
        assert back == record
        evaluator = PricingEvaluator(engine_named(engine), now_with)
        charge = reprice(back, pricing, evaluator)
        assert fee_values(charge) == record.component_values()
        assert (charge.discount, charge.charged) == (record.discount, record.charged)
        assert (charge.errors, charge.billing_status) == (record.errors, record.billing_status)
        # And after the meter catalogue changes, the record still prices at its own rates.
        with catalogue_rates_doubled():
            assert fee_values(reprice(back, pricing, evaluator)) == record.component_values()

    round_trip()


def test_given_a_record_when_stored_then_small_inputs_are_a_string_and_large_ones_compressed() -> (
    None
):
    pricing = AppPricing()
    small = bill(
        "cel-expr",
        pricing,
        PlatformDefaults(),
        event(task_detail({}, {"steps": 20}, [], 1000, "completed")),
    )
    large = bill("cel-expr", pricing, PlatformDefaults(), event(task_detail({}, {"p": "x" * 5000}, [], 1000, "completed")))  # fmt: skip
    assert record_item(small)["priced_from"] == '{"output_meta":{},"task_inputs":{"steps":20}}'
    assert COMPRESSED_PRICED_FROM not in record_item(small)
    item = record_item(large)
    assert "priced_from" not in item
    assert (
        len(large.priced_from.encode())
        > INLINE_PRICED_FROM_BYTES
        > len(item[COMPRESSED_PRICED_FROM])
    )
    assert stored_and_read_back(large) == large


@pytest.mark.parametrize(
    ("meta", "kept"),
    [
        ({"outputs": [{"type": "image", "count": 1}]}, {"outputs": [{"type": "image"}]}),  # defaults left out
        ({"inputs": [{"type": "audio", "seconds": -0.0}]}, {"inputs": [{"type": "audio", "seconds": -0.0}]}),  # -0.0 is not 0.0
        ({"outputs": [{"type": "video", "seconds": 2, "resolution": "4k"}]}, {"outputs": [{"type": "video", "seconds": 2.0, "resolution": "4k"}]}),
        ({"inputs": [], "outputs": []}, {}),
    ],
)  # fmt: skip
def test_given_metadata_when_kept_on_the_record_then_it_is_compact_and_exact(
    meta: dict[str, Any], kept: dict[str, Any]
) -> None:
    record = bill(
        "cel-expr",
        AppPricing(),
        PlatformDefaults(),
        event(task_detail(meta, {}, [], 0, "completed")),
    )
    assert json.loads(record.priced_from)["output_meta"] == kept
    usage = pricing_input(record)
    assert canonical_inputs(usage.output_meta, usage.task_inputs) == record.priced_from


def test_given_a_task_cost_response_then_it_never_carries_the_inputs() -> None:
    from usage_pricing.spend.tasks import TaskCost

    record = bill("cel-expr", AppPricing(), PlatformDefaults(inference_fee=5), event(task_detail({"outputs": [{"type": "text", "tokens": 9}]}, {"secret": "s3cr3t"}, [], 1000, "completed")))  # fmt: skip
    shown = TaskCost.of(record).model_dump_json()
    for hidden in ("priced_from", "output_meta", "task_inputs", "s3cr3t", "platform_fees"):
        assert hidden not in shown


def test_given_a_meter_retired_from_the_catalogue_then_records_naming_it_still_read_and_reprice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = metered_record()
    legacy = metered_record(meter_rates={})
    monkeypatch.delitem(METER_CATALOGUE, "llm/micro")
    # Given the record stored before the meter was retired, when read back, then it is whole.
    back = stored_and_read_back(record)
    assert back == record and back.meter_price_per_hour == 31_394_988
    charge = reprice(back, AppPricing(), PricingEvaluator(engine_named("cel-expr")))
    assert charge.result.resource_fee.value == 5_232_498
    # A record without the rate cannot be priced again: listed by the audit, not mispriced.
    with pytest.raises(NotReproducibleError, match=r"no longer in the catalogue \(llm/micro\)"):
        reprice(
            stored_and_read_back(legacy), AppPricing(), PricingEvaluator(engine_named("cel-expr"))
        )
    # And a new task naming the retired meter is refused as before.
    with pytest.raises(ValidationError, match="unknown meter 'llm/micro'"):
        Resource(meter="llm/micro")
