"""Pricing formulas as authors write them, on both engines, with exact microcents; the abuse
cases; and the documented places where cel-python is not conformant."""

from typing import Any

import pytest

from usage_pricing import FormulaError
from usage_pricing.pricing.cel import CelEngine, Scope

from .celcases import Err, matches, run

FORMULA_CASES: list[tuple[str, Any]] = [
    # seed: usage-based-pricing example (integer division truncates)
    ("text_tokens(output_meta.outputs) * prices.per_1k_tokens / 1000", 20_000),
    ("image_count(output_meta.outputs) * prices.per_image", 600_000),
    ("resource_fee + inference_fee + royalty_fee + partner_fee", 1_005_034),
    ("inference_fee * 3 / 100", 30_000),
    ("double(inference_fee) * 0.15", 150_000.0),
    ("int(double(inference_fee) * 0.15)", 150_000),
    ("usage_seconds * prices.per_second", 46_000),  # ceil(45.25 s)
    ("elapsed_ms", 45_250),
    ("elapsed_seconds", 45.25),
    ("resources[0].price_per_hour * usage_seconds / 3600", 401_158),
    ("resources.map(r, r.count * r.price_per_hour).size()", 1),
    ("size(outputs.filter(o, o.type == 'image'))", 2),
    ("outputs.exists(o, o.type == 'audio') ? prices.base : 0", 7),
    ("outputs.all(o, o.type != 'raw')", True),
    ("outputs.exists_one(o, o.type == 'audio')", True),
    ("'per_image' in prices ? prices.per_image : 0", 200_000),
    ("has(prices.per_image)", True),
    ("has(prices.nope)", False),
    ("-7 / 2", -3),  # CEL truncates toward zero on both engines
    ("-7 % 2", -1),
    ("true || 1 / 0 == 0", True),  # short-circuit: the error is absorbed
    ("1 / 0 == 0 || true", True),  # commutative error absorption
    ("[1, 2] + [3]", [1, 2, 3]),
    ("{'a': 1}.a", 1),
    # errors: every engine fails, every time
    ("prices.per_image * 1.5", Err()),  # int * double is never a silent float
    ("inference_fee * elapsed_seconds", Err()),
    ("prices.nope", Err()),
    ("1 / 0", Err()),
    ("5 % 0", Err()),
    ("9223372036854775807 + 1", Err()),
    ("-9223372036854775807 - 2", Err()),
    ("9223372036854775807 * 2", Err()),
    ("int(1e30)", Err()),
    ("[1, 2][5]", Err()),
    ("1 + 2u", Err()),  # int and uint do not mix, on either engine
    ("dyn(1) == 1.0", True),  # CEL's heterogeneous numeric equality at run time
    ("dyn(true) + 1", Err()),
    ("'a' + 1", Err()),
    ("undeclared_variable + 1", Err()),
    ("nosuchfunction(1)", Err()),
    ("prices.per_image +", Err()),
    ("", Err()),
]


@pytest.mark.parametrize(
    ("source", "expected"), FORMULA_CASES, ids=[c[0] or "<empty>" for c in FORMULA_CASES]
)
def test_formula(engine: CelEngine, source: str, expected: Any) -> None:
    result = run(engine, source)
    assert matches(result, expected), (
        f"{engine.name}: {source!r} gave {result!r}, expected {expected!r}"
    )


@pytest.mark.parametrize(
    ("scope", "source"),
    [
        (Scope.RESOURCE, "resource_fee"),
        (Scope.INFERENCE, "inference_fee"),
        (Scope.ROYALTY, "royalty_fee"),
        (Scope.PARTNER, "partner_fee"),
        (Scope.DESCRIPTION, "usage_seconds"),
        (Scope.DESCRIPTION, "outputs"),
    ],
)
def test_a_formula_cannot_see_later_fees_or_task_data_out_of_scope(
    engine: CelEngine, scope: Scope, source: str
) -> None:
    assert isinstance(run(engine, source, scope), FormulaError)


def test_each_fee_sees_the_earlier_ones(engine: CelEngine) -> None:
    assert run(engine, "resource_fee", Scope.INFERENCE) == 5_000
    assert run(engine, "resource_fee + inference_fee", Scope.ROYALTY) == 1_005_000
    assert run(engine, "royalty_fee", Scope.PARTNER) == 30
    assert run(engine, "partner_fee", Scope.TOTAL) == 4


ABUSE_CASES = [
    ("three nested map() over 1,000 outputs", "outputs.map(a, outputs.map(b, outputs.map(c, 1))).size()",
     "comprehensions cannot be nested: map() inside map()"),
    ("filter inside exists", "outputs.exists(o, outputs.filter(p, p.type == o.type).size() > 1)",
     "comprehensions cannot be nested: filter() inside exists()"),
    ("a 12 KB formula", "1 + " * 3071 + "1234", "formula is 12288 bytes; the limit is 4096 bytes"),
    ("1,500 nested parentheses", "(" * 1500 + "1" + ")" * 1500, "formula nests deeper than 32 levels"),
    ("a 40-term sum", " + ".join(["prices.base"] * 40), "formula nests deeper than 32 levels"),
    ("2,000 unary minuses", "-" * 2000 + "1", "formula nests deeper than 32 levels"),
    ("2,000 negations", "!" * 2000 + "true", "formula nests deeper than 32 levels"),
    ("nested list literals", "[" * 40 + "]" * 40, "formula nests deeper than 32 levels"),
    ("nine comprehensions", " + ".join(["size(outputs.filter(o, true))"] * 9),
     "a formula may use at most 8 comprehensions"),
    ("reserved internal names", "__fee(1)", "identifiers starting with '__' are reserved"),
    ("cel.bind", "cel.bind(x, 1, x)", "the 'cel' namespace is not available in pricing formulas"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "source", "message"), ABUSE_CASES, ids=[c[0] for c in ABUSE_CASES]
)
def test_abuse_is_rejected_before_evaluation(
    engine: CelEngine, name: str, source: str, message: str
) -> None:
    result = run(engine, source)
    assert isinstance(result, FormulaError), name
    assert result.phase == "compile"
    assert result.message == message


def test_guard_reports_line_and_column(engine: CelEngine) -> None:
    result = run(engine, "prices.base +\n  outputs.map(a,\n    outputs.map(b, 1)).size()")
    assert isinstance(result, FormulaError)
    assert (result.line, result.column) == (3, 16)


def test_nesting_inside_strings_and_comments_is_not_counted(engine: CelEngine) -> None:
    source = "// map(map(map(\nsize('((((((((((((((((((((((((((((((((((((((((') + size(\"outputs.map(x, outputs.map(y, 1))\")"
    assert run(engine, source) == 73


def test_compiled_programs_are_cached_by_source(engine: CelEngine) -> None:
    source = "prices.base * 2 + 0 * 12345"
    first = engine.compile(source, Scope.TOTAL)
    assert engine.compile(source, Scope.TOTAL) is first
    with pytest.raises(FormulaError) as once:
        engine.compile("prices.base +", Scope.TOTAL)
    with pytest.raises(FormulaError) as twice:
        engine.compile("prices.base +", Scope.TOTAL)
    assert once.value is twice.value  # a bad formula is not re-parsed either


# cel-python is not fully conformant. These are the known differences, pinned so a change in
# either engine shows up; pricing formulas return numbers, where both engines agree.
KNOWN_DIFFERENCES = [
    ("string(2.0)", "2", "2.0"),  # double formatting
    ("1 == 1.0", Err(), True),  # cel-expr's type checker rejects it; cel-python has none
]


@pytest.mark.parametrize(("source", "cel_expr", "cel_python"), KNOWN_DIFFERENCES)
def test_known_engine_differences(source: str, cel_expr: Any, cel_python: Any) -> None:
    from tests.conftest import engine_named

    assert matches(run(engine_named("cel-expr"), source), cel_expr)
    assert matches(run(engine_named("cel-python"), source), cel_python)


def test_cel_expr_type_checks_at_compile_time_with_position() -> None:
    from tests.conftest import engine_named

    with pytest.raises(FormulaError) as raised:
        engine_named("cel-expr").compile("prices.per_image * 1.5", Scope.INFERENCE)
    assert raised.value.phase == "compile"
    assert (raised.value.line, raised.value.column) == (1, 18)
    assert raised.value.message == "found no matching overload for '_*_' applied to '(int, double)'"
