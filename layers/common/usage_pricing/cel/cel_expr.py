"""The default engine: Google's CEL runtime (cel-expr-python, C++). It type-checks at compile
time against the declared variables and helpers and bounds comprehension work."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings

from ..errors import FormulaError
from ..money import FeeValueError, fee_from_result
from .declarations import FEE_SCOPES, FEE_VARIABLES, TASK_VARIABLES, Scope, variables_for
from .engine import compile_cache
from .guard import check_formula, max_source_bytes
from .helpers import CONCRETE_KINDS, HELPERS, HelperError

_T = cel.Type
_MAP = _T.Map(_T.STRING, _T.DYN)
_TYPES: dict[str, Any] = {
    "int": _T.INT,
    "double": _T.DOUBLE,
    "string": _T.STRING,
    "bool": _T.BOOL,
    "null": _T.NULL,
    "dyn": _T.DYN,
    "list": _T.List(_T.DYN),
    "map": _MAP,
    "list<map>": _T.List(_MAP),
    "map<string,int>": _T.Map(_T.STRING, _T.INT),
    "map<string,list<map>>": _T.Map(_T.STRING, _T.List(_MAP)),
}
_POSITION = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): ([^\n]*)")
_STATUS = re.compile(r"^[A-Z_]+: |\s*\[[A-Z_]+\]$")

# Internal names for the one-evaluation pipeline; the guard rejects "__" names in formulas.
_FEE_FN = "__fee"
_DEFAULTS = tuple(f"__default_{name}" for name in FEE_VARIABLES)


def _fee(value: Any) -> int:
    try:
        return fee_from_result(value)
    except FeeValueError as error:
        raise HelperError(str(error)) from None


def _function_decls(*, with_fee: bool) -> list[Any]:
    decls = []
    for helper in HELPERS:
        overloads = []
        for overload in helper.overloads:
            # A dyn parameter is registered once per concrete kind: the runtime dispatches on
            # kinds and does not match a bare dyn.
            choices = [CONCRETE_KINDS if p == "dyn" else (p,) for p in overload.params]
            for kinds in itertools.product(*choices):
                overloads.append(
                    cel.Overload(
                        f"{helper.name}_{'_'.join(kinds)}",
                        _TYPES[overload.result],
                        [_TYPES[k] for k in kinds],
                        impl=helper.impl,
                    )
                )
        decls.append(cel.FunctionDecl(helper.name, overloads))
    if with_fee:
        decls.append(
            cel.FunctionDecl(
                _FEE_FN,
                [cel.Overload(f"{_FEE_FN}_{k}", _T.INT, [_TYPES[k]], impl=_fee) for k in CONCRETE_KINDS],
            )
        )
    return decls


def _compile_error(error: Exception) -> FormulaError:
    text = str(error)
    match = _POSITION.search(text)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        return FormulaError(match.group(3), max(line, 0), max(column, 0), phase="compile")
    return FormulaError(_STATUS.sub("", text.splitlines()[0]), phase="compile")


def _plain(value: Any) -> Any:
    if value.type() == _T.ERROR:
        raise FormulaError(_STATUS.sub("", str(value.value())))
    return value.plain_value()


class CelExprEngine:
    name = "cel-expr"

    def __init__(self) -> None:
        self._envs: dict[Any, Any] = {}
        self.compile = compile_cache(self._compile)
        self._pipelines = compile_cache(self._compile_pipeline)

    def _env(self, scope: Scope | str) -> Any:
        env = self._envs.get(scope)
        if env is None:
            if scope == "pipeline":
                variables = {
                    **{k: v for k, v in TASK_VARIABLES.items() if k not in ("inputs", "outputs")},
                    **dict.fromkeys(_DEFAULTS, "int"),
                }
                env = cel.NewEnv(
                    variables={k: _TYPES[v] for k, v in variables.items()},
                    functions=_function_decls(with_fee=True),
                    extensions=[ext_bindings.ExtBindings()],
                )
            else:
                env = cel.NewEnv(
                    variables={k: _TYPES[v] for k, v in variables_for(Scope(scope)).items()},
                    functions=_function_decls(with_fee=False),
                )
            self._envs[scope] = env
        return env

    def _compile(self, source: str, scope: Scope) -> Any:
        check_formula(source, max_bytes=max_source_bytes(scope))
        try:
            return self._env(scope).compile(source)
        except RuntimeError as error:
            raise _compile_error(error) from None

    def bind(self, task_variables: Mapping[str, Any]) -> Mapping[str, Any]:
        # Conversion to C++ values happens inside eval(); nothing to prepare ahead.
        return task_variables

    def evaluate(self, program: Any, scope: Scope, bound: Any, fees: Mapping[str, int]) -> Any:
        names = variables_for(scope)
        data = {k: v for k, v in bound.items() if k in names}
        data.update((k, v) for k, v in fees.items() if k in names)
        return _plain(program.eval(data=data))

    def _compile_pipeline(self, key: str, _scope: Scope) -> Any:
        try:
            return self._env("pipeline").compile(key)
        except RuntimeError as error:
            raise _compile_error(error) from None

    def evaluate_fees_at_once(
        self,
        sources: Sequence[str | None],
        task_variables: Mapping[str, Any],
        defaults: Sequence[int],
    ) -> list[int] | None:
        try:
            for source, scope in zip(sources, FEE_SCOPES, strict=True):
                if source is not None:
                    self.compile(source, scope)  # same checks and errors as the staged path
            program = self._pipelines(_pipeline_source(sources), Scope.TOTAL)
        except FormulaError:
            return None
        data = {k: v for k, v in task_variables.items() if k not in ("inputs", "outputs")}
        data.update(zip(_DEFAULTS, defaults, strict=True))
        result = program.eval(data=data)
        if result.type() == _T.ERROR:
            return None
        return list(result.plain_value())


def _pipeline_source(sources: Sequence[str | None]) -> str:
    """One expression that evaluates the five fees in order, each rounded and checked by __fee,
    each later formula seeing the earlier fees under their own names."""
    names = (*FEE_VARIABLES, "__total")
    stages = []
    for index, (name, source) in enumerate(zip(names, sources, strict=True)):
        if source is not None:
            expr = f"{_FEE_FN}(\n{source}\n)"
        elif index < len(_DEFAULTS):
            expr = _DEFAULTS[index]
        else:
            expr = f"{_FEE_FN}({' + '.join(FEE_VARIABLES)})"
        stages.append((name, expr))
    body = f"[{', '.join(names)}]"
    for name, expr in reversed(stages):
        body = f"cel.bind({name}, {expr}, {body})"
    return (
        "cel.bind(inputs, output_meta.inputs, cel.bind(outputs, output_meta.outputs, "
        f"{body}))"
    )


__all__ = ["CelExprEngine"]
