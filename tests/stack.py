"""The local stack as `make dev` starts it, on free ports, for the end-to-end and fuzz tests.

Its output is drained on a thread for the whole session: a pipe nobody reads fills up after a few
logged errors and then blocks the stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    url: str
    db_port: int
    env: dict[str, str]
    output: list[str]  # every line the stack has printed so far (its handlers' logs included)

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "inf_local_dev",
        version: str | None = "2",
        **kwargs: object,
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if version is not None:
            headers["X-API-Version"] = version
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "local.api_key", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return out.stdout

    def new_key(self, team: str, scopes: str) -> str:
        return self.cli("create", "--team", team, "--scopes", scopes).strip().splitlines()[-1]


@contextmanager
def running_stack(extra_env: dict[str, str] | None = None, *, demo: bool = True) -> Iterator[Stack]:
    api_port, db_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)]),
        "LOCAL_DB_PORT": str(db_port),
        "LOCAL_API_KEY": "inf_local_dev",
        # its own state file: a test stack never becomes the one your `make audit` follows
        "LOCAL_STACK_STATE": os.path.join(tempfile.mkdtemp(prefix="stack-"), "state.json"),
        **(extra_env or {}),
    }
    args = ["--api-port", str(api_port), "--db-port", str(db_port)] + (
        [] if demo else ["--no-demo"]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "local", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    ready = threading.Event()
    assert process.stdout is not None
    stdout = process.stdout

    def drain() -> None:
        for line in stdout:
            output.append(line)
            if line.startswith("ready"):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout=120):
        process.kill()
        pytest.fail("local stack did not start:\n" + "".join(output))
    try:
        yield Stack(f"http://127.0.0.1:{api_port}", db_port, env, output)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        time.sleep(0.2)  # let the drain thread read the last lines
        assert process.returncode == 0, "".join(output[-50:])
        assert any(line.startswith("stopped") for line in output), "".join(output[-50:])
