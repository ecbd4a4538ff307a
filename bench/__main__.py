"""`make bench`: run every benchmark and print the table that bench/README.md records.

BENCH_QUICK=1 shrinks the sample counts (for a smoke run); the README figures use the defaults."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .cold_import import cold_import
from .common import fmt_us, machine
from .pricing import compile_times, price_one_task

QUICK = os.environ.get("BENCH_QUICK") == "1"


def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    results: dict[str, object] = {"machine": machine()}
    for engine, full_runs in (("cel-expr", 20_000), ("cel-python", 500)):
        runs = max(50, full_runs // 20) if QUICK else full_runs
        for outputs in (1, 100, 1000):
            n = runs if outputs == 1 else max(20, runs // (10 if outputs == 100 else 50))
            figure = price_one_task(engine, outputs, n)
            results[f"price/{engine}/{outputs}"] = figure
            rows.append(
                (
                    f"price one task, {outputs} output item(s)",
                    engine,
                    fmt_us(figure["p50"]),
                    fmt_us(figure["p99"]),
                )
            )
    for engine in ("cel-expr", "cel-python"):
        for scope, figure in compile_times(engine, 20 if QUICK else 200).items():
            results[f"compile/{engine}/{scope}"] = figure
            rows.append(
                (
                    f"compile {scope} formula (uncached)",
                    engine,
                    fmt_us(figure["p50"]),
                    fmt_us(figure["p99"]),
                )
            )
    figure = cold_import("evaluate", 3 if QUICK else 15)
    results["cold_import/evaluate"] = figure
    rows.append(
        (
            "cold import, evaluate handler (fresh process)",
            "cel-expr",
            fmt_us(figure["p50"]),
            fmt_us(figure["p99"]),
        )
    )

    print(f"Machine: {results['machine']}\n")
    print("| what | engine | p50 | p99 |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
