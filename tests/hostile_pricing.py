"""The hostile pricing corpus: formulas and data an attacker or a careless author could
publish, each within the input limits (docs/limits.md). Shared by the tests (every case prices, with an
error on the heavy components at worst) and by bench/ (the slowest case's wall time and memory).

`expect` names the components that must carry `evaluation budget exceeded`; every other component
must price without error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from usage_pricing import AppPricing, OutputMeta, PricingInput
from usage_pricing.core.limits import MAX_META_ITEMS
from usage_pricing.pricing.cel.budget import fits, plan_of
from usage_pricing.pricing.cel.budget_sizes import DataSizes

FIVE_FILTERS = " + ".join(["size(outputs.filter(o, o.type == 'image'))"] * 5)
ONE_FILTER = "size(outputs.filter(o, o.type == 'image'))"
EIGHT_FILTERS = " + ".join(["size(outputs.filter(o, o.type == 'image'))"] * 8)
BIG = "x" * 50_000


@dataclass(frozen=True)
class HostileCase:
    name: str
    pricing: dict[str, Any]
    outputs: int = 0
    output_type: str = "image"
    task_inputs: dict[str, Any] = field(default_factory=dict)
    expect: frozenset[str] = frozenset()
    inputs: int = 0

    def app_pricing(self) -> AppPricing:
        return AppPricing.model_validate(self.pricing)

    def output_meta(self) -> dict[str, Any]:
        return {
            "inputs": [{"type": "text", "tokens": 10}] * self.inputs,
            "outputs": [{"type": self.output_type}] * self.outputs,
        }

    def task(self) -> PricingInput:
        return PricingInput(
            output_meta=OutputMeta.model_validate(self.output_meta()),
            task_inputs=self.task_inputs,
            elapsed_ms=1000,
        )


LITERAL_1990 = "[" + ",".join(["1"] * 1990) + "]"


def largest_fitting_outputs(source: str) -> int:
    """The most image outputs (up to the input limit) over which `source` fits its budget,
    from the budget itself (bisection: the bound grows with the number of outputs)."""
    plan = plan_of(source)

    def fits_over(outputs: int) -> bool:
        variables = HostileCase("", {}, outputs=outputs).task().cel_variables({})
        return fits(plan.cost(DataSizes(variables)))

    low, high = 0, MAX_META_ITEMS
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits_over(middle) else (low, middle - 1)
    return low


# A list-building comprehension costs quadratically in its list (budget.W_ACCUMULATE): one filter
# over this many images is the heaviest formula of its kind that fits (~610, below the 1,000 the
# input limits allow).
ONE_FILTER_FITS = largest_fitting_outputs(ONE_FILTER)

CORPUS: tuple[HostileCase, ...] = (
    HostileCase(
        "an indexed receiver hides 12,000 iterations from a plain-path bound; a neighbour fits",
        {
            "inference_expression": 'size(task_inputs["l"].map(x, x))',
            "resource_expression": "size(outputs.map(o, o)) + 7",
        },
        outputs=10,
        task_inputs={"l": [1] * 12_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "get() as a receiver over 20,000 items",
        {"inference_expression": "size(get(task_inputs, 'l', []).map(x, x * 2))"},
        task_inputs={"l": [1] * 20_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "dyn() as a receiver over 20,000 items",
        {"inference_expression": "size(dyn(task_inputs).l.map(x, x * 2))"},
        task_inputs={"l": [1] * 20_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a 1,990-element list literal mapping to 240,000-character strings",
        {"inference_expression": f"size({LITERAL_1990}.map(x, task_inputs.s + task_inputs.s))"},
        task_inputs={"s": "a" * 120_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a list handed back by a map() body hides the next comprehension's 9,000 steps",
        {
            "inference_expression": (
                "size([1].map(x, task_inputs.big)[0].map(y, task_inputs.s + task_inputs.s))"
            )
        },
        task_inputs={"big": [0] * 9000, "s": "a" * 100_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "map keys far longer than their values",
        {
            "inference_expression": " + ".join(
                ["size(task_inputs.m.map(k, " + "+".join(["k"] * 20) + ")[0])"] * 8
            )
        },
        task_inputs={"m": {"a" * 240_000: 0}},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "size() of a 230 KB string in every step of exists_one()",
        {
            "inference_expression": "task_inputs.l.exists_one(x, [true][size(task_inputs.s) * 0]) ? 1 : 0"
        },
        task_inputs={"l": [0] * 8500, "s": "a" * 230_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "an indexed receiver building 120 KB per step (an out-of-memory kill at 512 MB)",
        {"inference_expression": 'size(task_inputs["l"].map(x, task_inputs.s + task_inputs.s))'},
        task_inputs={"l": [1] * 9000, "s": "a" * 60_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "five filters in two formulas over 1,000 images (a shared iteration budget lost a task)",
        {"inference_expression": FIVE_FILTERS, "royalty_expression": FIVE_FILTERS},
        outputs=1000,
        expect=frozenset({"inference", "royalty"}),
    ),
    HostileCase(
        "five filters over 999 images: the same answer one item below the engine's limit",
        {"inference_expression": FIVE_FILTERS, "royalty_expression": FIVE_FILTERS},
        outputs=999,
        expect=frozenset({"inference", "royalty"}),
    ),
    HostileCase(
        f"one filter over the most images that fit ({ONE_FILTER_FITS}) in each of the five formulas",
        {f"{c}_expression": ONE_FILTER for c in ("resource", "inference", "royalty", "partner")}
        | {"total_expression": ONE_FILTER},
        outputs=ONE_FILTER_FITS,
    ),
    HostileCase(
        "one image more than fits, in each of the five formulas",
        {f"{c}_expression": ONE_FILTER for c in ("resource", "inference", "royalty", "partner")}
        | {"total_expression": ONE_FILTER},
        outputs=ONE_FILTER_FITS + 1,
        expect=frozenset({"resource", "inference", "royalty", "partner", "total"}),
    ),
    HostileCase(
        "one filter over 1,000 images in each of the five formulas (cel-expr copies: ~50 ms each)",
        {f"{c}_expression": ONE_FILTER for c in ("resource", "inference", "royalty", "partner")}
        | {"total_expression": ONE_FILTER},
        outputs=1000,
        expect=frozenset({"resource", "inference", "royalty", "partner", "total"}),
    ),
    HostileCase(
        "eight filters in every fee formula over 1,000 images",
        {f"{c}_expression": EIGHT_FILTERS for c in ("resource", "inference", "royalty", "partner")},
        outputs=1000,
        expect=frozenset({"resource", "inference", "royalty", "partner"}),
    ),
    HostileCase(
        "a comprehension over a 10,000-item task_inputs list",
        {
            "inference_expression": "size(task_inputs.l.filter(x, x > 0))",
            "royalty_expression": "7",
        },
        task_inputs={"l": [1] * 10_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a filter over a 5,000-item task_inputs list (cel-expr copies its result every step)",
        {"inference_expression": "size(task_inputs.l.filter(x, x > 0))"},
        task_inputs={"l": [1] * 5_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "exists() over a 9,000-item task_inputs list fits",
        {"inference_expression": "task_inputs.l.exists(x, x < 0) ? 1 : 2"},
        task_inputs={"l": [1] * 9_000},
    ),
    HostileCase(
        "string concatenation of a 50,000-character input in a map over 1,000 outputs",
        {
            "inference_expression": "size(outputs.map(o, task_inputs.s + task_inputs.s + 'x'))",
            "royalty_expression": "size(outputs)",
        },
        outputs=1000,
        task_inputs={"s": BIG},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "list concatenation in a map over 1,000 outputs",
        {"inference_expression": "size(outputs.map(o, outputs + outputs + outputs))"},
        outputs=1000,
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "contains() of a 50,000-character input in a filter",
        {
            "inference_expression": (
                "size(task_inputs.l.filter(x, task_inputs.s.contains(task_inputs.t)))"
            )
        },
        task_inputs={"l": list(range(1000)), "s": BIG, "t": "x" * 20_000 + "y"},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "contains() of one large input in another, outside any comprehension",
        {"inference_expression": "task_inputs.s.contains(task_inputs.t) ? 1 : 2"},
        task_inputs={"s": BIG, "t": "x" * 20_000 + "y"},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a chain of 25 concatenations of a 50,000-character input",
        {"inference_expression": "size(" + " + ".join(["task_inputs.s"] * 25) + ")"},
        task_inputs={"s": BIG},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a list helper over 1,000 inputs in every iteration of a map",
        {"inference_expression": "sum(outputs.map(o, text_tokens(inputs)))"},
        outputs=1000,
        inputs=1000,
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "a list helper over 100 inputs in a map over 20 outputs fits",
        {"inference_expression": "sum(outputs.map(o, text_tokens(inputs)))"},
        outputs=20,
        inputs=100,
    ),
    HostileCase(
        "the size of a 50,000-character input fits",
        {
            "inference_expression": "size(task_inputs.s) * 2 + size(get_string(task_inputs, 's', ''))"
        },
        task_inputs={"s": BIG},
    ),
    HostileCase(
        "membership in a 10,000-item list in a filter over 1,000 outputs",
        {"inference_expression": "size(outputs.filter(o, o.type in task_inputs.l))"},
        outputs=1000,
        task_inputs={"l": ["video"] * 10_000},
        expect=frozenset({"inference"}),
    ),
    HostileCase(
        "equality of two 1,000-item lists, twice",
        {"inference_expression": " + ".join(["(outputs == inputs ? 1 : 0)"] * 2)},
        outputs=1000,
        inputs=1000,
    ),
)

__all__ = ["CORPUS", "ONE_FILTER_FITS", "HostileCase", "largest_fitting_outputs"]
