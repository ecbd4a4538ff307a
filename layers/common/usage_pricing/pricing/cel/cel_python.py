"""The second engine: cel-python (pure Python). ~100x slower than cel-expr and without a type
checker, kept behind the same interface so the helper and formula tables run on two independent
implementations."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError

from usage_pricing.core.errors import FormulaError
from usage_pricing.pricing.cel.cel_python_operators import OPERATORS
from usage_pricing.pricing.cel.declarations import Scope, variables_for
from usage_pricing.pricing.cel.engine import compile_cache
from usage_pricing.pricing.cel.guard import check_formula, max_source_bytes
from usage_pricing.pricing.cel.helpers import HELPERS, Helper, HelperError, call_overloaded

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
    return json_to_cel(value)


def _wrap(helper: Helper) -> Any:
    def call(*args: Any) -> Any:
        if any(isinstance(a, CELEvalError) for a in args):
            return next(a for a in args if isinstance(a, CELEvalError))
        try:
            return to_cel(call_overloaded(helper, tuple(to_plain(a) for a in args)))
        except (HelperError, TypeError, ValueError, ArithmeticError) as error:
            return CELEvalError(str(error))

    return call


_FUNCTIONS = {**OPERATORS, **{helper.name: _wrap(helper) for helper in HELPERS}}


_OPERATORS = {
    "multiplication_mul": "_*_",
    "multiplication_div": "_/_",
    "multiplication_mod": "_%_",
    "addition_add": "_+_",
    "addition_sub": "_-_",
    "relation_eq": "_==_",
    "relation_ne": "_!=_",
    "relation_lt": "_<_",
    "relation_le": "_<=_",
    "relation_gt": "_>_",
    "relation_ge": "_>=_",
    "relation_in": "@in",
}
_TOKEN = re.compile(r"Token\('RULE', '(\w+)'\)")
_CLASS = re.compile(r"<class 'celpy\.celtypes\.(\w+?)Type'>")


def _message(error: BaseException) -> str:
    """cel-python's message in cel-expr's vocabulary, so authors see one wording."""
    if isinstance(error, RecursionError):
        return "formula nests too deeply to evaluate"
    text = str(error.args[0]) if isinstance(error, CELEvalError) and error.args else str(error)
    text = _TOKEN.sub(lambda m: f"'{_OPERATORS.get(m.group(1), m.group(1))}'", text)
    return _CLASS.sub(lambda m: m.group(1).lower(), text) or type(error).__name__


class CelPythonEngine:
    name = "cel-python"

    def __init__(self) -> None:
        self._env = celpy.Environment()
        self.compile = compile_cache(self._compile)

    def _compile(self, source: str, scope: Scope) -> Any:
        check_formula(source, max_bytes=max_source_bytes(scope))
        try:
            ast = self._env.compile(source)
        except CELParseError as error:
            detail = str(error.args[0]).splitlines()[0] if error.args else "syntax error"
            line = getattr(error, "line", None) or 0
            column = getattr(error, "column", None) or 0
            raise FormulaError(
                f"syntax error near {detail!r}", line, column, phase="compile"
            ) from None
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
        except Exception as error:
            # while formatting its own error values); every one is this formula's error.
            raise FormulaError(_message(error)) from None
        if isinstance(result, CELEvalError):
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
