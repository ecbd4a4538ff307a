"""Evaluating an AppPricing (docs/pricing.md): resource → inference → royalty → partner → total,
each
later formula seeing the earlier fees; a failing formula is charged 0 and reported on its
component, never aborting the others. The model and its rules are usage_pricing.pricing.model."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from usage_pricing.core.errors import FormulaError
from usage_pricing.core.fees import (
    COMPONENTS,
    FEES,
    Default,
    FeeComponent,
)
from usage_pricing.core.limits import (
    MAX_PRICE_NAME,
    MAX_PRICES,
    MAX_RESOURCES,
)
from usage_pricing.core.money import FEE_OVERFLOWS, INT64_MAX, FeeValueError, fee_from_result
from usage_pricing.core.views import Description, Fee
from usage_pricing.pricing.cel import FEE_SCOPES, CelEngine, Scope
from usage_pricing.pricing.cel.budget import BUDGET_EXCEEDED, NUMBERS, FeeBudgets
from usage_pricing.pricing.cel.budget_sizes import DataSizes
from usage_pricing.pricing.model import (
    AppPricing,
    PlatformDefaults,
    description_source,
)
from usage_pricing.usage.meta import OutputMeta
from usage_pricing.usage.meters import Resource, default_resource_fee, usage_seconds_from_ms


class PricingInput:
    """What one task reports: its metadata, the compute it ran on, its time and its inputs.
    (A plain class, like the other value records here: see errors.py on dataclasses.)"""

    __slots__ = ("elapsed_ms", "output_meta", "resources", "task_inputs")

    def __init__(
        self,
        output_meta: OutputMeta | None = None,
        resources: Sequence[Resource] = (),
        elapsed_ms: int = 0,
        task_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        self.output_meta = OutputMeta() if output_meta is None else output_meta
        self.resources = resources
        self.elapsed_ms = elapsed_ms
        self.task_inputs: Mapping[str, Any] = {} if task_inputs is None else task_inputs

    def _key(self) -> tuple[Any, ...]:
        return (self.output_meta, tuple(self.resources), self.elapsed_ms, self.task_inputs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PricingInput):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # task_inputs is a mapping

    def __repr__(self) -> str:
        return (
            f"PricingInput(output_meta={self.output_meta!r}, resources={self.resources!r},"
            f" elapsed_ms={self.elapsed_ms!r}, task_inputs={self.task_inputs!r})"
        )

    @property
    def usage_seconds(self) -> int:
        return usage_seconds_from_ms(self.elapsed_ms)

    def cel_variables(self, prices: Mapping[str, int]) -> dict[str, Any]:
        meta = self.output_meta.to_cel()
        return {
            "prices": prices,
            "output_meta": meta,
            "inputs": meta["inputs"],
            "outputs": meta["outputs"],
            "task_inputs": self.task_inputs,
            "resources": [r.to_cel() for r in self.resources],
            "usage_seconds": self.usage_seconds,
            "elapsed_seconds": self.elapsed_ms / 1000,
            "elapsed_ms": self.elapsed_ms,
        }


_FIELD_POSITION = {component.field: index for index, component in enumerate(COMPONENTS)}


class PricingResult:
    """Every component's fee, in the order of fees.COMPONENTS (the total last), and the rendered
    description. `result.inference_fee` reads a component by its field."""

    __slots__ = ("description", "fees")

    def __init__(self, fees: tuple[Fee, ...], description: Description) -> None:
        if len(fees) != len(COMPONENTS):
            raise ValueError(f"expected {len(COMPONENTS)} fees, got {len(fees)}")
        self.fees = fees
        self.description = description

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PricingResult):
            return NotImplemented
        return (self.fees, self.description) == (other.fees, other.description)

    def __hash__(self) -> int:
        return hash((self.fees, self.description))

    def __repr__(self) -> str:
        return f"PricingResult(fees={self.fees!r}, description={self.description!r})"

    def fee(self, component: FeeComponent) -> Fee:
        return self.fees[COMPONENTS.index(component)]

    @property
    def total(self) -> Fee:
        return self.fees[-1]

    def __getattr__(self, name: str) -> Fee:
        # Only called for names that are not attributes; never for the slots themselves.
        position = _FIELD_POSITION.get(name)
        if position is None:
            raise AttributeError(name)
        fees: tuple[Fee, ...] = object.__getattribute__(self, "fees")
        return fees[position]

    @property
    def errors(self) -> dict[str, str]:
        found = {
            c.field: fee.error
            for c, fee in zip(COMPONENTS, self.fees, strict=True)
            if fee.error is not None
        }
        if self.description.error:
            found["description"] = self.description.error
        return found


SUM_OVERFLOWS = "the sum of the fees overflows int64"


def _checked_defaults(defaults: list[int]) -> list[Fee]:
    """The default fees and their sum, each within int64 or an error on that figure."""
    fees = [Fee(v) if v <= INT64_MAX else Fee(0, FEE_OVERFLOWS) for v in defaults]
    total = sum(fee.value for fee in fees)
    fees.append(Fee(total) if total <= INT64_MAX else Fee(0, SUM_OVERFLOWS))
    return fees


@functools.cache
def _most_units() -> dict[str, int]:
    """The most budget units each bounded variable can hold, whatever the task: the prices
    (MAX_PRICES names of at most MAX_PRICE_NAME characters, validated as ints), the resources
    (MAX_RESOURCES of them, their strings bounded by Resource; checked per task, since a
    PricingInput does not count them itself) and the numbers. The task's metadata lists and
    task_inputs are not bounded here: they are measured per task."""
    widest = Resource(
        name="n" * 128, type="gpu", tier="private", model="m" * 128, price_per_hour=1
    ).to_cel()
    sizes = DataSizes(
        {
            "prices": {f"{i:0{MAX_PRICE_NAME}d}": 0 for i in range(MAX_PRICES)},
            "resources": [widest] * MAX_RESOURCES,
        }
    )
    return {
        "prices": sizes.measure(("prices",)).units,
        "resources": sizes.measure(("resources",)).units,
        **dict.fromkeys(NUMBERS, 1),
    }


class PricingEvaluator:
    """Prices tasks with one engine. Programs are cached by the engine; rendered descriptions
    are cached here, since they depend only on the description and the prices."""

    def __init__(self, engine: CelEngine, defaults: PlatformDefaults | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or PlatformDefaults()
        self._render = lru_cache(maxsize=1024)(self._render_uncached)
        self._budgets = lru_cache(maxsize=1024)(self._budgets_uncached)

    def price(
        self,
        pricing: AppPricing,
        task: PricingInput,
        platform: PlatformDefaults | None = None,
    ) -> PricingResult:
        """Price one task. `platform`: the platform defaults to charge for empty formulas, when
        not this deployment's (a record is priced again with those it was billed with)."""
        sources = pricing.fee_sources()
        platform = platform or self.defaults
        # A component's default is charged only when its formula is empty: the others' are
        # never read (0 stands in), so they are not computed.
        defaults = [
            0 if source is not None else self._default(fee, task, platform)
            for fee, source in zip(FEES, sources[: len(FEES)], strict=True)
        ]
        values: list[int] | None = None
        if not any(sources):
            # No formulas: the defaults and their sum, without entering CEL at all.
            fees = _checked_defaults(defaults)
        else:
            variables = task.cel_variables(pricing.prices)
            # Checked per task: the resources are the one bounded variable a PricingInput does
            # not count itself (_most_units).
            within_most = len(variables["resources"]) <= MAX_RESOURCES
            over_budget = self._budgets(tuple(sources)).over(variables, within_most)
            if over_budget is None and max(defaults) <= INT64_MAX:
                # Every formula fits its own budget and together they stay inside the engine's
                # per-evaluation limit: the single program prices exactly as each formula alone.
                values = self.engine.evaluate_fees_at_once(sources, variables, defaults)
            if values is not None:
                fees = [Fee(v) for v in values]
            else:
                fees = self._price_staged(sources, variables, defaults, over_budget or frozenset())
        return PricingResult(fees=tuple(fees), description=self.render_description(pricing))

    def _budgets_uncached(self, sources: tuple[str | None, ...]) -> FeeBudgets:
        """The budget checks of these formulas, prepared once (like the engine's programs)."""
        compiles = []
        for scope, source in zip(FEE_SCOPES, sources, strict=True):
            try:
                if source is not None:
                    self.engine.compile(source, scope)
            except FormulaError:
                compiles.append(False)
            else:
                compiles.append(True)
        return FeeBudgets(sources, compiles, _most_units())

    @staticmethod
    def _default(fee: FeeComponent, task: PricingInput, platform: PlatformDefaults) -> int:
        if fee.default is Default.RESOURCE_TIME:
            return default_resource_fee(list(task.resources), task.usage_seconds)
        return platform.value(fee)

    def _price_staged(
        self,
        sources: list[str | None],
        variables: dict[str, Any],
        defaults: list[int],
        over_budget: frozenset[int] | set[int] = frozenset(),
    ) -> list[Fee]:
        unbound = None
        try:
            bound = self.engine.bind(variables)
        except (ValueError, TypeError, OverflowError, RecursionError) as failure:
            # A value the engine cannot represent (the JSON edge refuses these; the evaluator
            # does not rely on every caller going through it).
            bound, unbound = None, f"the task's data cannot be evaluated: {failure}"
        seen: dict[str, int] = {}
        results = []
        for index, (scope, source) in enumerate(zip(FEE_SCOPES, sources, strict=True)):
            error = None
            if index in over_budget:
                value, error = 0, BUDGET_EXCEEDED
            elif source is not None and unbound is not None:
                value, error = 0, unbound
            elif source is not None:
                try:
                    program = self.engine.compile(source, scope)
                    value = fee_from_result(self.engine.evaluate(program, scope, bound, seen))
                except FormulaError as failure:
                    value, error = 0, str(failure)
                except FeeValueError as failure:
                    value, error = 0, str(failure)
            elif index < len(defaults):
                value = defaults[index]
                if value > INT64_MAX:
                    value, error = 0, FEE_OVERFLOWS
            else:
                value = sum(seen.values())
                if value > INT64_MAX:
                    value, error = 0, SUM_OVERFLOWS
            if index < len(FEES):
                seen[FEES[index].field] = value
            results.append(Fee(value, error))
        return results

    def render_description(self, pricing: AppPricing) -> Description:
        # Insertion order is kept in the key: equal prices in another order only cost one more
        # cache entry, while sorting would cost every call.
        return self._render(pricing.description, tuple(pricing.prices.items()))

    def _render_uncached(
        self, description: str, prices: tuple[tuple[str, int], ...]
    ) -> Description:
        source = description_source(description)
        if not source:
            return Description(value="")
        try:
            program = self.engine.compile(source, Scope.DESCRIPTION)
            bound = self.engine.bind({"prices": dict(prices)})
            value = self.engine.evaluate(program, Scope.DESCRIPTION, bound, {})
        except FormulaError as failure:
            return Description(value="", error=str(failure))
        if not isinstance(value, str):
            kind = "null" if value is None else type(value).__name__
            return Description(value="", error=f"description must evaluate to a string, got {kind}")
        return Description(value=value)


__all__ = [
    "PricingEvaluator",
    "PricingInput",
    "PricingResult",
]
