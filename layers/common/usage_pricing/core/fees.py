"""The fee components of a price (docs/pricing.md, docs/billing.md, docs/api.md), defined once.

Everything that names a fee derives it from `FEES` (and `TOTAL`) here: the CEL declarations (each
formula's scope and the fee variables later formulas see), the evaluator's order and defaults,
`AppPricing`'s formula fields, the pricing result and preview, the billing record and the task
cost, the platform defaults and their settings, the fee groups of `group_by=fee` and of the
backtest's `per_fee`, and the audit. Adding a component is one more `FeeComponent` in `FEES`
(evaluated in tuple order, before the total); its fields appear in every model, request and
response, and its charged share in every fee grouping. A component with a PLATFORM default reads
`PLATFORM_<NAME>_FEE` from the environment (0 when unset); template.yaml passes the three it
ships with as parameters.

No pydantic and no other layer module is imported here: the aggregate schema and the CEL
declarations import this module on handlers' cold paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple


class Default(StrEnum):
    """What an empty formula charges."""

    RESOURCE_TIME = "resource time"  # Σ rate × time over the task's resources, rounded once
    PLATFORM = "platform"  # the deployment's platform default (PLATFORM_<NAME>_FEE), shipped 0
    SUM = "sum"  # the total only: the sum of every fee


class FeeComponent(NamedTuple):
    """One figure of a task's price, computed by one formula.

    name        the formula's scope, the fee group in `group_by=fee`, the backtest's per_fee key
    field       the CEL variable later formulas read it as, and its attribute on the pricing
                result, the preview, the billing record (and its DynamoDB item) and the task cost
    expression  its formula's field on AppPricing and the pricing PATCH
    default     what an empty formula charges
    """

    name: str
    field: str
    expression: str
    default: Default
    description: str

    @property
    def platform_setting(self) -> str:
        """The environment variable of a PLATFORM default."""
        return f"PLATFORM_{self.name.upper()}_FEE"


FEES: tuple[FeeComponent, ...] = (
    FeeComponent(
        "resource",
        "resource_fee",
        "resource_expression",
        Default.RESOURCE_TIME,
        "Compute: default Σ resource rate × usage time.",
    ),
    FeeComponent(
        "inference",
        "inference_fee",
        "inference_expression",
        Default.PLATFORM,
        "Usage: tokens, images, seconds of media.",
    ),
    FeeComponent(
        "royalty",
        "royalty_fee",
        "royalty_expression",
        Default.PLATFORM,
        "The app author's royalty.",
    ),
    FeeComponent(
        "partner",
        "partner_fee",
        "partner_expression",
        Default.PLATFORM,
        "A partner's share.",
    ),
)
TOTAL = FeeComponent(
    "total", "total", "total_expression", Default.SUM, "What the task costs: default Σ fees."
)
# Evaluation order: each formula sees the fields of the fees before it (the total sees them all).
COMPONENTS: tuple[FeeComponent, ...] = (*FEES, TOTAL)
FEE_FIELDS: tuple[str, ...] = tuple(fee.field for fee in FEES)
PLATFORM_FEES: tuple[FeeComponent, ...] = tuple(f for f in FEES if f.default is Default.PLATFORM)

# The fee groups of a charge (group_by=fee, the backtest's per_fee): the charged share of each fee,
# and the adjustment, which is what the fees do not explain (a minimum charge in total_expression,
# say), so the groups of a charge always add up to what was charged.
ADJUSTMENT = "adjustment"
FEE_GROUPS: tuple[str, ...] = (*(fee.name for fee in FEES), ADJUSTMENT)


def component(name: str) -> FeeComponent:
    """A component by name ("resource") or field ("resource_fee")."""
    for candidate in COMPONENTS:
        if name in (candidate.name, candidate.field):
            return candidate
    raise KeyError(name)


def charged_shares(fees: Mapping[str, int], total: int, charged: int) -> dict[str, int]:
    """The charged share of each fee group of one charge, keyed by FEE_GROUPS.

    `fees` maps each fee's name to its value. A discount scales every fee by charged / total
    (rounded down), so a failed task (charged 0) has no share; whatever the shares do not explain
    (charged minus the four) is the adjustment. The groups always add up to `charged`."""
    if charged == 0 or total <= 0:
        shares = {fee.name: 0 for fee in FEES}
    elif charged == total:
        shares = {fee.name: fees[fee.name] for fee in FEES}
    else:
        shares = {fee.name: fees[fee.name] * charged // total for fee in FEES}
    shares[ADJUSTMENT] = charged - sum(shares.values())
    return shares


NO_DEFAULT: Any = object()


def declare_fields(
    namespace: dict[str, Any],
    annotation: Any,
    default: Callable[[FeeComponent], Any] | Any = NO_DEFAULT,
    *,
    components: Iterable[FeeComponent] = FEES,
    attribute: Callable[[FeeComponent], str] = lambda fee: fee.field,
) -> None:
    """Declare one model field per component, in order, from inside a class body:

        class TaskCost(BaseModel):
            completed_at: str
            declare_fields(vars(), FeeView, components=COMPONENTS)
            discount: FeeView

    adds `resource_fee: FeeView`, … `total: FeeView` between the two, exactly as if they were
    written out (pydantic reads the class namespace's annotations in order; modules that call
    this use `from __future__ import annotations`, so the class body keeps `__annotations__`).
    `default` is a value, or a callable from the component to one (a fresh `Field` each). The
    declared fields are invisible to mypy: layer code reaches them through this module."""
    annotations = namespace.setdefault("__annotations__", {})
    for fee in components:
        name = attribute(fee)
        annotations[name] = annotation
        if default is not NO_DEFAULT:
            namespace[name] = default(fee) if callable(default) else default


__all__ = [
    "ADJUSTMENT",
    "COMPONENTS",
    "FEES",
    "FEE_FIELDS",
    "FEE_GROUPS",
    "PLATFORM_FEES",
    "TOTAL",
    "Default",
    "FeeComponent",
    "charged_shares",
    "component",
    "declare_fields",
]
