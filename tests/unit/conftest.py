"""The unit suite's fixtures: each CEL engine, and an evaluator on it. A test that takes
`engine` runs once per engine (tests.conftest.ENGINE_NAMES)."""

from __future__ import annotations

import pytest

from tests.conftest import ENGINE_NAMES, engine_named
from usage_pricing import PricingEvaluator
from usage_pricing.pricing.cel import CelEngine


@pytest.fixture(params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> CelEngine:
    return engine_named(request.param)


@pytest.fixture
def evaluator(engine: CelEngine) -> PricingEvaluator:
    return PricingEvaluator(engine)
