"""What a change costs a cold start: the cold import of functions at a base revision and in the
working tree, side by side in one run (bench/cold_import.py's probe, fresh interpreter, CPU time,
each function with its own template.yaml environment).

The base revision is exported with `git archive` to a temporary directory. Every target is
imported once first (bytecode cached), then in each round every function is imported at the base
and in the tree back to back, in a shuffled order; a function's figure is the median over the
rounds of tree ÷ base, with the spread (IQR) of the rounds' ratios.

    PYTHONPATH=layers/common python -m bench.cold_ab 705698d task_cost pricing [rounds]"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from local.template import Template, load_template

from .cold_import import PROBE, ROOT, Target, targets


def _export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    path = into / "tree.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(into / "base", filter="data")
    return into / "base"


def _run(target: Target, root: Path) -> float:
    env = {
        "PATH": "/usr/bin:/bin",
        **target.environment,
        "PYTHONPATH": str(root / "layers" / "common"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(target.path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["cpu"])


def compare(
    revision: str, names: list[str], rounds: int, seed: int = 17
) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        base_root = _export(revision, Path(scratch))
        # the base's own template (its environment, e.g. without CURSOR_SECRET)
        base_template = Template(load_template(base_root / "template.yaml").document)
        base = {
            t.name: dataclasses.replace(t, path=base_root / t.path.relative_to(ROOT))
            for t in targets(base_template)
            if t.name in names and t.anchor is not None
        }
        head = {t.name: t for t in targets() if t.name in names and t.anchor is not None}
        sides = {"base": (base, base_root), "head": (head, ROOT)}
        for found, root in sides.values():
            for target in found.values():
                _run(target, root)  # bytecode cached; not counted
        rng = random.Random(seed)
        samples: dict[str, dict[str, list[float]]] = {
            n: {"base": [], "head": [], "ratio": []} for n in names
        }
        order = list(names)
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                pair = ["base", "head"]
                rng.shuffle(pair)
                cpu = {side: _run(sides[side][0][name], sides[side][1]) for side in pair}
                samples[name]["base"].append(cpu["base"] * 1e6)
                samples[name]["head"].append(cpu["head"] * 1e6)
                samples[name]["ratio"].append(cpu["head"] / cpu["base"])
    results = {}
    for name, at in samples.items():
        quartiles = statistics.quantiles(at["ratio"], n=4)
        results[name] = {
            "base_cpu_p50_us": statistics.median(at["base"]),
            "head_cpu_p50_us": statistics.median(at["head"]),
            "ratio": statistics.median(at["ratio"]),
            "ratio_q1": quartiles[0],
            "ratio_q3": quartiles[2],
            "rounds": rounds,
        }
    return results


if __name__ == "__main__":
    revision, *rest = sys.argv[1:]
    rounds = int(rest.pop()) if rest and rest[-1].isdigit() else 15
    print(json.dumps(compare(revision, rest, rounds), indent=2))
