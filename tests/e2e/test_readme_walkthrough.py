"""The README's pricing walkthrough, run as printed against the local stack (make dev's, on this
session's ports): change a price, backtest it against the demo team's history, schedule it, and
`make audit` the ledger clean. Each command of the README block is run by bash exactly as written,
with only KEY, V and API set to this stack, and its answer checked against what the README says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.stack import Stack

pytestmark = pytest.mark.e2e
README = (ROOT / "README.md").read_text()


def block(marker: str, language: str) -> str:
    found = re.search(
        rf"<!-- readme-walkthrough:{marker} -->\s*```{language}\n(.*?)```", README, re.S
    )
    assert found, marker
    return found.group(1)


def commands(script: str) -> list[str]:
    """The block's commands: comment lines dropped, continuation lines joined."""
    out: list[str] = []
    current = ""
    for line in script.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            out.append(current.strip())
            current = ""
    return out


def run(stack: Stack, command: str) -> subprocess.CompletedProcess[str]:
    # As from a user's shell: not a sub-make of `make test` (which would print directories).
    env = {k: v for k, v in stack.env.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env["LOCAL_DB_PORT"] = str(stack.db_port)
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        # The suite runs in another virtualenv (make test-py313): make's targets use it too.
        command = command.replace("make ", f"make VENV={sys.prefix} ", 1)
    prelude = f"KEY='Authorization: Bearer inf_local_dev'; V='X-API-Version: 2'; API={stack.url}\n"
    return subprocess.run(
        ["bash", "-c", prelude + command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )  # fmt: skip


def test_the_readme_walkthrough_works_as_printed(stack: Stack) -> None:
    patch, backtest, publish, audit = commands(block("pricing", "sh"))

    done = run(stack, patch)
    assert done.returncode == 0, done.stderr
    draft = json.loads(done.stdout)["draft"]["pricing"]
    assert draft["prices"]["per_image"] == 250_000

    done = run(stack, backtest)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    shown = json.loads(block("backtest", "json"))
    assert {k: answer[k] for k in shown} == shown
    assert len(answer["examples"]) == 15  # every task's price changes, fewer than 20
    assert all(e["proposed"]["value"] > e["current"]["value"] for e in answer["examples"])

    done = run(stack, publish)
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["live"]["version"] == 1
    assert [v["version"] for v in view["scheduled"]] == [2]
    assert view["scheduled"][0]["pricing"]["prices"]["per_image"] == 250_000

    done = run(stack, audit)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"\d+ records \(\d+ refunded\), \d+ priced again, \d+ aggregate items checked: no drift",
        last,
    ), last


def test_a_record_with_compressed_inputs_is_read_back_through_the_local_stack(stack: Stack) -> None:
    """A record whose inputs are over 1 KB keeps them as a Binary attribute: the local database
    answers the backtest's index Query with it (moto's JSON answer encodes bytes as base64)."""
    import uuid
    from datetime import UTC, datetime, timedelta

    app = f"team_local/big-{uuid.uuid4().hex[:8]}"
    done = datetime.now(UTC) - timedelta(minutes=1)
    event = {
        "source": "inference.tasks", "detail-type": "Task Completed",
        "detail": {"task_id": f"big_{uuid.uuid4().hex[:12]}", "team_id": "team_local", "app": app,
                   "status": "completed", "started_at": done.isoformat(), "completed_at": done.isoformat(),
                   "elapsed_ms": 1000, "task_inputs": {"prompt": uuid.uuid4().hex * 200}},
    }  # fmt: skip
    assert stack.request("POST", "/local/events", json=event).json()["invocations"] == 1
    body = {"pricing": {"inference_expression": "size(task_inputs.prompt)"}}
    answer = stack.request("POST", f"/apps/{app}/pricing/backtest", json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["tasks"], answer.json()["proposed"]["charged"]["value"]) == (1, 6_400)
