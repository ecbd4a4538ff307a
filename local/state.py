"""Where the running local stack is: `make dev` writes its endpoints to `.local-stack.json` in
the repository root (gitignored) and removes the file when it stops; `make audit`, `make api-key`,
`make revoke-key` and `make first-task` read it, so they follow the stack on whatever ports it was
started with, with no extra variables (docs/operations.md).

    {"pid": 1234, "api_url": "http://127.0.0.1:3000", "dynamodb_endpoint": "http://127.0.0.1:8000"}

Which endpoint a tool uses, first match wins: LOCAL_DB_PORT when set; the state file when the
stack that wrote it is still running (a file left by a killed stack is ignored); else the default
port 8000. LOCAL_STACK_STATE names another state file (the test and bench stacks use their own,
so they never point your tools at a throwaway stack); a stack never overwrites the file of
another stack that is still running. A tool that cannot reach the database says which endpoint
it tried, where that came from, and how to start a stack (unreachable)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB_PORT = "8000"
DEFAULT_API_PORT = "3000"


def state_path() -> Path:
    return Path(os.environ.get("LOCAL_STACK_STATE") or ROOT / ".local-stack.json")


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def read_state() -> dict[str, Any] | None:
    """The running stack's state, or None (no file, unreadable, or its stack has stopped)."""
    try:
        state = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not _alive(state.get("pid")):
        return None
    return state


def write_state(api_url: str, dynamodb_endpoint: str) -> Path | None:
    """Record this process's stack; None when another running stack already holds the file."""
    path = state_path()
    current = read_state()
    if current is not None and current.get("pid") != os.getpid():
        return None
    state = {"pid": os.getpid(), "api_url": api_url, "dynamodb_endpoint": dynamodb_endpoint}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(path)
    return path


def remove_state() -> None:
    """Remove the file if this process wrote it."""
    path = state_path()
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


class Endpoint(NamedTuple):
    url: str
    source: str  # where the url came from, for messages


def dynamodb_endpoint() -> Endpoint:
    port = os.environ.get("LOCAL_DB_PORT")
    if port:
        return Endpoint(f"http://127.0.0.1:{port}", "LOCAL_DB_PORT")
    state = read_state()
    if state is not None and isinstance(state.get("dynamodb_endpoint"), str):
        return Endpoint(state["dynamodb_endpoint"], str(state_path()))
    return Endpoint(f"http://127.0.0.1:{DEFAULT_DB_PORT}", "the default port")


def api_url() -> Endpoint:
    port = os.environ.get("LOCAL_API_PORT")
    if port:
        return Endpoint(f"http://127.0.0.1:{port}", "LOCAL_API_PORT")
    state = read_state()
    if state is not None and isinstance(state.get("api_url"), str):
        return Endpoint(state["api_url"], str(state_path()))
    return Endpoint(f"http://127.0.0.1:{DEFAULT_API_PORT}", "the default port")


def unreachable(endpoint: Endpoint) -> str:
    return (
        f"error: no local stack answers at {endpoint.url} (DynamoDB endpoint from "
        f"{endpoint.source}). Start one with `make dev` (in another terminal), or point the "
        "tool at a deployed stack with STACK=<cloudformation stack name>."
    )


def local_resource() -> tuple[Any, Endpoint]:
    """A DynamoDB resource on the local stack's endpoint, with the local stack's credentials."""
    import boto3  # noqa: PLC0415 — `--help` needs none of it

    for key, value in (
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(key, value)
    endpoint = dynamodb_endpoint()
    return boto3.resource("dynamodb", endpoint_url=endpoint.url), endpoint


def connection_errors() -> tuple[type[BaseException], ...]:
    """What botocore raises when nothing listens at the endpoint."""
    from botocore.exceptions import (  # noqa: PLC0415
        ConnectTimeoutError,
        EndpointConnectionError,
    )

    return (EndpointConnectionError, ConnectTimeoutError)


def probe(endpoint: Endpoint) -> str | None:
    """None when the endpoint answers DynamoDB; else the message naming it (one attempt, short
    timeouts: a stopped stack is reported at once, not after botocore's retries)."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint.url,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.list_tables(Limit=1)
    except connection_errors():
        return unreachable(endpoint)
    return None
