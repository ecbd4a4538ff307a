"""The interface both CEL engines implement, and the compile cache they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from usage_pricing.core.errors import FormulaError
from usage_pricing.pricing.cel.declarations import Scope

COMPILE_CACHE_SIZE = 4096


class CelEngine(Protocol):
    name: str

    def compile(self, source: str, scope: Scope) -> Any:
        """A program for `source` in `scope`, compiled once per process; raises FormulaError."""

    def bind(self, task_variables: Mapping[str, Any]) -> Any:
        """Convert one task's variables once, for the several evaluations that follow."""

    def evaluate(self, program: Any, scope: Scope, bound: Any, fees: Mapping[str, int]) -> Any:
        """Evaluate to a plain Python value; raises FormulaError."""

    def evaluate_fees_at_once(
        self,
        sources: Sequence[str | None],
        task_variables: Mapping[str, Any],
        defaults: Sequence[int],
    ) -> list[int] | None:
        """Every fee in one evaluation when the engine can do that and nothing fails;
        None means "use the staged path", which is the reference behaviour."""


def compile_cache(
    compile_uncached: Callable[[str, Scope], Any],
) -> Callable[[str, Scope], Any]:
    """Cache programs and compile errors alike by (source, scope): a bad formula published once
    is not re-parsed on every task."""

    @lru_cache(maxsize=COMPILE_CACHE_SIZE)
    def cached(source: str, scope: Scope) -> Any:
        try:
            return compile_uncached(source, scope)
        except FormulaError as error:
            return error

    def compile_(source: str, scope: Scope) -> Any:
        result = cached(source, scope)
        if isinstance(result, FormulaError):
            raise result
        return result

    compile_.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return compile_
