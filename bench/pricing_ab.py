"""Pricing A/B against a baseline tree (issue 17, docs/pricing.md "Work is bounded by data"): the cost of
the work budget, measured side by side in one run.

`BENCH_BASELINE_TREE=/path/to/checkout python -m bench pricing_ab` prices bench/pricing.py's
realistic task (all five formulas and a CEL description) with 1, 100 and 1,000 output items in
worker processes, one per tree (PYTHONPATH=<tree>/layers/common, nothing else of either tree),
and alternates between them in interleaved rounds (A B, then B A, …) so both see the same load.
Each round's figure is the median of a batch of calls; the ratio is taken per round (this tree /
baseline) and the table shows the median of those paired ratios and their spread. cel-python is
priced in the same rounds on this tree, for cel-expr's lead per task.

The task and pricing are sent to the workers as JSON, built from this tree's bench/pricing.py,
so both trees price exactly the same data. The baseline for issue 17 is d8d43ff, the last main
before the budget (bench/README.md says how to make the worktree). BENCH_CANDIDATE_TREE puts
another checkout in this tree's place (705698d, say: the budget before issue 17)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from .pricing import PRICING, task

SIZES = (1, 100, 1000)
# Calls per batch (one round's figure is the batch's median), per engine and output items.
BATCH = {"cel-expr": {1: 1000, 100: 400, 1000: 60}, "cel-python": {1: 40, 100: 8, 1000: 3}}

_WORKER = r"""
import json, statistics, sys, time
from usage_pricing import AppPricing, OutputMeta, PricingEvaluator, PricingInput, Resource
from usage_pricing import new_engine
spec = json.loads(sys.stdin.readline())
pricing = AppPricing.model_validate(spec["pricing"])
evaluator = PricingEvaluator(new_engine(sys.argv[1]))
tasks = {}
for size, at in spec["tasks"].items():
    tasks[int(size)] = PricingInput(
        output_meta=OutputMeta.model_validate(at["output_meta"]),
        resources=tuple(Resource.model_validate(r) for r in at["resources"]),
        elapsed_ms=at["elapsed_ms"],
        task_inputs=at["task_inputs"],
    )
    result = evaluator.price(pricing, tasks[int(size)])
    assert not result.errors, result.errors
    for _ in range(20):
        evaluator.price(pricing, tasks[int(size)])
answers = {s: [f.value for f in evaluator.price(pricing, t).fees] for s, t in tasks.items()}
print(json.dumps(answers), flush=True)
clock = time.perf_counter_ns
for line in sys.stdin:
    size, calls = map(int, line.split())
    one, times = tasks[size], []
    for _ in range(calls):
        start = clock()
        evaluator.price(pricing, one)
        times.append(clock() - start)
    print(statistics.median(times) / 1000, flush=True)
"""


class _Worker:
    def __init__(self, tree: Path, engine: str, spec: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree / "layers" / "common")}
        env["POWERTOOLS_TRACE_DISABLED"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, engine],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd="/",
        )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(spec + "\n")
        self.process.stdin.flush()
        self.answers = json.loads(self.process.stdout.readline())

    def median_us(self, size: int, calls: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{size} {calls}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _spec() -> str:
    tasks = {}
    for size in SIZES:
        one = task(size)
        tasks[str(size)] = {
            "output_meta": one.output_meta.model_dump(mode="json"),
            "resources": [r.model_dump(mode="json", exclude_none=True) for r in one.resources],
            "elapsed_ms": one.elapsed_ms,
            "task_inputs": dict(one.task_inputs),
        }
    pricing = PRICING.model_dump(mode="json", exclude={"description_rendered"})
    return json.dumps({"pricing": pricing, "tasks": tasks})


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 4:
        return min(values), max(values)
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def pricing_ab(baseline: Path, rounds: int, candidate: Path | None = None) -> dict[str, Any]:
    """p50 µs per tree and size (median of the rounds' batch medians), the paired ratios'
    median and spread, and cel-python / cel-expr on the candidate (this tree by default)."""
    here = candidate or Path(__file__).resolve().parents[1]
    spec = _spec()
    old = _Worker(baseline, "cel-expr", spec)
    new = _Worker(here, "cel-expr", spec)
    slow = _Worker(here, "cel-python", spec)
    try:
        if old.answers != new.answers or new.answers != slow.answers:
            raise SystemExit(f"the trees price differently: {old.answers} / {new.answers}")
        figures: dict[str, list[float]] = {}
        for round_ in range(rounds):
            for size in SIZES:
                calls = BATCH["cel-expr"][size]
                pair = (old, new) if round_ % 2 == 0 else (new, old)
                measured = {id(w): w.median_us(size, calls) for w in pair}
                python = slow.median_us(size, BATCH["cel-python"][size])
                before, after = measured[id(old)], measured[id(new)]
                figures.setdefault(f"{size}/baseline", []).append(before)
                figures.setdefault(f"{size}/this", []).append(after)
                figures.setdefault(f"{size}/ratio", []).append(after / before)
                figures.setdefault(f"{size}/cel-python", []).append(python)
                figures.setdefault(f"{size}/lead", []).append(python / after)
    finally:
        for worker in (old, new, slow):
            worker.close()
    out: dict[str, Any] = {"rounds": rounds, "baseline": str(baseline), "raw": figures}
    for size in SIZES:
        ratios, leads = figures[f"{size}/ratio"], figures[f"{size}/lead"]
        out[str(size)] = {
            "baseline_p50": statistics.median(figures[f"{size}/baseline"]),
            "this_p50": statistics.median(figures[f"{size}/this"]),
            "cel_python_p50": statistics.median(figures[f"{size}/cel-python"]),
            "ratio": statistics.median(ratios),
            "ratio_iqr": _quartiles(ratios),
            "ratio_range": (min(ratios), max(ratios)),
            "lead": statistics.median(leads),
            "lead_iqr": _quartiles(leads),
        }
    return out


def calibration_ms() -> float:
    """`python3 -m timeit "sum(range(10**6))"`'s best loop, in ms: the machine's speed."""
    out = subprocess.run(
        [sys.executable, "-m", "timeit", "sum(range(10**6))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    value, unit = out.split(":")[-1].split()[:2]
    return float(value) * {"msec": 1.0, "usec": 0.001, "sec": 1000.0}[unit]
