"""The two CEL engines agree on generated formulas, and pricing never raises.

Formulas come from a small typed grammar over the pricing helpers (cel/helpers.py HELPERS), the
task and fee variables (cel/declarations.py), int/double/string/bool literals and the operators
+ - * / % == != < <= > >= ?: && || !. Most formulas are well typed; a share mixes types on
purpose (int + string, a dyn value in arithmetic, an undeclared name), where both engines must
fail. Agreement means: the same value of the same type (doubles equal or both NaN), or a
FormulaError from both.

Not generated, because they are documented differences (tests/unit/test_cel_formulas.py
KNOWN_DIFFERENCES): string() of a double (formatting) and uint literals (int + uint).

Also steered around: the disagreements this file found (FIXED_DISAGREEMENTS, now regression
tests, and KNOWN_DISAGREEMENTS, cel-python's missing type checker and lenient lexer). The grammar
never puts a bool into arithmetic or a non-bool into && / ||, never mixes ints and doubles, never
compares a dyn value with a value of another type, keeps ?: branches of one type, and never
divides a double by zero (divisors are guarded). Two classes are recognised after the fact
(known_difference): a formula cel-expr's checker rejects but cel-python evaluates, and
INT64_MIN % -1.

Budget: ENGINE_EXAMPLES (default 200) per property, deadline=None."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from tests.conftest import engine_named, examples
from tests.unit.celcases import FEES, PRICES, TASK
from usage_pricing import (
    INT64_MAX,
    AppPricing,
    AudioMeta,
    FormulaError,
    ImageMeta,
    OutputMeta,
    PricingEvaluator,
    PricingInput,
    PricingResult,
    RawMeta,
    Resource,
    TextMeta,
    VideoMeta,
)
from usage_pricing.core.limits import MAX_FORMULA_BYTES
from usage_pricing.pricing.cel import FEE_SCOPES, FEE_VARIABLES, HELPERS, Scope, variables_for

# 50 under make test, 50 × FUZZ_DEPTH under make fuzz; ENGINE_EXAMPLES overrides both.
EXAMPLES = int(os.environ.get("ENGINE_EXAMPLES", str(examples(50))))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------------
# The grammar. Each strategy yields CEL source of one static type; every compound is
# parenthesised, so precedence never changes what was generated.

LISTS = ("outputs", "inputs", "output_meta.outputs", "output_meta.inputs")
TYPES = ("text", "image", "video", "audio", "raw", "nope")
PRICE_NAMES = (*PRICES, "missing")
INT_VARIABLES = ("usage_seconds", "elapsed_ms")
DOUBLE_VARIABLES = ("elapsed_seconds",)
TASK_INPUT_KEYS = ("steps", "quality", "ratio", "nested", "absent")


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def call(name: str, *args: str) -> str:
    return f"{name}({', '.join(args)})"


def paren(text: str) -> str:
    return f"({text})"


int_literals = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([0, 1, -1, 3600, 1000, 10**6, 10**8, 2**31, 2**53, INT64_MAX, -INT64_MAX]),
).map(lambda n: str(n) if n >= 0 else f"({n})")
double_literals = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.5, 1.5, -2.5, 1e-9, 1e18, 9.3e18, 1e300, -1e300]),
).map(lambda x: repr(x) if x >= 0 else f"({x!r})")
string_literals = st.one_of(
    st.sampled_from(["", "image", "text", "1080p", "a'b", "é", "extra.draft", "nested.flag"]),
    # No raw CR: a known disagreement (KNOWN_DISAGREEMENTS, G). No NUL: a known bug, pinned by
    # test_cel_expr_carries_nul_characters (cel-expr's Python binding cuts strings at a NUL).
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r\x00"),
        max_size=6,
    ),
).map(quote)
bool_literals = st.sampled_from(["true", "false"])
lists = st.sampled_from(LISTS)
type_names = st.sampled_from(TYPES).map(quote)
prices = st.sampled_from(PRICE_NAMES).map(lambda n: f"prices.{n}")
item = st.builds(lambda lst, t: call("first", lst, t), lists, type_names)


def int_leaves(fees: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        int_literals,
        st.sampled_from(INT_VARIABLES + fees),
        prices,
        st.builds(call, st.sampled_from(["text_tokens", "image_count"]), lists),
        st.builds(lambda lst, t: call("count_type", lst, t), lists, type_names),
        st.builds(lambda lst: f"size({lst})", lists),
        st.builds(lambda lst: f"{lst}.size()", lists),
        st.sampled_from(["size(prices)", "size(resources)", "resources[0].count"]),
    )


def double_leaves() -> st.SearchStrategy[str]:
    return st.one_of(
        double_literals,
        st.sampled_from(DOUBLE_VARIABLES),
        st.builds(call, st.sampled_from(["video_seconds", "audio_seconds"]), lists),
    )


def string_leaves() -> st.SearchStrategy[str]:
    return st.one_of(
        string_literals,
        st.sampled_from(["task_inputs.quality", "resources[0].name", "resources[0].model"]),
    )


def bool_leaves() -> st.SearchStrategy[str]:
    return st.one_of(
        bool_literals,
        st.builds(lambda n: paren(f"{quote(n)} in prices"), st.sampled_from(PRICE_NAMES)),
        st.builds(lambda n: f"has(prices.{n})", st.sampled_from(PRICE_NAMES)),
    )


# task_inputs in celcases.TASK, by run-time kind: {"steps": 30, "quality": "hd", "ratio": 1.5,
# "nested": {"flag": True, "name": "x"}}; "absent" is missing.
TASK_INPUT_KINDS = {"steps": "int", "quality": "string", "ratio": "double", "nested": "map"}


def dyn_leaves() -> st.SearchStrategy[tuple[str, str]]:
    """Values whose type is only known at run time (dyn), with the kind they have on TASK:
    task_inputs fields, get(), get_extra(), fields of first(). Never a bool."""
    keys = st.sampled_from(TASK_INPUT_KEYS)
    defaults = st.one_of(
        int_literals.map(lambda d: (d, "int")), string_literals.map(lambda d: (d, "string"))
    )

    def get_(key: str, default: tuple[str, str]) -> tuple[str, str]:
        source = call("get", "task_inputs", quote(key), default[0])
        return source, TASK_INPUT_KINDS.get(key, default[1])

    def get_extra(items: str, key: str, default: tuple[str, str]) -> tuple[str, str]:
        source = call("get_extra", call("first", items, quote("image")), quote(key), default[0])
        return source, "string" if key == "model" else default[1]  # the image's model: "sdxl"

    return st.one_of(
        keys.map(lambda k: (f"task_inputs.{k}", TASK_INPUT_KINDS.get(k, "error"))),
        st.builds(get_, keys, defaults),
        st.builds(get_extra, lists, st.sampled_from(["model", "absent"]), defaults),
        lists.map(lambda lst: (f"{call('first', lst, quote('image'))}.width", "int")),
    )


def expressions(
    fees: tuple[str, ...] = FEE_VARIABLES, max_leaves: int = 12
) -> dict[str, st.SearchStrategy[str]]:
    """Mutually recursive typed strategies: int, double, string, bool, naming the given fees."""

    # Built with st.deferred so each type can use the others.
    def int_expr() -> st.SearchStrategy[str]:
        return st.recursive(int_leaves(fees), extend_int, max_leaves=max_leaves)

    def extend_int(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(
                lambda a, op, b: paren(f"{a} {op} {b}"), inner, st.sampled_from("+-*/%"), inner
            ),
            inner.map(lambda a: paren(f"-{a}")),
            st.builds(lambda c, a, b: paren(f"{c} ? {a} : {b}"), bool_e, inner, inner),
            st.builds(call, st.sampled_from(["min", "max"]), inner, inner),
            st.builds(lambda a, b: call("pixels", a, b), inner, inner),
            st.builds(call, st.sampled_from(["ceil", "floor"]), double_e),
            double_e.map(lambda d: f"int({d})"),
            string_e.map(lambda s: f"int({s})"),
            string_e.map(lambda s: f"size({s})"),
            st.lists(inner, max_size=3).map(lambda xs: call("sum", f"[{', '.join(xs)}]")),
        )

    def double_expr() -> st.SearchStrategy[str]:
        return st.recursive(double_leaves(), extend_double, max_leaves=max_leaves)

    def extend_double(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(
                lambda a, op, b: paren(f"{a} {op} {b}"), inner, st.sampled_from("+-*"), inner
            ),
            # x / 0.0 is a known disagreement (cel-python answers +inf for every sign and 0/0).
            st.builds(lambda a, b: paren(f"{a} / ({b} == 0.0 ? 1.0 : {b})"), inner, inner),
            inner.map(lambda a: paren(f"-{a}")),
            st.builds(lambda c, a, b: paren(f"{c} ? {a} : {b}"), bool_e, inner, inner),
            st.builds(call, st.sampled_from(["min", "max"]), inner, inner),
            st.builds(lambda a, b: call("megapixels", a, b), int_e, int_e),
            int_e.map(lambda n: call("to_cents", n)),
            int_e.map(lambda n: f"double({n})"),
            string_e.map(lambda s: f"double({s})"),
            st.lists(inner, min_size=1, max_size=3).map(
                lambda xs: call("sum", f"[{', '.join(xs)}]")
            ),
        )

    def string_expr() -> st.SearchStrategy[str]:
        return st.recursive(string_leaves(), extend_string, max_leaves=max_leaves // 2)

    def extend_string(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, b: paren(f"{a} + {b}"), inner, inner),
            st.builds(lambda c, a, b: paren(f"{c} ? {a} : {b}"), bool_e, inner, inner),
            st.builds(lambda a, b: call("resolution", a, b), int_e, int_e),
            int_e.map(lambda n: call("to_dollars", n)),
            int_e.map(lambda n: f"string({n})"),  # never string(double): a known difference
            st.builds(
                lambda p, d: call("get_string", "task_inputs", quote(p), d),
                st.sampled_from(["quality", "nested.name", "nested.flag", "absent"]),
                inner,
            ),
            st.builds(lambda lst, t: f"{call('first', lst, t)}.type", lists, type_names),
        )

    def bool_expr() -> st.SearchStrategy[str]:
        return st.recursive(bool_leaves(), extend_bool, max_leaves=max_leaves // 2)

    def extend_bool(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        comparison = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
        same_type = st.one_of(
            st.tuples(int_e, int_e), st.tuples(double_e, double_e), st.tuples(string_e, string_e)
        )
        return st.one_of(
            st.builds(lambda ab, op: paren(f"{ab[0]} {op} {ab[1]}"), same_type, comparison),
            st.builds(
                lambda a, op, b: paren(f"{a} {op} {b}"), inner, st.sampled_from(["&&", "||"]), inner
            ),
            inner.map(lambda a: paren(f"!{a}")),
            st.builds(lambda c, a, b: paren(f"{c} ? {a} : {b}"), inner, inner, inner),
            st.builds(
                lambda p, d: call("get_bool", "task_inputs", quote(p), d),
                st.sampled_from(["nested.flag", "quality", "absent"]),
                inner,
            ),
            st.builds(
                lambda it, d: call("get_bool", it, quote("extra.draft"), d), item, bool_literals
            ),
            st.builds(lambda lst, t: f"{lst}.exists(o, o.type == {t})", lists, type_names),
        )

    int_e = st.deferred(int_expr)
    double_e = st.deferred(double_expr)
    string_e = st.deferred(string_expr)
    bool_e = st.deferred(bool_expr)
    return {"int": int_e, "double": double_e, "string": string_e, "bool": bool_e}


TYPED = expressions()  # every fee, whatever the scope: an undeclared fee must fail on both
# Well-typed formulas that name only the fees their slot can see, one grammar per fee slot.
TYPED_FOR_SLOT = {
    scope: expressions(FEE_VARIABLES[:index]) for index, scope in enumerate(FEE_SCOPES)
}


# Operand kinds that may meet in arithmetic: never a bool, never an int with a double (cel-python
# mixes them, see KNOWN_DISAGREEMENTS); every other pairing must fail on both engines or agree.
COMPATIBLE = {
    "int": ("int", "string"),
    "double": ("double", "string"),
    "string": ("string", "int", "double"),
    "map": ("int", "double", "string"),
    "error": ("int", "double", "string"),
}


def _mixed() -> st.SearchStrategy[str]:
    """Deliberately ill-typed or run-time-typed formulas: both engines must fail alike, or agree.
    Arithmetic only; comparisons and && / || stay in the typed grammar."""
    op = st.sampled_from(["+", "-", "*", "/", "%"])

    def binary(left: str, operator: str, right: str, right_kind: str) -> str:
        if operator == "/" and right_kind == "double":
            # anything / 0.0 is +inf on cel-python, even a string or a map (F)
            right = f"({right} == 0.0 ? 1.0 : {right})"
        return paren(f"{left} {operator} {right}")

    def typed(left: str, right: str) -> st.SearchStrategy[str]:
        return st.builds(lambda a, o, b: binary(a, o, b, right), TYPED[left], op, TYPED[right])

    def with_dyn(dyn: tuple[str, str]) -> st.SearchStrategy[str]:
        source, kind = dyn
        return st.sampled_from(COMPATIBLE[kind]).flatmap(
            lambda other: st.one_of(
                st.builds(lambda o, b: binary(source, o, b, other), op, TYPED[other]),
                st.builds(lambda a, o: binary(a, o, source, kind), TYPED[other], op),
            )
        )

    return st.one_of(
        typed("int", "string"),
        typed("string", "int"),
        typed("double", "string"),
        typed("string", "double"),
        typed("string", "string"),
        dyn_leaves().flatmap(with_dyn),
        dyn_leaves().map(lambda d: d[0]),
        st.sampled_from(["undeclared + 1", "nosuch(1)", "prices.", "1 +", "(", "'unterminated"]),
    )


formulas = st.one_of(*TYPED.values(), _mixed())

# ---------------------------------------------------------------------------------------------
# Agreement


@dataclass(frozen=True)
class KnownCrash:
    """cel-python's evaluate() raised IndexError instead of FormulaError (KNOWN_CRASHES)."""

    source: str


def is_known_crash(error: BaseException) -> bool:
    return isinstance(error, IndexError) and str(error) == "pop from empty list"


def run(engine_name: str, source: str, scope: Scope) -> Any:
    engine = engine_named(engine_name)
    try:
        program = engine.compile(source, scope)
        return engine.evaluate(program, scope, engine.bind(TASK.cel_variables(PRICES)), FEES)
    except FormulaError as error:
        return error
    except IndexError as error:
        if is_known_crash(error):
            return KnownCrash(source)
        raise


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def known_difference(source: str, cel_expr: Any, cel_python: Any) -> bool:
    """Disagreements already reported (KNOWN_DISAGREEMENTS) that the grammar cannot avoid:
    D, cel-expr's checker rejects what cel-python, which has none, evaluates (an ill-typed or
    undeclared name in a branch that never runs, ?: branches of two types); E, INT64_MIN % -1."""
    if not isinstance(cel_expr, FormulaError) or isinstance(cel_python, FormulaError):
        return False
    if cel_expr.phase == "compile" and (
        "no matching overload" in cel_expr.message or "undeclared reference" in cel_expr.message
    ):
        return True
    return "%" in source and "overflow" in cel_expr.message and cel_python == 0


def agree(source: str, scope: Scope = Scope.TOTAL) -> None:
    cel_expr = run("cel-expr", source, scope)
    cel_python = run("cel-python", source, scope)
    if isinstance(cel_python, KnownCrash):
        return  # reported: test_cel_python_crash below
    if isinstance(cel_expr, FormulaError) and isinstance(cel_python, FormulaError):
        return
    if known_difference(source, cel_expr, cel_python):
        return
    assert same(cel_expr, cel_python), (
        f"{source!r} in scope {scope.value}: cel-expr gave {cel_expr!r}, "
        f"cel-python gave {cel_python!r}"
    )


@pytest.fixture(autouse=True, scope="module")
def _warm_engines() -> None:
    """Compile once on each engine first: cel-python raises the recursion limit on first use,
    which Hypothesis would otherwise warn about inside the property."""
    for name in ("cel-expr", "cel-python"):
        run(name, "1 + 1", Scope.TOTAL)


@SETTINGS
@given(source=formulas, scope=st.sampled_from(FEE_SCOPES))
def test_engines_agree_on_generated_formulas(source: str, scope: Scope) -> None:
    agree(source, scope)


# Disagreements the property above found. Each was fixed in cel-python's operators
# (usage_pricing/cel/cel_python_operators.py) and is kept here as a regression test: both engines
# must now agree. Minimal reproducers in Scope.TOTAL over celcases.TASK (task_inputs.steps = 30,
# task_inputs.nested.flag = true, task_inputs.ratio = 1.5).
FIXED_DISAGREEMENTS = [
    # A. arithmetic on bools (a Python bool is an int): now an error on both.
    pytest.param("dyn(true) + 1", id="bool-arithmetic"),
    pytest.param("task_inputs.nested.flag * 100", id="bool-arithmetic-task-input"),
    # B. values of different run-time types: CEL's heterogeneous equality and numeric ordering.
    pytest.param("task_inputs.steps == 'hd'", id="heterogeneous-equality"),
    pytest.param("dyn(1) < 1.5", id="heterogeneous-ordering"),
    pytest.param("dyn(1) in [1.0]", id="heterogeneous-in"),
    # C. int and double mixed at run time: an error on both (money never silently floats).
    pytest.param("task_inputs.ratio * prices.per_image", id="double-times-int"),
    pytest.param("7 / dyn(2.0)", id="int-over-double"),
    # E. INT64_MIN % -1 and INT64_MIN / -1: integer overflow on both.
    pytest.param("(-9223372036854775807 - 1) % -1", id="int64-min-mod-minus-one"),
    pytest.param("(-9223372036854775807 - 1) / -1", id="int64-min-over-minus-one"),
    # F. division by 0.0 follows IEEE 754 on both: -inf, nan, and an error for a string.
    pytest.param("-1.0 / 0.0", id="negative-over-zero"),
    pytest.param("0.0 / 0.0 > 1.0 ? 100 : 0", id="zero-over-zero"),
    pytest.param("dyn('a') / 0.0", id="string-over-zero"),
    # H. && and || take bools only (an absorbing bool on either side still decides).
    pytest.param("task_inputs.steps || false", id="or-on-int"),
    pytest.param("true && 1", id="and-on-int"),
    pytest.param("task_inputs.steps || true", id="or-absorbs-an-int"),
    pytest.param("dyn(1) && false", id="and-absorbs-an-int"),
]


@pytest.mark.parametrize("source", FIXED_DISAGREEMENTS)
def test_fixed_disagreement_stays_fixed(source: str) -> None:
    cel_expr = run("cel-expr", source, Scope.TOTAL)
    cel_python = run("cel-python", source, Scope.TOTAL)
    both_fail = isinstance(cel_expr, FormulaError) and isinstance(cel_python, FormulaError)
    assert both_fail or same(cel_expr, cel_python), (cel_expr, cel_python)


# Known, by design: cel-python has no type checker (D) and a lenient lexer (G). Formulas are
# type-checked with cel-expr when pricing is saved, whichever engine evaluates them, so neither
# reaches billing; the evaluate preview on the cel-python engine can still show them.
KNOWN_DISAGREEMENTS = [
    # D. what cel-expr rejects at compile time evaluates on cel-python when the ill-typed part
    #    never runs, or when ?: branches differ in type, or a static int == double.
    pytest.param("true ? 0 : -'a'", "ill-typed-branch-not-taken", id="ill-typed-branch-not-taken"),
    pytest.param("true ? 0 : undeclared", "undeclared", id="undeclared-in-branch-not-taken"),
    pytest.param("true ? 1 : 'a'", "ternary", id="ternary-mixed-branches"),
    pytest.param("1.5 < 2", "static-mixed-ordering", id="double-less-than-int"),
    # G. a raw carriage return inside a quoted string, and '\' (an escaped quote, so
    #    unterminated), are syntax errors on cel-expr (as in the CEL spec), strings on cel-python.
    pytest.param("'\r'", "lexer", id="raw-cr-in-string"),
    pytest.param("'\\'", "lexer", id="unterminated-backslash-quote"),
]


# Found by test_engines_agree_on_generated_formulas (an earlier deep run): a string holding a NUL
# character loses everything from the NUL on when it crosses cel-expr-python's binding, from
# Python into a formula (task_inputs, metadata extras) or back from a Python helper (get_string,
# get, get_extra). size(task_inputs.prompt) of "a\u0000bc" is 1 on cel-expr and 4 on cel-python.
# A bug, not a design difference: strict, so it fails once it is fixed (then remove the mark
# and the NUL exclusion in string_literals above). Until then no NUL reaches an engine from
# outside: usage_pricing.core.jsonsafe refuses it in every HTTP body and task event (a 400 naming
# the field; a dead letter with its reason).
NUL_CASES = [
    ("size(task_inputs.s)", {"task_inputs": {"s": "a\x00bc"}}),
    ("get_string(task_inputs, 'nested.flag', 'a\x00b')", {"task_inputs": {"nested": {}}}),
]


@pytest.mark.xfail(strict=True, reason="cel-expr-python cuts strings at a NUL (see above)")
@pytest.mark.parametrize(("source", "variables"), NUL_CASES)
def test_cel_expr_carries_nul_characters(source: str, variables: dict[str, Any]) -> None:
    results = []
    for name in ("cel-expr", "cel-python"):
        engine = engine_named(name)
        program = engine.compile(source, Scope.TOTAL)
        results.append(engine.evaluate(program, Scope.TOTAL, engine.bind(variables), {}))
    assert results[0] == results[1]


@pytest.mark.parametrize(("source", "why"), KNOWN_DISAGREEMENTS)
def test_known_disagreement(source: str, why: str) -> None:
    """Pinned: cel-expr rejects at compile time, cel-python evaluates."""
    cel_expr = run("cel-expr", source, Scope.TOTAL)
    cel_python = run("cel-python", source, Scope.TOTAL)
    assert isinstance(cel_expr, FormulaError) and cel_expr.phase == "compile", why
    assert not isinstance(cel_python, FormulaError), why


def test_the_grammar_covers_every_helper_and_variable() -> None:
    """A helper or variable added later should be added to the grammar too."""
    import inspect

    text = inspect.getsource(inspect.getmodule(test_the_grammar_covers_every_helper_and_variable))
    for helper in HELPERS:
        assert f'"{helper.name}"' in text, helper.name
    for name in variables_for(Scope.TOTAL):
        # the fees come in through FEE_VARIABLES
        assert name in FEE_VARIABLES or name in text, name


# ---------------------------------------------------------------------------------------------
# A crash the property found, fixed: cel-python let an IndexError out of celpy (its error value's
# repr fails on this tree); every exception celpy raises is now this formula's FormulaError.
FIXED_CRASHES = ["1 / (-size([]) ? 1 : 2)"]


@pytest.mark.parametrize("source", FIXED_CRASHES)
def test_cel_python_crash_is_a_formula_error(source: str) -> None:
    pricing = AppPricing(inference_expression=source)
    result = PricingEvaluator(engine_named("cel-python")).price(pricing, PricingInput())
    assert result.inference_fee.value == 0
    assert result.inference_fee.error


# ---------------------------------------------------------------------------------------------
# Pricing: never raises, fees are int64 >= 0, and both engines price alike

meta_extra = st.fixed_dictionaries(
    {},
    optional={
        "model": st.text(
            max_size=4
        ),  # a string, as the grammar's get_extra(..., 'model', ...) assumes
        "draft": st.booleans(),  # read only through get_bool
        "n": st.integers(-(2**63), 2**63 - 1),
    },
)
meta_items = st.one_of(
    st.builds(TextMeta, tokens=st.integers(0, 10**12)),
    st.builds(
        ImageMeta,
        width=st.integers(0, 10**5),
        height=st.integers(0, 10**5),
        count=st.integers(0, 100),
        steps=st.integers(0, 1000),
        resolution_mp=st.floats(0, 1000),
        extra=meta_extra,
    ),
    st.builds(
        VideoMeta,
        width=st.integers(0, 10**4),
        height=st.integers(0, 10**4),
        seconds=st.floats(0, 1e9),
        fps=st.integers(0, 240),
        resolution=st.sampled_from([None, "480p", "720p", "1080p", "1440p", "4k"]),
    ),
    st.builds(AudioMeta, seconds=st.floats(0, 1e9), sample_rate=st.integers(0, 192_000)),
    st.builds(RawMeta, cost=st.floats(0, 10**12)),
)
output_metas = st.builds(
    OutputMeta, inputs=st.lists(meta_items, max_size=4), outputs=st.lists(meta_items, max_size=4)
)
resources = st.one_of(
    st.builds(
        Resource,
        name=st.sampled_from(["gpu0", "cpu"]),
        meter=st.sampled_from(["llm/micro", "standard/xl", "llm/super"]),
        count=st.integers(0, 1024),
    ),
    st.builds(Resource, price_per_second=st.integers(0, 10**9), count=st.integers(0, 8)),
    st.builds(Resource, price_per_hour=st.integers(0, 10**12), count=st.integers(0, 8)),
)
pricing_inputs = st.builds(
    PricingInput,
    output_meta=output_metas,
    resources=st.lists(resources, min_size=1, max_size=3).map(tuple),
    elapsed_ms=st.integers(0, 10**12),
    task_inputs=st.just(TASK.task_inputs),  # the grammar knows its kinds
)
price_maps = st.dictionaries(
    st.sampled_from(PRICE_NAMES[:-1]), st.integers(0, INT64_MAX), max_size=4
)
cel_descriptions = st.builds(
    lambda text, name: f'"{text}" + to_dollars(prices.{name})',
    st.sampled_from(["$", "from $", ""]),
    st.sampled_from(PRICE_NAMES),
)
SLOTS = ("resource", "inference", "royalty", "partner", "total")


def within_limit(sources: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """AppPricing rejects a formula over 4 KB before any engine sees it (the limit tests cover
    that); keep generated ones inside so the model can be built."""
    return sources.filter(lambda source: len(source.encode()) <= MAX_FORMULA_BYTES)


def app_pricings(slot: Any, description: st.SearchStrategy[str]) -> st.SearchStrategy[AppPricing]:
    return st.builds(
        AppPricing,
        prices=price_maps,
        description=within_limit(description),
        **{
            f"{name}_expression": within_limit(slot(scope))
            for name, scope in zip(SLOTS, FEE_SCOPES, strict=True)
        },
    )


# Anything, ill-typed included, in any slot; descriptions that are text, CEL, or broken CEL.
any_pricing = app_pricings(
    lambda _scope: st.one_of(st.just(""), formulas),
    st.one_of(st.just(""), st.text(max_size=20), cel_descriptions, formulas.map(lambda f: f'"{f}')),
)
# Well-typed formulas naming only the fees their slot sees: the engines must price alike.
typed_pricing = app_pricings(
    lambda scope: st.one_of(st.just(""), *TYPED_FOR_SLOT[scope].values()),
    st.one_of(st.just(""), st.text(max_size=20), cel_descriptions),
)


def price(engine_name: str, pricing: AppPricing, task: PricingInput) -> PricingResult:
    try:
        return PricingEvaluator(engine_named(engine_name)).price(pricing, task)
    except IndexError as error:
        if is_known_crash(error):
            reject()  # reported: test_cel_python_crash
        raise


@pytest.mark.parametrize("engine_name", ["cel-expr", "cel-python"])
@SETTINGS
@given(pricing=any_pricing, task=pricing_inputs)
def test_pricing_never_raises_and_fees_are_int64(
    engine_name: str, pricing: AppPricing, task: PricingInput
) -> None:
    result = price(engine_name, pricing, task)
    errors = result.errors
    for name, fee in zip((*FEE_VARIABLES, "total"), result.fees, strict=True):
        assert type(fee.value) is int, (name, fee)
        assert 0 <= fee.value <= INT64_MAX, (name, fee)
        if fee.error is not None:
            assert fee.value == 0, (name, fee)
            assert errors[name] == fee.error
    assert isinstance(result.description.value, str)
    if result.description.error is not None:
        assert result.description.value == ""


@SETTINGS
@given(pricing=typed_pricing, task=pricing_inputs)
def test_engines_price_alike(pricing: AppPricing, task: PricingInput) -> None:
    """cel-expr's one-evaluation fast path and cel-python's staged path: same fees, errors on the
    same components, same description."""
    cel_expr = price("cel-expr", pricing, task)
    cel_python = price("cel-python", pricing, task)
    for name, a, b in zip((*FEE_VARIABLES, "total"), cel_expr.fees, cel_python.fees, strict=True):
        if a.error and "overflow" in a.error and b.value == 0 and b.error is None:
            sources = " ".join(s or "" for s in pricing.fee_sources())
            if "%" in sources:
                continue  # INT64_MIN % -1, generated before E was fixed; harmless to keep
        assert (a.value, a.error is None) == (b.value, b.error is None), (name, a, b)
    assert cel_expr.description.value == cel_python.description.value
    assert (cel_expr.description.error is None) == (cel_python.description.error is None)
