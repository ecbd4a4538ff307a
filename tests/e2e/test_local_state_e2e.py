"""`make dev` on non-default ports leaves its endpoints where the local tools find them: a key
made by `make api-key` with no port variable lands in that stack and works against its API, and
the state file is gone once the stack stops (docs/operations.md, local/state.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT
from tests.stack import running_stack

pytestmark = pytest.mark.e2e


def test_given_a_stack_on_other_ports_when_api_key_runs_without_variables_then_it_uses_that_stack() -> (
    None
):
    with running_stack(demo=False) as stack:
        path = Path(stack.env["LOCAL_STACK_STATE"])
        recorded = json.loads(path.read_text())
        assert recorded["api_url"] == stack.url
        assert recorded["dynamodb_endpoint"] == f"http://127.0.0.1:{stack.db_port}"
        assert stack.db_port != 8000
        env = {k: v for k, v in stack.env.items() if k not in ("LOCAL_DB_PORT", "LOCAL_API_PORT")}
        done = subprocess.run(
            [sys.executable, "-m", "local.api_key", "create", "--team", "team_state", "--scopes", "billing:read"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        key = done.stdout.strip().splitlines()[-1]
        answer = requests.get(
            f"{stack.url}/usage/breakdown?range=1d",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["total_cost"] == 0
    assert not path.exists()
    assert os.environ.get("LOCAL_STACK_STATE") != str(path)
