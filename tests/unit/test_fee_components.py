"""One definition of the fee components (usage_pricing.core.fees): everything that names a fee derives
it from FEES, so adding a component is a one-place change.

The proof: in a fresh interpreter, fees.py is loaded with one more FeeComponent written into its
FEES tuple (and nothing else changed anywhere), and the CEL declarations, AppPricing and the
PATCH, the evaluator, the preview, the billing record and its DynamoDB item, the task cost, the
platform defaults and their setting, the charged shares, the backtest's per_fee, the aggregates'
fee groups (group_by=fee) and the task list's CSV columns all have it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from usage_pricing.core import fees
from usage_pricing.pricing.cel import FEE_SCOPES, FEE_VARIABLES, Scope, variables_for

STORAGE = """    FeeComponent(
        "storage",
        "storage_fee",
        "storage_expression",
        Default.PLATFORM,
        "Bytes kept.",
    ),
)
TOTAL = FeeComponent("""

PROBE = r"""
import importlib.util, json, sys
from pathlib import Path

path = Path("layers/common/usage_pricing/core/fees.py")
source = path.read_text()
marker = ")\nTOTAL = FeeComponent("
assert source.count(marker) == 1
source = source.replace(marker, sys.argv[1], 1)
import usage_pricing  # the package only: fees is replaced before any module imports it
spec = importlib.util.spec_from_loader("usage_pricing.core.fees", loader=None, origin=str(path))
module = importlib.util.module_from_spec(spec)
module.__file__ = str(path)
sys.modules["usage_pricing.core.fees"] = module
exec(compile(source, str(path), "exec"), module.__dict__)

from datetime import UTC, datetime
from types import SimpleNamespace
from usage_pricing import AppPricing, PricingEvaluator, PricingInput, PricingPreview, Settings, new_engine
from usage_pricing.ledger.backtest import PerFee
from usage_pricing.ledger.billing import BillingService, parse_event_body
from usage_pricing.pricing.cel import Scope, variables_for
from usage_pricing.ledger.charges import reprice
from usage_pricing.pricing.store import PricingPatch
from usage_pricing.spend.tasks import TaskCost
from usage_pricing.storage.aggregates import FEE_GROUPS
from usage_pricing.ledger.aggregate_writer import record_counters
from usage_pricing.ledger.repository import record_from_item, record_item
from usage_pricing.pricing.repository import PricingRecordVersion
from usage_pricing.spend.tasks import TASKS_CSV

pricing = AppPricing(storage_expression="inference_fee + 7", inference_expression="100")
settings = Settings.from_env({"PLATFORM_STORAGE_FEE": "3"})
results = {}
for engine in ("cel-expr", "cel-python"):
    evaluator = PricingEvaluator(new_engine(engine), settings.platform_defaults())
    results[engine] = [f.value for f in evaluator.price(pricing, PricingInput()).fees]
default = PricingEvaluator(new_engine("cel-expr"), settings.platform_defaults()).price(AppPricing(), PricingInput())
now = datetime(2026, 12, 1, tzinfo=UTC)
service = BillingService(
    SimpleNamespace(shards=4),
    SimpleNamespace(live_at=lambda app, moment: PricingRecordVersion(pricing, 1, "x")),
    PricingEvaluator(new_engine("cel-expr"), settings.platform_defaults()),
    clock=lambda: now,
)
body = json.dumps({"source": "inference.tasks", "detail-type": "Task Completed", "detail": {
    "task_id": "t", "team_id": "a", "app": "a/b", "status": "completed", "started_at": now.isoformat(),
    "completed_at": now.isoformat(), "elapsed_ms": 0}})
record = service.price_task(parse_event_body(body).detail)
back = record_from_item(record_item(record))
charge = reprice(back, pricing, PricingEvaluator(new_engine("cel-expr")))
print(json.dumps({
    "scopes": [s.value for s in Scope],
    "total_sees": sorted(v for v in variables_for(Scope.TOTAL) if v.endswith("_fee")),
    "app_pricing": "storage_expression" in AppPricing.model_fields,
    "patch": "storage_expression" in PricingPatch.model_fields,
    "fees": results,
    "default_storage": default.storage_fee.value,
    "preview": list(PricingPreview.of(default).model_dump()),
    "record": [record.storage_fee, record.total, record.charged, "storage_fee" in record_item(record)],
    "repriced": charge.result.storage_fee.value,
    "task_cost": TaskCost.of(back).model_dump()["storage_fee"],
    "shares": back.shares(),
    "per_fee": list(PerFee.model_fields),
    "aggregate_groups": list(FEE_GROUPS),
    "aggregate_counters": {k: v for k, v in record_counters(back).items() if k.startswith("f")},
    "csv": [c for c in TASKS_CSV.header if c.endswith("_fee_microcents")],
}))
"""


def test_the_fee_components_are_the_one_definition_the_cel_scopes_come_from() -> None:
    assert [s.value for s in Scope] == [c.name for c in fees.COMPONENTS] + ["description"]
    assert tuple(Scope(c.name) for c in fees.COMPONENTS) == FEE_SCOPES
    assert (
        FEE_VARIABLES
        == fees.FEE_FIELDS
        == ("resource_fee", "inference_fee", "royalty_fee", "partner_fee")
    )
    assert set(variables_for(Scope.TOTAL)) >= set(fees.FEE_FIELDS)
    assert not set(variables_for(Scope.RESOURCE)) & set(fees.FEE_FIELDS)


def test_given_one_more_component_in_fees_when_nothing_else_changes_then_every_layer_has_it() -> (
    None
):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "common")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, STORAGE], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["scopes"] == [
        "resource",
        "inference",
        "royalty",
        "partner",
        "storage",
        "total",
        "description",
    ]
    assert seen["total_sees"] == [
        "inference_fee",
        "partner_fee",
        "resource_fee",
        "royalty_fee",
        "storage_fee",
    ]
    assert seen["app_pricing"] and seen["patch"]
    # resource 0, inference 100, royalty 0, partner 0, storage = inference + 7, total = Σ
    assert seen["fees"] == {
        "cel-expr": [0, 100, 0, 0, 107, 207],
        "cel-python": [0, 100, 0, 0, 107, 207],
    }
    assert seen["default_storage"] == 3  # PLATFORM_STORAGE_FEE, read by Settings
    assert seen["preview"] == [
        "resource_fee",
        "inference_fee",
        "royalty_fee",
        "partner_fee",
        "storage_fee",
        "total",
        "description",
    ]
    assert seen["record"] == [107, 207, 207, True]
    assert seen["repriced"] == 107
    assert seen["task_cost"] == {"value": 107, "dollars": "0.00000107"}
    assert seen["shares"] == {
        "resource": 0,
        "inference": 100,
        "royalty": 0,
        "partner": 0,
        "storage": 107,
        "adjustment": 0,
    }
    assert seen["per_fee"] == [
        "resource",
        "inference",
        "royalty",
        "partner",
        "storage",
        "adjustment",
    ]


def test_charged_shares_add_up_to_the_charge_and_scale_with_a_discount() -> None:
    values = {"resource": 600, "inference": 300, "royalty": 100, "partner": 0}
    cases = [  # total, charged → shares
        (1_000, 1_000, {"resource": 600, "inference": 300, "royalty": 100, "partner": 0, "adjustment": 0}),
        (1_500, 1_500, {"resource": 600, "inference": 300, "royalty": 100, "partner": 0, "adjustment": 500}),  # a minimum
        (800, 800, {"resource": 600, "inference": 300, "royalty": 100, "partner": 0, "adjustment": -200}),  # a cap
        (1_000, 0, {"resource": 0, "inference": 0, "royalty": 0, "partner": 0, "adjustment": 0}),  # failed
        (1_000, 333, {"resource": 199, "inference": 99, "royalty": 33, "partner": 0, "adjustment": 2}),
        (0, 0, {"resource": 0, "inference": 0, "royalty": 0, "partner": 0, "adjustment": 0}),
    ]  # fmt: skip
    for total, charged, shares in cases:
        assert fees.charged_shares(values, total, charged) == shares
        assert sum(shares.values()) == charged
    assert fees.FEE_GROUPS == ("resource", "inference", "royalty", "partner", "adjustment")
