"""The second engine: cel-python (pure Python). ~100x slower than cel-expr and without a type
checker, kept behind the same interface so the helper and formula tables run on two independent
implementations."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import celpy
from celpy import celtypes

from ..errors import FormulaError
from .declarations import Scope, variables_for
from .engine import compile_cache
from .guard import check_formula, max_source_bytes
from .helpers import HELPERS, Helper, HelperError, call_overloaded

# cel-python logs every evaluation error at WARNING; formula errors are reported on their
# component instead.
logging.getLogger("celpy").setLevel(logging.CRITICAL)


def to_plain(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType | bool):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType | int):
        return int(value)
    if isinstance(value, celtypes.DoubleType | float):
        return float(value)
    if isinstance(value, celtypes.StringType | str):
        return str(value)
    if isinstance(value, celtypes.BytesType | bytes):
        return bytes(value)
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    return value


def to_cel(value: Any) -> Any:
    return celpy.json_to_cel(value)


def _wrap(helper: Helper) -> Any:
    def call(*args: Any) -> Any:
        if any(isinstance(a, celpy.CELEvalError) for a in args):
            return next(a for a in args if isinstance(a, celpy.CELEvalError))
        try:
            return to_cel(call_overloaded(helper, tuple(to_plain(a) for a in args)))
        except (HelperError, TypeError, ValueError, ArithmeticError) as error:
            return celpy.CELEvalError(str(error))

    return call


_FUNCTIONS = {helper.name: _wrap(helper) for helper in HELPERS}


def _message(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "formula nests too deeply to evaluate"
    if isinstance(error, celpy.CELEvalError) and error.args:
        return str(error.args[0])
    return str(error) or type(error).__name__


class CelPythonEngine:
    name = "cel-python"

    def __init__(self) -> None:
        self._env = celpy.Environment()
        self.compile = compile_cache(self._compile)

    def _compile(self, source: str, scope: Scope) -> Any:
        check_formula(source, max_bytes=max_source_bytes(scope))
        try:
            ast = self._env.compile(source)
        except celpy.CELParseError as error:
            detail = str(error.args[0]).splitlines()[0] if error.args else "syntax error"
            line = getattr(error, "line", None) or 0
            column = getattr(error, "column", None) or 0
            raise FormulaError(f"syntax error near {detail!r}", line, column, phase="compile") from None
        except RecursionError:
            raise FormulaError("formula nests too deeply to parse", phase="compile") from None
        return self._env.program(ast, functions=_FUNCTIONS)

    def bind(self, task_variables: Mapping[str, Any]) -> dict[str, Any]:
        return {k: to_cel(v) for k, v in task_variables.items()}

    def evaluate(self, program: Any, scope: Scope, bound: Any, fees: Mapping[str, int]) -> Any:
        names = variables_for(scope)
        activation = {k: v for k, v in bound.items() if k in names}
        activation.update((k, celtypes.IntType(v)) for k, v in fees.items() if k in names)
        try:
            result = program.evaluate(activation)
        except (celpy.CELEvalError, RecursionError, TypeError, ValueError, ArithmeticError, KeyError) as error:
            raise FormulaError(_message(error)) from None
        if isinstance(result, celpy.CELEvalError):
            raise FormulaError(_message(result))
        return to_plain(result)

    def evaluate_fees_at_once(
        self,
        sources: Sequence[str | None],
        task_variables: Mapping[str, Any],
        defaults: Sequence[int],
    ) -> list[int] | None:
        return None  # no single-evaluation path: the staged path is already the reference


__all__ = ["CelPythonEngine", "to_plain"]
