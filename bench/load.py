"""A bounded HTTP load test of the local stack (`python -m local`, as `make dev` runs it) over
loopback: requests/s and latency per route with concurrent keep-alive clients, and task events
billed per second through POST /local/events (EventBridge → SQS → billing, synchronous).

Which stack: the one `make dev` started, when its state file names one that is running and holds
the demo data (local/state.py: the tools follow it with no variables, docs/operations.md); the bench then
leaves the demo team as the README shows it and bills its load events into a team of its own
(BENCH_TEAM, with the demo's flux-dev pricing published under it by a key it creates and revokes
at the end; those records stay in that stack). Otherwise it starts `python -m local` in its own
process on free ports (with its own state file, so the tools never follow it), stops it with
SIGINT as Ctrl-C would, and bills into the demo's flux-dev. The clients run in this process and
share the machine's cores with the stack, so these are figures for the local stack on this
machine, not for Lambda: every request runs the real handlers (and the authorizer, cached per key
as API Gateway does), one request at a time per function, against moto."""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .common import summary
from .workload import EVALUATE_BODY, ROOT, task_completed

API_KEY = os.environ.get("LOCAL_API_KEY") or "inf_local_dev"  # `make dev`'s dev key
HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "X-API-Version": "2",
    "Content-Type": "application/json",
}
DEMO_TEAM = "team_local"  # the dev key's team, which the demo data belongs to
DEMO_APP = "team_local/flux-dev"  # has published pricing in the demo data
BENCH_TEAM = "team_bench_load"  # where the load events bill on a running `make dev` stack
ROUTES = (
    ("POST", "/usage/cel/evaluate", json.dumps(EVALUATE_BODY)),
    ("GET", "/usage/breakdown?range=7d", None),
    ("GET", "/usage/tasks/demo_0041/cost", None),
)
STARTUP_SECONDS = 120
EVENT_BATCH = 50


class Target(NamedTuple):
    port: int
    where: str  # which stack, for the table's setup column
    team: str  # the team and app the load events bill into, and the key that may publish there
    app: str
    key: str


def running_stack_port() -> tuple[int, str] | None:
    """The API port of the stack `make dev` started, from its state file, when it is running and
    answers the demo task's cost (it holds the demo data the routes read); else None."""
    from local.state import read_state, state_path

    state = read_state()
    found = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", str((state or {}).get("api_url")))
    if found is None:
        return None
    port = int(found.group(1))
    try:
        with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as c:
            status, _ = _request(c, "GET", "/usage/tasks/demo_0041/cost", None)
    except (OSError, http.client.HTTPException):
        return None
    return (port, str(state_path())) if status == 200 else None


@contextlib.contextmanager
def bench_team(port: int) -> Iterator[str]:
    """A key for BENCH_TEAM on the running stack (created in its keys table, as `make api-key`
    does, and revoked afterwards), with the demo's flux-dev pricing published under that team."""
    from local.demo import PRICING
    from local.state import local_resource, probe
    from usage_pricing.edge.key_store import ApiKeyRepository

    resource, endpoint = local_resource()
    problem = probe(endpoint)
    if problem:
        raise RuntimeError(problem)
    keys = ApiKeyRepository(resource.Table("ApiKeysTable"))
    key, _ = keys.create(BENCH_TEAM, ["*"])
    headers = {**HEADERS, "Authorization": f"Bearer {key}"}
    try:
        with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as c:
            for method, path, body in (
                ("PATCH", f"/apps/{BENCH_TEAM}/flux-dev/pricing", PRICING[DEMO_APP]),
                ("POST", f"/apps/{BENCH_TEAM}/flux-dev/pricing/publish", None),
            ):
                c.request(method, path, body=json.dumps(body) if body else None, headers=headers)
                answer = c.getresponse()
                if answer.status != 200:
                    raise RuntimeError(f"{method} {path}: {answer.status} {answer.read()[:300]!r}")
                answer.read()
        yield key
    finally:
        keys.revoke(key)


@contextlib.contextmanager
def load_target() -> Iterator[Target]:
    running = running_stack_port()
    if running is not None:
        port, state = running
        with bench_team(port) as key:
            yield Target(
                port, f"make dev's stack ({state})", BENCH_TEAM, f"{BENCH_TEAM}/flux-dev", key
            )
        return
    with local_stack() as port:
        yield Target(
            port,
            "its own stack (no running make dev stack answered the demo task with the dev key)",
            DEMO_TEAM,
            DEMO_APP,
            API_KEY,
        )


@contextlib.contextmanager
def local_stack() -> Iterator[int]:
    """`python -m local` on free ports; yields the HTTP API's port once it printed "ready"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)]),
        LOCAL_API_KEY=API_KEY,
        PYTHONUNBUFFERED="1",
        # its own state file: the bench's stack never becomes the one the local tools follow
        LOCAL_STACK_STATE=os.path.join(tempfile.mkdtemp(prefix="bench-stack-"), "state.json"),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--api-port", "0", "--db-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Drained for the whole run, so the stack never blocks on a full pipe; the tail is kept
    # for the error message if it fails.
    output: collections.deque[str] = collections.deque(maxlen=50)
    ready = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            if line.startswith("ready"):
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not ready.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the local stack did not start:\n" + "\n".join(output))
        found = next(
            (
                m
                for line in output
                if (m := re.search(r"HTTP API\s+http://127\.0\.0\.1:(\d+)", line))
            ),
            None,
        )
        if found is None:
            raise RuntimeError("the local stack did not print its port:\n" + "\n".join(output))
        yield int(found.group(1))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, body: str | None
) -> tuple[int, bytes]:
    connection.request(method, path, body=body, headers=HEADERS)
    response = connection.getresponse()
    return response.status, response.read()


def drive(
    port: int, method: str, path: str, body: str | None, *, seconds: float, clients: int
) -> dict[str, Any]:
    """`clients` threads, each with one keep-alive connection, sending the request back to back
    until `seconds` have passed; a request in flight at the deadline is finished and counted."""
    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as probe:
        status, first = _request(probe, method, path, body)
    if status != 200:
        raise RuntimeError(f"{method} {path} answered {status}: {first[:300]!r}")
    start = time.perf_counter()
    deadline = start + seconds

    def client(_number: int) -> tuple[list[float], int]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, errors = [], 0
        while time.perf_counter() < deadline:
            began = time.perf_counter_ns()
            try:
                status, _ = _request(connection, method, path, body)
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()  # reconnects on the next request
            latencies.append((time.perf_counter_ns() - began) / 1000)
            errors += status != 200
        connection.close()
        return latencies, errors

    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - start
    latencies = [value for per_client, _ in outcomes for value in per_client]
    return {
        **summary(latencies),
        "requests_per_second": len(latencies) / elapsed,
        "errors": sum(errors for _, errors in outcomes),
        "clients": clients,
        "seconds": elapsed,
    }


def bill_events(target: Target, seconds: float) -> dict[str, Any]:
    """POST /local/events with batches of EVENT_BATCH new Task Completed events until `seconds`
    have passed; counts the events billed (accepted, matched, not dead-lettered) per second."""
    connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=300)
    billed = errors = index = 0
    batch_latencies = []
    run = uuid.uuid4().hex[:8]  # task ids of this run: a running stack may hold earlier runs'
    start = time.perf_counter()
    while time.perf_counter() < start + seconds:
        now = datetime.now(UTC)
        events = [
            task_completed(f"load_{run}_{index + n:06d}", target.team, target.app, now)
            for n in range(EVENT_BATCH)
        ]
        index += EVENT_BATCH
        began = time.perf_counter_ns()
        status, body = _request(connection, "POST", "/local/events", json.dumps(events))
        batch_latencies.append((time.perf_counter_ns() - began) / 1000)
        if status != 200:
            errors += EVENT_BATCH
            continue
        report = json.loads(body)
        lost = report["unmatched"] + len(report["dead_lettered"])
        billed += report["accepted"] - lost
        errors += lost
    elapsed = time.perf_counter() - start
    # The last event must now have its billing record.
    connection.request(
        "GET",
        f"/usage/tasks/load_{run}_{index - 1:06d}/cost",
        headers={**HEADERS, "Authorization": f"Bearer {target.key}"},
    )
    answer = connection.getresponse()
    answer.read()
    errors += answer.status != 200
    connection.close()
    return {
        **summary(batch_latencies),
        "events_per_second": billed / elapsed,
        "events_billed": billed,
        "errors": errors,
        "batch": EVENT_BATCH,
        "seconds": elapsed,
    }


def load(quick: bool) -> dict[str, Any]:
    seconds = 2.0 if quick else 10.0
    results: dict[str, Any] = {}
    with load_target() as target:
        print(f"bench load: {target.where}", file=sys.stderr, flush=True)
        for method, path, body in ROUTES:
            results[f"{method} {path}"] = {
                **drive(target.port, method, path, body, seconds=seconds, clients=8),
                "stack": target.where,
            }
        # Last: billing grows the tables the routes above read.
        results["POST /local/events"] = {**bill_events(target, seconds), "stack": target.where}
    return results
