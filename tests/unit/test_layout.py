"""The layer's folders are its architecture (docs/architecture.md): packages stand on floors, and an
import only ever points down to a lower floor. These tests read every import of the layer (at the
top of a module, inside a function or under TYPE_CHECKING alike) and fail on an arrow that runs
sideways or back up, on a cycle between modules, on a subpackage __init__ that imports anything,
and on a spend module that loads a CEL engine."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"
PACKAGE = LAYER / "usage_pricing"

# Each package's floor: it may import only packages on a lower floor (and itself).
FLOORS = {
    "core": 0,  # money, fees, limits, errors, JSON, time, cursors, scopes, observability
    "storage": 1,  # DynamoDB plumbing and the aggregates' schema
    "usage": 2,  # what tasks report: metadata, meters, events
    "pricing": 3,  # the pricing model, its evaluator and CEL engines, the pricing store
    "edge": 3,  # HTTP routes and problems, the authorizer, API keys
    "controls": 4,  # budgets, holds and their counters, written in the ledger's transaction
    "ledger": 5,  # records, charges, billing, audit, backtest, estimates
    "spend": 6,  # what a team spent: breakdown, summary, task list, exports, costs
    "runtime": 7,  # configuration and wiring: the composition root
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LAYER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _imports() -> dict[str, set[str]]:
    """Every layer module and the layer modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{module} uses a relative import; the layer imports by name")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("usage_pricing"):
                targets.add(node.module or "")
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("usage_pricing"))
        found[module] = targets
    return found


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_given_the_layer_then_every_module_lives_in_a_package_with_a_floor() -> None:
    homeless = sorted(m for m in _imports() if m != "usage_pricing" and _package(m) not in FLOORS)
    assert homeless == []


def test_given_every_import_of_the_layer_then_none_points_sideways_or_up() -> None:
    wrong = []
    for module, targets in _imports().items():
        source = _package(module)
        if source is None:
            continue  # usage_pricing/__init__: the lazy public names for app code
        for target in targets:
            package = _package(target)
            if package is None or package == source:
                continue
            if FLOORS[package] >= FLOORS[source]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_given_the_modules_of_the_layer_then_their_imports_have_no_cycle() -> None:
    graph = {m: {t for t in ts if t in _imports()} for m, ts in _imports().items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state and module != "usage_pricing":
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("package", sorted(p for p in FLOORS if (PACKAGE / p).is_dir()))
def test_given_a_subpackage_then_its_init_imports_nothing(package: str) -> None:
    init = PACKAGE / package / "__init__.py"
    tree = ast.parse(init.read_text())
    imports = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and node.module != "__future__"
    ]
    assert imports == []
    assert ast.get_docstring(tree), f"{package}/__init__.py says what the package holds"


def test_given_every_spend_module_imported_then_no_cel_engine_is_loaded() -> None:
    spend = sorted(m for m in _imports() if _package(m) == "spend")
    script = (
        "import importlib, json, sys\n"
        f"for name in {spend!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER), "POWERTOOLS_TRACE_DISABLED": "1"},
    )
    loaded = json.loads(result.stdout)
    engines = [
        m
        for m in loaded
        if m.startswith(("usage_pricing.pricing.cel", "celpy", "cel_expr", "celexpr"))
    ]
    assert spend and engines == []


def test_given_the_bench_and_the_local_tools_then_every_module_imports() -> None:
    # They import the layer by name: a move in the layer must not leave one behind.
    names = sorted(
        f"{folder}.{path.stem}"
        for folder in ("bench", "local")
        for path in (ROOT / folder).glob("*.py")
        if path.stem != "__main__"
    )
    script = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{LAYER}:{ROOT}", "POWERTOOLS_TRACE_DISABLED": "1"},
    )
    assert names and result.returncode == 0, result.stderr[-2000:]
