"""Strings to numbers on both engines (a fuzz find: Python's int() took '0\\x85' as 0, cel-expr
refuses it). cel-python follows absl's parsing: ASCII whitespace around ASCII digits, nothing
else."""

from __future__ import annotations

import pytest

from tests.conftest import engine_named
from usage_pricing.core.errors import FormulaError
from usage_pricing.pricing.cel import Scope

CASES = [
    ("int(' 5')", 5),
    ("int('\\t7\\n')", 7),
    ("int('+5')", 5),
    ("int('-5')", -5),
    ("uint('5')", 5),
    ("double(' 1.5')", 1.5),
    ("double('1e3')", 1000.0),
    ("double('.5')", 0.5),
    ("int('0\\x85')", None),
    ("int('\\u0663')", None),
    ("int('0x10')", None),
    ("int('1_0')", None),
    ("double('1_0')", None),
    ("double('\\u0661')", None),
    ("int('99999999999999999999')", None),
    ("int('')", None),
    ("int('5\\u00a0')", None),
]


@pytest.mark.parametrize("engine_name", ["cel-expr", "cel-python"])
@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_given_a_string_when_converted_to_a_number_then_both_engines_answer_alike(
    engine_name: str, source: str, expected: object
) -> None:
    engine = engine_named(engine_name)
    program = engine.compile(source, Scope.RESOURCE)
    if expected is None:
        with pytest.raises(FormulaError):
            engine.evaluate(program, Scope.RESOURCE, engine.bind({}), {})
    else:
        assert engine.evaluate(program, Scope.RESOURCE, engine.bind({}), {}) == expected
