"""Timing helpers shared by the benchmarks: medians and p99 from many samples, machine facts."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any


def sample(fn: Callable[[], Any], *, runs: int, warmup: int = 50) -> list[float]:
    """Per-call wall time in microseconds for `runs` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    timings = []
    clock = time.perf_counter_ns
    for _ in range(runs):
        start = clock()
        fn()
        timings.append((clock() - start) / 1000)
    return timings


def summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "n": len(ordered),
    }


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} ({platform.machine()})"


def fmt_us(value: float) -> str:
    return f"{value:,.1f} µs" if value < 10_000 else f"{value / 1000:,.1f} ms"
