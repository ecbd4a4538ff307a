"""The per-formula work budget (docs/pricing.md): work is bounded by data, not only by formula text.

The guard bounds a formula's text and shape; this bounds what the *data* can make that text do.
`size(outputs.map(o, task_inputs.s + task_inputs.s))` is 40 bytes of formula, but with a 50,000
character string and 1,000 outputs it builds 100 MB. Neither engine can be interrupted or told a
memory budget from Python (cel-expr's only limit is ~10,000 comprehension iterations per
evaluation, which the fast path's single program shares between every fee formula), so the budget is
an upper bound computed *before* evaluation, from the formula's shape and the sizes of the values
it names:

The module is the cost model; the sizes of values are budget_sizes, the shape of a formula is
budget_shape.

- Sizes are in units: 1 per scalar, list or map, plus 1 per character of a string or map key.
- Outside comprehensions, a CEL expression is a tree whose leaves are the names and literals of
  the formula. No operator builds a value bigger than the sum of its operands (`+` concatenates,
  everything else shrinks or keeps), so an operator's cost is at most the sum of the leaves under
  it, and the whole tree costs at most depth × Σ leaves. The guard caps depth at 32.
- A comprehension runs its body once per element of its receiver: a plain path (`outputs`,
  `task_inputs.l`) is measured exactly, anything else is bounded by its leaves; each iteration
  costs depth × Σ of the body's leaves, where the iteration variable is the largest element.
- A comprehension that builds a list (map, filter) costs quadratically in the list it builds:
  cel-expr copies the accumulated list on every step, n(n+1)/2 element copies for n elements
  (W_ACCUMULATE). So a filter over ~610 outputs is the most one formula fits, not 1,000.
- `contains()` and `matches()` are the only calls whose cost is a product of their operands.

A formula whose bound exceeds WORK_UNITS, or whose comprehensions could run more than
MAX_ITERATIONS times, is an error on its own component (`evaluation budget exceeded`) and is not
evaluated; its neighbours are unaffected. The bound is the same for both engines, so they agree
on which formulas fit, and it is far below cel-expr's own iteration limit, so a formula that fits
never meets that limit when evaluated alone. bench/ measures the slowest formula that fits.

The check itself is cheap (docs/pricing.md: at most 15% on top of pricing without it). The
bound's shape is prepared once per formula source (`plan_of`: coefficients for a formula without
comprehensions), and once per tuple of fee formulas (`FeeBudgets`: which formulas can never
exceed, which need only a quick bound); a task's values are measured once (`DataSizes`) and
shared by its formulas. Every shortcut answers exactly as the full bound (`estimate`) would."""

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from usage_pricing.core.fees import COMPONENTS
from usage_pricing.core.limits import MAX_FORMULA_DEPTH
from usage_pricing.pricing.cel.budget_shape import Context, Leaf, Shape, shape_of
from usage_pricing.pricing.cel.budget_sizes import SCALAR, DataSizes, Measure, units

BUDGET_EXCEEDED = "evaluation budget exceeded"
# Calibrated by bench/pricing.py's hostile corpus: the costliest formula that fits prices in well
# under 100 ms and 64 MB on cel-expr (see bench/README.md).
# ≈ 20 ms each: every fee formula of a task (fees.COMPONENTS, five) at its budget in ~100 ms.
WORK_UNITS = 100_000_000 // len(COMPONENTS)
# cel-expr refuses the 10,000th iteration of one evaluation; a formula that fits stays far below.
MAX_ITERATIONS = 9_000
# Summed over the fee formulas, the limits of the single-program fast path: cel-expr's
# iteration limit per evaluation, and the accumulated copies one evaluation's arena may hold
# (~32 bytes each) before it is cheaper on memory to evaluate each formula alone.
ENGINE_ITERATION_LIMIT = 9_999
SHARED_ARENA_COPIES = 600_000


class BudgetExceededError(Exception):
    """A formula's work bound exceeds its budget; the message names which budget."""


class Cost:
    __slots__ = (
        "copies",
        "iterations",
        "work",
    )

    def __init__(self, work: int, iterations: int, copies: int) -> None:
        self.work = work
        self.iterations = iterations
        self.copies = copies


# Weights in nanoseconds of cel-expr work per unit, measured on this project's 2-core machines
# (bench/README.md): converting a variable into the engine, a Python helper converting its
# arguments, an engine operator walking its operands, one comprehension step, and the list a
# map() or filter() accumulates.
W_CONVERT = 20
W_HELPER = 30
W_WALK = 3
W_ITERATION = 100
# cel-expr (cel-expr-python 0.1.3 does not expose cel-cpp's in-place list append) copies the
# accumulated list on every step of a map() or filter(): building n elements makes n(n+1)/2
# element copies, each a new allocation in the evaluation's arena, freed only when the evaluation
# ends (a filter over 1,000 items holds ~16 MB). Warm, in a process that has already grown its
# heap, a copy costs ~40 ns; in a fresh process or after the arena's memory went back to the
# system (each formula is its own evaluation, so five such formulas fault their arenas in five
# times), 75-130 ns on the 2-core bench machine. The weight is that worst case, so the heaviest
# list-building formula that fits (one filter over ~610 outputs) costs ≤ ~20 ms and five of them
# ≤ ~100 ms (bench/README.md, hostile corpus); a filter over 1,000 items (~50 ms) is over budget.
# Aggregates over the task's own lists stay linear: prefer image_count(outputs),
# count_type(outputs, 'image'), text_tokens(outputs).
W_ACCUMULATE = 100
W_QUADRATIC = 1
W_REGEX = 2_000  # per unit of estimated RE2 program: '\pL{300}' (120,400) compiles in ~220 ms


def estimate(shape: Shape, sizes: DataSizes) -> Cost:
    """An upper bound, in nanosecond-like units, on the work of one evaluation, and on its
    comprehension iterations."""
    results: list[Measure] = []
    iterations = copies = 0
    # Every engine converts each variable the formula names once per evaluation.
    work = W_CONVERT * sum(sizes.measure((name,)).units for name in shape.names)
    for loop in shape.loops:
        if loop.receiver_path is not None:
            receiver = sizes.measure(loop.receiver_path)
            length, element = receiver.length, receiver.largest
        else:
            # Any expression: it may index or look up any list inside what it names (or be a
            # list literal, one leaf or more per element).
            measures = [_leaf_measure(leaf, sizes, {}) for leaf in loop.receiver.leaves]
            measures += [results[n] for n in loop.receiver.loops]
            longest = max(
                [len(loop.receiver.leaves), *(max(m.deepest, m.length) for m in measures)]
            )
            length = (loop.receiver.plus + 1) * longest
            element = max((m.largest for m in measures), default=0)
            work += W_WALK * (loop.receiver.plus + 1) * sum(m.units for m in measures)
        bound = dict.fromkeys(loop.variables, Measure(element, element, element, element))
        per_iteration = _context_units(loop.body, sizes, bound, results)
        # A body may hand back (part of) any list it names: a map's elements can be that long.
        body_deepest = max(
            [_leaf_measure(leaf, sizes, bound).deepest for leaf in loop.body.leaves]
            + [results[n].deepest for n in loop.body.loops if n < len(results)]
            + [len(loop.body.leaves)]
        )
        body_work = W_ITERATION + _context_work(loop.body, per_iteration)
        body_work += _quadratic(loop.body, sizes, bound, results)
        work += length * body_work
        iterations += length
        if loop.macro in ("map", "filter"):
            copies += length * (length + 1) // 2
            work += W_ACCUMULATE * length * (length + 1) // 2
        if loop.macro == "map":
            results.append(
                Measure(
                    1 + length * per_iteration, length, per_iteration, max(length, body_deepest)
                )
            )
        elif loop.macro == "filter":
            results.append(Measure(1 + length * element, length, element, max(length, element)))
        else:
            results.append(SCALAR)
    outside = _context_units(shape.outside, sizes, {}, results)
    work += _context_work(shape.outside, outside) + _quadratic(shape.outside, sizes, {}, results)
    return Cost(work, iterations, copies)


def _context_work(context: Context, leaf_units: int) -> int:
    """Each walking operator or helper costs at most the leaves under it; no leaf sits under more
    operators than the formula is deep."""
    depth = MAX_FORMULA_DEPTH
    walking = W_WALK * min(context.operators, depth) + W_HELPER * min(context.helpers, depth)
    return walking * leaf_units + len(context.leaves) + W_REGEX * context.patterns


def _leaf_measure(leaf: Leaf, sizes: DataSizes, bound: Mapping[str, Measure]) -> Measure:
    if not leaf.path:
        return Measure(leaf.units, 0, leaf.units)
    if leaf.path[0] in bound:
        return bound[leaf.path[0]]
    return sizes.measure(leaf.path)


def _context_units(
    context: Context, sizes: DataSizes, bound: Mapping[str, Measure], results: list[Measure]
) -> int:
    total = sum(_leaf_measure(leaf, sizes, bound).units for leaf in context.leaves)
    return total + sum(results[n].units for n in context.loops if n < len(results))


def _quadratic(
    context: Context, sizes: DataSizes, bound: Mapping[str, Measure], results: list[Measure]
) -> int:
    work = 0
    for receiver, argument in context.quadratic:
        left = sum(_leaf_measure(leaf, sizes, bound).units for leaf in receiver.leaves)
        right = sum(_leaf_measure(leaf, sizes, bound).units for leaf in argument.leaves)
        work += W_QUADRATIC * left * right
    return work


# The variables that are numbers: any path under them measures 1 unit (PricingInput.cel_variables
# computes usage_seconds and the elapsed times; the fees are ints the engine passes on). `prices`
# is a map of ints (AppPricing validates them as strict ints): a path below it measures 1 unit.
NUMBERS = frozenset(
    {"usage_seconds", "elapsed_seconds", "elapsed_ms", *(c.field for c in COMPONENTS)}
)
NUMBER_MAPS = frozenset({"prices"})


def _exactly_one(path: tuple[str, ...]) -> bool:
    return path[0] in NUMBERS or (len(path) > 1 and path[0] in NUMBER_MAPS)


_Terms = tuple[tuple[tuple[str, ...], int], ...]  # (path, coefficient) pairs


class _Sum:
    """A constant plus the units of some paths: one side of a quadratic call's product."""

    __slots__ = ("constant", "paths")

    def __init__(self, leaves: tuple[Leaf, ...]) -> None:
        measured = [leaf.path for leaf in leaves if leaf.path and not _exactly_one(leaf.path)]
        self.constant = sum(1 if leaf.path else leaf.units for leaf in leaves) - len(measured)
        self.paths = tuple(measured)

    def units(self, sizes: DataSizes) -> int:
        return self.constant + sum(sizes.units(path) for path in self.paths)

    def most(self, most: Mapping[str, int]) -> int | None:
        if not all(path[0] in most for path in self.paths):
            return None
        return self.constant + sum(most[path[0]] for path in self.paths)


class Plan:
    """A formula's budget check, prepared once per source (plan_of, cached like the engines'
    compiled programs), so that checking a task costs a few multiplications over sizes measured
    once per task (DataSizes) and shared by every formula.

    Without comprehensions, `estimate` is linear in the units of the paths the formula names, plus
    the products of contains()/matches() operands:

        work = constant + Σ coefficient × units(path) + Σ weight × (a + Σ units) × (b + Σ units)

    and the plan keeps exactly those terms (paths that always measure 1 unit, NUMBERS and
    NUMBER_MAPS, are folded into the constant), so `cost` equals `estimate` for every task. A
    formula with comprehensions is bounded by lengths and largest elements, not only units: its
    plan runs `estimate` itself on the shared sizes."""

    __slots__ = ("constant", "loops", "products", "shape", "terms")

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.loops = bool(shape.loops)
        context = shape.outside
        depth = MAX_FORMULA_DEPTH
        walking = W_WALK * min(context.operators, depth) + W_HELPER * min(context.helpers, depth)
        coefficients: dict[tuple[str, ...], int] = {}
        constant = len(context.leaves) + W_REGEX * context.patterns
        for name in shape.names:
            coefficients[(name,)] = coefficients.get((name,), 0) + W_CONVERT
        for leaf in context.leaves:
            if leaf.path:
                coefficients[leaf.path] = coefficients.get(leaf.path, 0) + walking
            else:
                constant += walking * leaf.units
        terms = []
        for path, coefficient in coefficients.items():
            if _exactly_one(path):
                constant += coefficient
            else:
                terms.append((path, coefficient))
        self.terms: _Terms = tuple(terms)
        self.constant = constant
        self.products = tuple((_Sum(a.leaves), _Sum(b.leaves)) for a, b in context.quadratic)

    def split(self, most: Mapping[str, int]) -> tuple[int, _Terms]:
        """For a formula without comprehensions or quadratic calls: the bound's part over the
        variables `most` bounds (at their most), and the terms left to measure per task."""
        work = self.constant + sum(c * most[p[0]] for p, c in self.terms if p[0] in most)
        return work, tuple((p, c) for p, c in self.terms if p[0] not in most)

    def cost(self, sizes: DataSizes) -> Cost:
        """The same bound as `estimate(self.shape, sizes)`."""
        if self.loops:
            return estimate(self.shape, sizes)
        work = self.constant
        for path, coefficient in self.terms:
            work += coefficient * sizes.units(path)
        for a, b in self.products:
            work += W_QUADRATIC * a.units(sizes) * b.units(sizes)
        return Cost(work, 0, 0)

    def most(self, most: Mapping[str, int]) -> int | None:
        """An upper bound on the work of every task whose variables each measure at most
        `most[name]` units (a path below a variable measures no more than the variable); None
        when the formula has comprehensions or names a variable `most` does not bound."""
        if self.loops or not all(path[0] in most for path, _c in self.terms):
            return None
        work = self.constant + sum(c * most[path[0]] for path, c in self.terms)
        for a, b in self.products:
            left, right = a.most(most), b.most(most)
            if left is None or right is None:
                return None
            work += W_QUADRATIC * left * right
        return work


@functools.lru_cache(maxsize=4096)
def plan_of(source: str) -> Plan:
    return Plan(shape_of(source))


def fits(cost: Cost) -> bool:
    return cost.iterations <= MAX_ITERATIONS and cost.work <= WORK_UNITS


def check_budget(source: str, sizes: DataSizes) -> Cost:
    """The formula's bound; raises BudgetExceededError when it does not fit."""
    cost = plan_of(source).cost(sizes)
    if not fits(cost):
        raise BudgetExceededError(BUDGET_EXCEEDED)
    return cost


class FeeBudgets:
    """The budget checks of one tuple of fee formulas (in fees.COMPONENTS order), prepared once
    per tuple by the evaluator, so that a task's check measures each value once (DataSizes) and
    then costs a few multiplications per formula. `most` bounds some variables for every task
    (pricing._most_units: the prices, the resources, the numbers):

    - a formula without comprehensions whose bound over `most` fits (`usage_seconds *
      resources[0].price_per_hour / 3600`, `inference_fee / 10`) is not checked per task;
    - another formula without comprehensions or contains()/matches() keeps the part of its bound
      over `most` as one number, and measures only the rest per task (`text_tokens(outputs)`
      measures the outputs): when that upper bound fits, the formula fits; only when it does not
      is the exact bound computed, so the answer is always the exact one;
    - the rest (comprehensions, quadratic calls) get Plan.cost on the shared sizes.

    When a task's variables exceed `most` (more resources than the input limits allow: a
    PricingInput does not count them itself), every formula gets the exact bound."""

    __slots__ = ("checked", "compiles", "every")

    def __init__(
        self, sources: Sequence[str | None], compiles: Sequence[bool], most: Mapping[str, int]
    ) -> None:
        self.compiles = all(compiles)
        every: list[tuple[int, Plan, tuple[int, _Terms] | None]] = []
        checked = []
        for index, (source, compiled) in enumerate(zip(sources, compiles, strict=True)):
            if source is None or not compiled:
                continue  # a formula that does not compile is left to report its compile error
            plan = plan_of(source)
            bound = plan.most(most)
            quick = None if plan.loops or plan.products else plan.split(most)
            every.append((index, plan, quick))
            if bound is None or bound > WORK_UNITS:
                checked.append((index, plan, quick))
        self.every = tuple(every)
        self.checked = tuple(checked)

    def over(self, variables: Mapping[str, Any], within_most: bool = True) -> set[int] | None:
        """Indexes of the formulas whose bound exceeds their own budget; None when every formula
        compiles and fits, and all of them together stay inside one engine evaluation's limits
        (so the single-program fast path may run them). `within_most`: the task's variables
        stay within the `most` the budgets were prepared with."""
        entries = self.checked if within_most else self.every
        over: set[int] = set()
        iterations = copies = 0
        if entries:
            sizes = DataSizes(variables)
            for index, plan, quick in entries:
                if quick is not None and within_most:
                    bound, terms = quick
                    for path, coefficient in terms:
                        bound += coefficient * sizes.units(path)
                    if bound <= WORK_UNITS:
                        continue  # fits, without comprehensions: no iterations, no copies
                cost = plan.cost(sizes)
                if fits(cost):
                    iterations += cost.iterations
                    copies += cost.copies
                else:
                    over.add(index)
        if not self.compiles or over:
            return over
        if iterations >= ENGINE_ITERATION_LIMIT or copies > SHARED_ARENA_COPIES:
            return over
        return None


__all__ = [
    "BUDGET_EXCEEDED",
    "ENGINE_ITERATION_LIMIT",
    "MAX_ITERATIONS",
    "SHARED_ARENA_COPIES",
    "WORK_UNITS",
    "BudgetExceededError",
    "Cost",
    "DataSizes",
    "FeeBudgets",
    "Plan",
    "Shape",
    "check_budget",
    "estimate",
    "fits",
    "plan_of",
    "shape_of",
    "units",
]
