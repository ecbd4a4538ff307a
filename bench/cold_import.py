"""Cold import of a handler module in a fresh interpreter, as a Lambda cold start pays it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .common import summary

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import importlib.util, sys, time
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print((time.perf_counter() - start) * 1e6)
"""


def cold_import(function: str, runs: int) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "common"),
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    app = ROOT / "functions" / function / "app.py"
    timings = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(app)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        timings.append(float(out.stdout.strip().splitlines()[-1]))
    return summary(timings)


if __name__ == "__main__":
    print(json.dumps(cold_import(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10)))
