"""The local tools follow the running stack (docs/operations.md): `make dev` leaves its endpoints in a state
file (local/state.py), the tools read it, and a tool that cannot reach a stack names the endpoint
it tried and how to start one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local import state
from tests.conftest import ROOT


@pytest.fixture
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stack.json"
    monkeypatch.setenv("LOCAL_STACK_STATE", str(path))
    monkeypatch.delenv("LOCAL_DB_PORT", raising=False)
    monkeypatch.delenv("LOCAL_API_PORT", raising=False)
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_given_a_running_stacks_state_when_a_tool_asks_then_it_gets_the_stacks_endpoints(
    state_file: Path,
) -> None:
    assert state.write_state("http://127.0.0.1:3999", "http://127.0.0.1:8999") == state_file
    assert json.loads(state_file.read_text()) == {
        "pid": os.getpid(),
        "api_url": "http://127.0.0.1:3999",
        "dynamodb_endpoint": "http://127.0.0.1:8999",
    }
    assert state.dynamodb_endpoint() == ("http://127.0.0.1:8999", str(state_file))
    assert state.api_url() == ("http://127.0.0.1:3999", str(state_file))


def test_given_local_db_port_when_a_tool_asks_then_the_variable_wins(
    state_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.write_state("http://127.0.0.1:3999", "http://127.0.0.1:8999")
    monkeypatch.setenv("LOCAL_DB_PORT", "8123")
    assert state.dynamodb_endpoint() == ("http://127.0.0.1:8123", "LOCAL_DB_PORT")


def test_given_a_file_left_by_a_stopped_stack_when_a_tool_asks_then_it_is_ignored(
    state_file: Path,
) -> None:
    state_file.write_text(json.dumps({"pid": dead_pid(), "dynamodb_endpoint": "http://x:1"}))
    assert state.read_state() is None
    assert state.dynamodb_endpoint() == ("http://127.0.0.1:8000", "the default port")
    # and a new stack takes the file over
    assert state.write_state("http://127.0.0.1:1", "http://127.0.0.1:2") == state_file


def test_given_another_running_stacks_file_when_a_stack_starts_then_it_leaves_the_file_alone(
    state_file: Path,
) -> None:
    other = {"pid": os.getppid(), "api_url": "a", "dynamodb_endpoint": "b"}
    state_file.write_text(json.dumps(other))
    assert state.write_state("http://127.0.0.1:1", "http://127.0.0.1:2") is None
    state.remove_state()  # not this process's file: kept
    assert json.loads(state_file.read_text()) == other


def test_given_this_stacks_file_when_it_stops_then_the_file_is_removed(state_file: Path) -> None:
    state.write_state("http://127.0.0.1:1", "http://127.0.0.1:2")
    state.remove_state()
    assert not state_file.exists()


@pytest.mark.parametrize(
    ("module", "args", "status"),
    [
        ("local.audit", ["--team", "team_local"], 2),
        ("local.api_key", ["create", "--team", "team_local", "--scopes", "billing:read"], 1),
        ("local.api_key", ["revoke", "--key", "inf_x"], 1),
    ],
)
def test_given_no_stack_at_the_recorded_endpoint_when_a_tool_runs_then_it_names_the_endpoint(
    tmp_path: Path, module: str, args: list[str], status: int
) -> None:
    port = closed_port()
    path = tmp_path / "stack.json"
    # a live pid (this test's) recorded with an endpoint nothing listens on
    path.write_text(
        json.dumps(
            {"pid": os.getpid(), "api_url": "x", "dynamodb_endpoint": f"http://127.0.0.1:{port}"}
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCAL_", "AWS_ENDPOINT"))}
    env.update(
        LOCAL_STACK_STATE=str(path),
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)]),
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == status, done.stderr
    assert done.stderr.strip() == (
        f"error: no local stack answers at http://127.0.0.1:{port} (DynamoDB endpoint from "
        f"{path}). Start one with `make dev` (in another terminal), or point the tool at a "
        "deployed stack with STACK=<cloudformation stack name>."
    )
    assert "Traceback" not in done.stderr
