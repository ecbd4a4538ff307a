"""What a cold start imports (docs/operations.md): nothing on a handler's import path is there only for
another handler. Each handler is imported in a fresh interpreter with its template.yaml
environment, and the modules it loaded are checked; the timings are `make bench`'s
(bench/cold_import.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from bench.cold_import import Target, targets, uses_dynamodb
from local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
WATCHED = (
    "aws_xray_sdk",
    "boto3",
    "cel_expr_python",
    "celpy",
    "usage_pricing.spend.breakdown",
    "usage_pricing.spend.summary",
    "usage_pricing.ledger.billing",
    "usage_pricing.usage.events",
    "usage_pricing.pricing.cel",
    "usage_pricing.usage.meta",
    "usage_pricing.pricing.preview",
    "usage_pricing.pricing.evaluator",
    "usage_pricing.pricing.store",
    "usage_pricing.edge.key_store",
    "usage_pricing.edge.auth",
    "usage_pricing.ledger.backtest",
    "usage_pricing.ledger.charges",
    "usage_pricing.spend.tasks",
    "usage_pricing.spend.task_index",
)
PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""
# Functions that price tasks (and so load the pricing module, and a CEL engine).
PRICES = {"evaluate", "pricing", "billing"}
# Those that build their engine at import; evaluate builds it on its first request.
ENGINE_AT_IMPORT = PRICES - {"evaluate"}
# Layer modules each with one user.
OWNERS = {
    "usage_pricing.ledger.billing": {"billing"},
    "usage_pricing.usage.events": {"billing"},
    "usage_pricing.pricing.store": {"pricing"},
    # The evaluate body and answer: evaluate's, and the pricing function's quote route.
    "usage_pricing.pricing.preview": {"evaluate", "pricing"},
    "usage_pricing.ledger.backtest": {"pricing"},
    "usage_pricing.edge.auth": {"authorizer"},
    "usage_pricing.edge.key_store": {"authorizer"},
    "usage_pricing.spend.tasks": {"task_cost"},
    "usage_pricing.spend.task_index": {"task_cost"},
    "usage_pricing.spend.breakdown": {"breakdown"},
    "usage_pricing.spend.summary": {"summary"},
}


def handlers() -> list[Target]:
    return [t for t in targets() if t.anchor is not None]


@cache
def loaded(name: str, detailed_tracing: str = "false") -> frozenset[str]:
    (target,) = [t for t in handlers() if t.name == name]
    env = {
        **os.environ,
        **target.environment,
        "DETAILED_TRACING": detailed_tracing,
        "PYTHONPATH": str(ROOT / "layers" / "common"),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(target.path), *WATCHED],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return frozenset(json.loads(out.stdout.strip().splitlines()[-1]))


NAMES = [t.name for t in handlers()]


def test_every_function_is_measured() -> None:
    assert {t.path.parent.name for t in handlers()} == {
        s.code_dir.name for s in load_template().functions().values()
    }
    assert {"evaluate", "breakdown", "authorizer", "billing"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_no_xray_sdk_on_the_cold_path(name: str) -> None:
    assert "aws_xray_sdk" not in loaded(name)


@pytest.mark.parametrize("name", NAMES)
def test_boto3_only_where_the_function_calls_aws(name: str) -> None:
    (target,) = [t for t in handlers() if t.name == name]
    resource = next(
        r
        for r in load_template().of_type("AWS::Serverless::Function").values()
        if r["Properties"]["CodeUri"].endswith(f"/{name}")
    )
    calls_aws = uses_dynamodb(resource) or "SQS" in json.dumps(resource["Properties"])
    assert ("boto3" in loaded(name)) == calls_aws, name
    assert target.anchor == ("resolver + DynamoDB Table" if uses_dynamodb(resource) else "resolver")


@pytest.mark.parametrize("name", NAMES)
def test_cel_engine_only_where_tasks_are_priced(name: str) -> None:
    modules = loaded(name)
    assert ("cel_expr_python" in modules) == (name in ENGINE_AT_IMPORT), name
    # The task cost reads fees (usage_pricing.core.views), never the pricing, its budget or the
    # metadata models it prices from.
    for module in (
        "usage_pricing.pricing.evaluator",
        "usage_pricing.pricing.cel",
        "usage_pricing.usage.meta",
    ):
        assert (module in modules) == (name in PRICES), (name, module)
    assert "celpy" not in modules  # the deployment's engine is cel-expr; cel-python stays out


@pytest.mark.parametrize("name", NAMES)
def test_single_user_modules_stay_with_their_user(name: str) -> None:
    for module, users in OWNERS.items():
        if name not in users:
            assert module not in loaded(name), (name, module)
    # Re-pricing a record: billing's, at import; the pricing function's on its first backtest.
    assert ("usage_pricing.ledger.charges" in loaded(name)) == (name == "billing"), name


def test_detailed_tracing_brings_the_powertools_tracer_back() -> None:
    assert "aws_xray_sdk" in loaded("evaluate", "true")


def test_optional_tracer_passes_functions_through_when_off() -> None:
    from usage_pricing.core.observability import OptionalTracer, detailed_tracing_enabled

    def handler(event: dict[str, str], context: object) -> str:
        return "ok"

    off = OptionalTracer(False)
    assert off.capture_lambda_handler(handler) is handler
    assert off.capture_method(handler) is handler
    assert detailed_tracing_enabled({"DETAILED_TRACING": "true"})
    assert not detailed_tracing_enabled({"DETAILED_TRACING": "false"})
    assert not detailed_tracing_enabled({})


def test_lazy_package_exports_match_all() -> None:
    import usage_pricing

    exported = {name for names in usage_pricing._LAZY.values() for name in names}
    assert exported == set(usage_pricing.__all__)
    for name in usage_pricing.__all__:
        assert getattr(usage_pricing, name) is not None, name
    assert set(usage_pricing.__all__) <= set(dir(usage_pricing))
    with pytest.raises(AttributeError):
        _ = usage_pricing.NoSuchName  # type: ignore[attr-defined]


def test_wiring_builds_each_engine_and_repository_once() -> None:
    from usage_pricing import Settings
    from usage_pricing.runtime.wiring import Wiring

    wiring = Wiring(Settings(CEL_ENGINE="cel-expr", AGGREGATES_TABLE="a", PRICING_TABLE="p"))
    assert wiring.evaluator() is wiring.evaluator()
    assert wiring.engine("cel-expr") is wiring.engine() is wiring.evaluator().engine
    assert wiring.aggregates() is wiring.aggregates()
    assert wiring.pricing() is wiring.pricing()
    assert wiring.ledger() is wiring.ledger()


def test_the_pricing_handler_validates_with_the_evaluators_engine() -> None:
    from tests.conftest import load_handler

    module = load_handler("pricing", load_template().functions()["PricingFunction"].environment)
    assert module.store.checker is module.wiring.evaluator().engine


LAYER = ROOT / "layers" / "common" / "usage_pricing"
# What each costs every cold start that imports it (bench/README.md, "Targets"): a dataclass
# execs its generated methods (~0.5 ms each); pydantic reads a builtin default factory's
# signature through tokenize (~3 ms of regular expressions, once); JsonValue's recursive schema
# (~1 ms per model).
COLD_START_COSTS = {
    "dataclasses": re.compile(r"^\s*(from dataclasses import|import dataclasses)", re.M),
    "a builtin default_factory": re.compile(r"default_factory=(list|dict|set|tuple)\b"),
    # in a model's schema, so imported at module level (jsonsafe builds one adapter on first use)
    "pydantic JsonValue": re.compile(r"^from pydantic import[^)\n]*(\([^)]*)?\bJsonValue\b", re.M),
}


@pytest.mark.parametrize("cost", COLD_START_COSTS)
def test_the_layer_avoids_what_slows_every_cold_start(cost: str) -> None:
    pattern = COLD_START_COSTS[cost]
    found = [
        str(path.relative_to(LAYER))
        for path in sorted(LAYER.rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [], f"{cost} in {found}"
