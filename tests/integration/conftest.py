"""The integration suite's shared fixtures. A test module takes a shared world from here and its
helpers from the *_helpers modules, never from another test module:

- billing_helpers: task events, SQS batches and the Billing world (billing, task cost, pricing);
- analytics_helpers: the Analytics world (billing read back by breakdown and summary);
- history_helpers: the hand-computed billing history that backtest and audit read.

Each test module still declares its own `world` fixture in one line, because which world a
module means (Billing, Analytics, its own) is part of what it tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AwsWorld, moto_session

from .controls_helpers import Controls, Recorder
from .history_helpers import History, shared_history


@pytest.fixture
def aws_tables() -> Any:
    """moto's mock_aws with every table of template.yaml created; yields a DynamoDB resource."""
    from local.template import create_tables

    moto = moto_session()
    with moto.fresh():
        create_tables(moto.dynamodb_client, moto.template)
        yield moto.dynamodb


@pytest.fixture(scope="module")
def aws_built() -> dict[str, Any]:
    """The module's cache for AwsWorld.once: worlds built once and restored per test."""
    return {}


@pytest.fixture
def aws() -> Any:
    """moto's AWS with every table and queue of template.yaml, fresh for this test."""
    from local.atomic import serialize_dynamodb

    serialize_dynamodb()
    with moto_session().fresh():
        yield AwsWorld()


@pytest.fixture
def history(aws: AwsWorld, aws_built: dict[str, Any]) -> History:
    """The billed history, built once per module and restored into this test's fresh tables."""
    return shared_history(aws, aws_built)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Every EventBridge entry the handlers send, recorded instead of sent."""
    from usage_pricing.runtime.wiring import Wiring

    found = Recorder()
    monkeypatch.setattr(Wiring, "publisher_factory", found.publisher)
    return found


@pytest.fixture
def controls(aws: AwsWorld, recorder: Recorder) -> Iterator[Controls]:
    """The spend controls' handlers on fresh tables, their events recorded."""
    yield Controls(aws)
