"""The default engine: Google's CEL runtime (cel-expr-python, C++). It type-checks at compile
time against the declared variables and helpers and bounds comprehension work."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings

from usage_pricing.core.errors import FormulaError
from usage_pricing.core.money import INT64_MAX, FeeValueError, fee_from_result
from usage_pricing.pricing.cel.budget import BUDGET_EXCEEDED
from usage_pricing.pricing.cel.declarations import (
    FEE_SCOPES,
    FEE_VARIABLES,
    TASK_VARIABLES,
    Scope,
    variables_for,
)
from usage_pricing.pricing.cel.engine import compile_cache
from usage_pricing.pricing.cel.guard import (
    COMPREHENSION_MACROS,
    Token,
    check_formula,
    max_source_bytes,
    scan,
)
from usage_pricing.pricing.cel.helpers import CONCRETE_KINDS, HELPERS, HelperError

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

# Internal names of the one-evaluation pipeline; the guard rejects "__" names in formulas, so
# no formula can see them.
_FEE_FN = "__fee"
_DEFAULTS = tuple(f"__default_{name}" for name in FEE_VARIABLES)
_AGGREGATES = {
    h.name: h.impl
    for h in HELPERS
    if h.name in ("text_tokens", "image_count", "video_seconds", "audio_seconds")
}
_AGGREGATE_VARIABLES = {
    f"__{helper}_{which}": result
    for helper, result in (
        ("text_tokens", "int"),
        ("image_count", "int"),
        ("video_seconds", "double"),
        ("audio_seconds", "double"),
    )
    for which in ("inputs", "outputs")
}
_LIST_FORMS = (
    (("inputs",), "inputs"),
    (("outputs",), "outputs"),
    (("output_meta", ".", "inputs"), "inputs"),
    (("output_meta", ".", "outputs"), "outputs"),
)


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
        fee_overloads = [
            cel.Overload(f"{_FEE_FN}_{k}", _T.INT, [_TYPES[k]], impl=_fee) for k in CONCRETE_KINDS
        ]
        decls.append(cel.FunctionDecl(_FEE_FN, fee_overloads))
    return decls


def _compile_error(error: Exception) -> FormulaError:
    text = str(error)
    match = _POSITION.search(text)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        return FormulaError(match.group(3), max(line, 0), max(column, 0), phase="compile")
    return FormulaError(_STATUS.sub("", text.splitlines()[0]), phase="compile")


def _runtime_message(error: Exception) -> str:
    text = _STATUS.sub("", str(error).splitlines()[0] if str(error) else type(error).__name__)
    if "budget" in text.lower() or isinstance(error, MemoryError):
        return BUDGET_EXCEEDED
    return text


def _plain(value: Any) -> Any:
    if value.type() == _T.ERROR:
        raise FormulaError(_STATUS.sub("", str(value.value())))
    return value.plain_value()


class _Plan(NamedTuple):
    """A compiled pipeline for one tuple of fee sources and what to feed it."""

    program: Any
    variables: tuple[str, ...]
    aggregates: tuple[tuple[str, str], ...]
    defaults: tuple[int, ...]


class CelExprEngine:
    name = "cel-expr"

    def __init__(self) -> None:
        self._envs: dict[str, Any] = {}
        self.compile = compile_cache(self._compile)
        self._plan = functools.lru_cache(maxsize=1024)(self._plan_uncached)

    def _env(self, scope: str) -> Any:
        env = self._envs.get(scope)
        if env is None:
            if scope == "pipeline":
                variables = {
                    **{k: v for k, v in TASK_VARIABLES.items() if k not in ("inputs", "outputs")},
                    **dict.fromkeys(_DEFAULTS, "int"),
                    **_AGGREGATE_VARIABLES,
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
        try:
            value = program.eval(data=data)
        except (RuntimeError, ValueError, TypeError, OverflowError, MemoryError) as error:
            # The runtime raises (rather than returning an error value) when it stops an
            # evaluation: its iteration limit, or a value it cannot convert. Either is this
            # formula's error, never an exception that escapes the evaluator.
            raise FormulaError(_runtime_message(error)) from None
        return _plain(value)

    def evaluate_fees_at_once(
        self,
        sources: Sequence[str | None],
        task_variables: Mapping[str, Any],
        defaults: Sequence[int],
    ) -> list[int] | None:
        plan = self._plan(tuple(sources))
        if plan is None:
            return None
        data = {name: task_variables[name] for name in plan.variables}
        if plan.aggregates:
            try:
                for which in {w for _, w in plan.aggregates}:
                    sums = _list_aggregates(task_variables[which])
                    for helper in ("text_tokens", "image_count", "video_seconds", "audio_seconds"):
                        data[f"__{helper}_{which}"] = sums[helper]
            except (KeyError, TypeError):
                return None
        for index in plan.defaults:
            data[_DEFAULTS[index]] = defaults[index]
        try:
            result = plan.program.eval(data=data).plain_value()
        except (RuntimeError, ValueError, TypeError, OverflowError, MemoryError):
            return None  # the staged path evaluates each formula alone and reports the error
        # A successful pipeline yields one int per fee component; an error value anything else.
        if type(result) is not list or len(result) != len(FEE_SCOPES):
            return None
        return result

    def _plan_uncached(self, sources: tuple[str | None, ...]) -> _Plan | None:
        try:
            for source, scope in zip(sources, FEE_SCOPES, strict=True):
                if source is not None:
                    self.compile(source, scope)  # the same checks and errors as the staged path
        except FormulaError:
            return None
        prepared = [None if s is None else _prepare(s) for s in sources]
        result_types = [
            None if s is None else self.compile(s, scope).return_type()
            for s, scope in zip(sources, FEE_SCOPES, strict=True)
        ]
        result_kinds = [
            "dyn" if t is None else "int" if t == _T.INT else "double" if t == _T.DOUBLE else "dyn"
            for t in result_types
        ]
        names: set[str] = set()
        aggregates: set[tuple[str, str]] = set()
        for p in prepared:
            if p is not None:
                names |= p[1]
                aggregates |= p[2]
        shorthands = [n for n in ("inputs", "outputs") if n in names]
        variables = {n for n in names if n in TASK_VARIABLES and n not in ("inputs", "outputs")}
        if shorthands:
            variables.add("output_meta")
        source = _pipeline_source(
            [None if p is None else p[0] for p in prepared], result_kinds, shorthands
        )
        try:
            program = self._env("pipeline").compile(source)
        except RuntimeError:
            return None
        return _Plan(
            program=program,
            variables=tuple(sorted(variables)),
            aggregates=tuple(sorted(aggregates)),
            defaults=tuple(i for i, s in enumerate(sources[: len(_DEFAULTS)]) if s is None),
        )


def _list_aggregates(items: list[dict[str, Any]]) -> dict[str, Any]:
    """text_tokens, image_count, video_seconds and audio_seconds of one of the task's own,
    already validated, lists in a single pass (the helpers re-validate every item, since a
    formula can hand them any list)."""
    tokens = images = 0
    video: list[float] = []
    audio: list[float] = []
    for item in items:
        kind = item["type"]
        if kind == "text":
            tokens += item["tokens"]
        elif kind == "image":
            images += item["count"]
        elif kind == "video":
            video.append(item["seconds"])
        elif kind == "audio":
            audio.append(item["seconds"])
    return {
        "text_tokens": tokens,
        "image_count": images,
        "video_seconds": math.fsum(video),
        "audio_seconds": math.fsum(audio),
    }


@functools.lru_cache(maxsize=4096)
def _prepare(source: str) -> tuple[str, frozenset[str], frozenset[tuple[str, str]]]:
    """The formula as the pipeline runs it, the top-level names it references, and the list
    aggregates it uses.

    A list helper applied directly to a task's own list (text_tokens(outputs),
    image_count(output_meta.outputs), ...) becomes a value computed once per task in Python:
    handing a list from C++ to a Python helper costs a full conversion per call. Only referenced
    variables are converted. A mistake here can only surface as an evaluation error, and errors
    fall back to the staged path, which never rewrites."""
    tokens = list(scan(source))
    rewrite = not _binds_a_list_name(tokens)
    out: list[str] = []
    names: set[str] = set()
    aggregates: set[tuple[str, str]] = set()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        top_level = token.kind == "ident" and (index == 0 or tokens[index - 1].kind != "dot")
        calls = index + 1 < len(tokens) and tokens[index + 1].text == "("
        if rewrite and top_level and calls and token.text in _AGGREGATES:
            replaced = False
            for form, which in _LIST_FORMS:
                tail = [t.text for t in tokens[index + 2 : index + 3 + len(form)]]
                if tail == [*form, ")"]:
                    out.append(f"__{token.text}_{which}")
                    aggregates.add((token.text, which))
                    index += 3 + len(form)
                    replaced = True
                    break
            if replaced:
                continue
        if top_level:
            names.add(token.text)
        out.append(token.text)
        index += 1
    return " ".join(out), frozenset(names), frozenset(aggregates)


def _binds_a_list_name(tokens: list[Token]) -> bool:
    """True when a comprehension names its variable inputs, outputs or output_meta, shadowing
    the task's lists: such a formula is not rewritten."""
    for index, token in enumerate(tokens[:-1]):
        if token.text in COMPREHENSION_MACROS and tokens[index + 1].text == "(":
            bound = {t.text for t in tokens[index + 2 : index + 6 : 2]}
            if bound & {"inputs", "outputs", "output_meta"}:
                return True
    return False


def _pipeline_source(
    sources: Sequence[str | None], result_kinds: Sequence[str], shorthands: Sequence[str]
) -> str:
    """One expression that evaluates every fee component in order, each later formula seeing
    the earlier fees under their own names.

    Fees are checked and rounded in CEL where the checker proved the formula's type: an int
    needs its sign checked; a finite double in [0, 2^63) is rounded half away from zero by
    truncating and comparing the exact remainder v - double(int(v)) with 0.5 (exact for every
    double). Everything else, and every value that fails those checks (negative, NaN, ∞), goes
    through __fee, the same Python rounding and checks as the staged path, and a __fee failure
    sends the whole task down the staged path, where the error is reported."""
    names = (*FEE_VARIABLES, "__total")
    stages = []
    for index, (name, source) in enumerate(zip(names, sources, strict=True)):
        if source is not None and result_kinds[index] == "int":
            expr = f"cel.bind(__v, {source}, __v >= 0 ? __v : {_FEE_FN}(__v))"
        elif source is not None and result_kinds[index] == "double":
            expr = (
                f"cel.bind(__v, {source}, __v >= 0.0 && __v < {INT64_MAX}.0"
                " ? cel.bind(__w, int(__v), __v - double(__w) >= 0.5 ? __w + 1 : __w)"
                f" : {_FEE_FN}(__v))"
            )
        elif source is not None:
            expr = f"{_FEE_FN}({source})"
        elif index < len(_DEFAULTS):
            expr = _DEFAULTS[index]
        else:
            # int64 overflow of the sum is a CEL error, which falls back like any other.
            expr = " + ".join(FEE_VARIABLES)
        stages.append((name, expr))
    body = f"[{', '.join(names)}]"
    for name, expr in reversed(stages):
        body = f"cel.bind({name}, {expr}, {body})"
    for shorthand in reversed(shorthands):
        body = f"cel.bind({shorthand}, output_meta.{shorthand}, {body})"
    return body


__all__ = ["CelExprEngine"]
