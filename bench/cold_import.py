"""Cold import of every function's handler module in a fresh interpreter, as a Lambda cold start
pays it, side by side with the two anchors of docs/operations.md (bench/anchors/): the Powertools
hello-world resolver with validation and a Logger, and the same plus a boto3 DynamoDB Table.

Every target is run once first (so every module has its bytecode cached, as in the layer `sam
build` ships; see layers/common/Makefile), then in each of `runs` rounds every handler is imported
back to back with its anchor (the pair, and the handlers, in a shuffled order), so that load on
the machine falls on both sides of each ratio. A handler's ratio is the median over the rounds of
its import time over its anchor's in the same round: CPU time of the importing process (what the
target is judged on; it does not count time spent waiting for a core on a shared machine) and
wall time beside it. Each function imports with its environment from
template.yaml, as on Lambda.

`make bench` runs it with its own interpreter and again with `.venv-py313`'s Python 3.13 (the
Lambda runtime's) when `make test-py313` has built it. `python -m bench.cold_import [runs]` prints
the table alone."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = {
    "resolver": ROOT / "bench" / "anchors" / "hello_resolver.py",
    "resolver + DynamoDB Table": ROOT / "bench" / "anchors" / "hello_table.py",
}
TARGET_RATIO = 1.2
PROBE = """
import importlib.util, json, sys, time
cpu, wall = time.process_time(), time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}))
"""


@dataclass(frozen=True)
class Target:
    name: str
    path: Path
    environment: dict[str, str]
    anchor: str | None  # None for the anchors themselves
    http: bool  # behind the HTTP API: held to TARGET_RATIO


def uses_dynamodb(resource: dict[str, Any]) -> bool:
    return "DynamoDB" in json.dumps(resource.get("Properties", {}).get("Policies", []))


def targets(template: Template | None = None) -> list[Target]:
    template = template or load_template()
    authorizer = template.authorizer()
    found = [Target(name, path, {}, None, False) for name, path in ANCHORS.items()]
    for logical_id, spec in sorted(template.functions().items()):
        resource = template.resources[logical_id]
        http = any(e.get("Type") == "HttpApi" for e in spec.events.values()) or (
            authorizer is not None and authorizer.function == logical_id
        )
        module_file = spec.handler.rsplit(".", 1)[0]
        found.append(
            Target(
                name=spec.code_dir.name,
                path=spec.code_dir / f"{module_file}.py",
                environment=spec.environment,
                anchor="resolver + DynamoDB Table" if uses_dynamodb(resource) else "resolver",
                http=http,
            )
        )
    return found


def _environment(target: Target) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(target.environment)
    env.update(
        {
            "PYTHONPATH": str(ROOT / "layers" / "common"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }
    )
    return env


def interpreters() -> list[str]:
    """This interpreter, and Python 3.13 from .venv-py313 when it exists."""
    found = [sys.executable]
    py313 = ROOT / ".venv-py313" / "bin" / "python"
    if py313.exists() and sys.version_info[:2] != (3, 13):
        found.append(str(py313))
    return found


def version_of(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _run(target: Target, python: str) -> dict[str, float]:
    out = subprocess.run(
        [python, "-c", PROBE, str(target.path)],
        env=_environment(target),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figure: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figure


def cold_imports(
    runs: int, python: str = sys.executable, seed: int = 13
) -> dict[str, dict[str, Any]]:
    """Per target: CPU and wall medians (µs); per handler also its anchor and the two ratios.

    A handler's ratio is the median over `runs` rounds of its import time divided by its anchor's
    in the same round, the two imported back to back in a random order: a burst of load on the
    shared machine falls on both sides of one ratio rather than on one side of a median."""
    found = targets()
    by_name = {t.name: t for t in found}
    for target in found:
        _run(target, python)  # bytecode cached; not counted
    samples: dict[str, dict[str, list[float]]] = {
        t.name: {"cpu": [], "wall": [], "ratio_cpu": [], "ratio_wall": []} for t in found
    }
    order = [t for t in found if t.anchor is not None]
    rng = random.Random(seed)
    for _ in range(runs):
        rng.shuffle(order)
        for target in order:
            pair = [by_name[str(target.anchor)], target]
            rng.shuffle(pair)
            figures = {side.name: _run(side, python) for side in pair}
            anchor, handler = figures[str(target.anchor)], figures[target.name]
            for name, figure in figures.items():
                for clock in ("cpu", "wall"):
                    samples[name][clock].append(figure[clock] * 1e6)
            for clock in ("cpu", "wall"):
                samples[target.name][f"ratio_{clock}"].append(handler[clock] / anchor[clock])
    results: dict[str, dict[str, Any]] = {}
    for target in found:
        at = samples[target.name]
        results[target.name] = {
            "cpu_p50": statistics.median(at["cpu"]),
            "wall_p50": statistics.median(at["wall"]),
            "n": len(at["cpu"]),
            "http": target.http,
        }
        if target.anchor is not None:
            quartiles = statistics.quantiles(at["ratio_cpu"], n=4) if runs > 1 else [0.0] * 3
            results[target.name] |= {
                "anchor": target.anchor,
                "ratio_cpu": statistics.median(at["ratio_cpu"]),
                "ratio_wall": statistics.median(at["ratio_wall"]),
                # The spread of one round's ratio: on a shared machine it is wide, and a
                # median of 15 moves by a few hundredths from run to run.
                "ratio_cpu_iqr": (quartiles[0], quartiles[2]),
            }
    return results


def over_target(results: dict[str, dict[str, Any]]) -> list[str]:
    """HTTP handlers whose CPU-time ratio misses docs/operations.md's 1.2."""
    return [
        name
        for name, at in results.items()
        if at["http"] and at.get("ratio_cpu", 0.0) > TARGET_RATIO
    ]


def rows(results: dict[str, dict[str, Any]], version: str = "") -> list[tuple[str, str, str, str]]:
    on = f", Python {version}" if version else ""
    table = []
    for name, at in results.items():
        if "anchor" not in at:
            table.append(
                (
                    f"cold import, anchor: hello-world {name}{on}",
                    f"fresh process, median of {at['n']}, CPU (wall)",
                    f"{at['cpu_p50'] / 1000:,.1f} ms ({at['wall_p50'] / 1000:,.1f} ms)",
                    "—",
                )
            )
            continue
        kind = "HTTP handler" if at["http"] else "queue consumer (no target)"
        table.append(
            (
                f"cold import, {name} ({kind}{on}): {at['ratio_cpu']:.2f}× its anchor "
                f"(rounds' IQR {at['ratio_cpu_iqr'][0]:.2f}-{at['ratio_cpu_iqr'][1]:.2f}; "
                f"{at['ratio_wall']:.2f}× wall)",
                f"anchor: {at['anchor']}; median of {at['n']} paired ratios, CPU (wall)",
                f"{at['cpu_p50'] / 1000:,.1f} ms ({at['wall_p50'] / 1000:,.1f} ms)",
                "—",
            )
        )
    return table


if __name__ == "__main__":
    missed = []
    print("| what | setup | p50 (or value) | p99 |\n|---|---|---|---|")
    for interpreter in interpreters():
        version = version_of(interpreter)
        figures = cold_imports(int(sys.argv[1]) if len(sys.argv) > 1 else 15, interpreter)
        for row in rows(figures, version):
            print("| " + " | ".join(row) + " |")
        missed += [f"{name} (Python {version})" for name in over_target(figures)]
    if missed:
        print(f"over {TARGET_RATIO}x: {', '.join(missed)}", file=sys.stderr)
        sys.exit(1)
