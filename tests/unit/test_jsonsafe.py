"""The one parser for untrusted JSON (docs/limits.md): nesting ≤ 32, integers within int64, no NaN or
Infinity, no lone surrogates; every refusal names its field, and nothing reaches a parser error
(RecursionError, int()'s 4,300-digit ValueError) however the text is built."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from usage_pricing import InvalidRequestError
from usage_pricing.core.jsonsafe import (
    INT64_MAX,
    INT64_MIN,
    NUL_CHARACTER,
    JsonInputError,
    parse_json,
)
from usage_pricing.core.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH

INT_RANGE = (
    "integer out of range: must be within int64 (-9223372036854775808 to 9223372036854775807)"
)


def nested(depth: int, open_: str = "[", close: str = "]", inner: str = "") -> str:
    return open_ * depth + inner + close * depth


def refusals(text: str | bytes) -> list[tuple[str, str]]:
    with pytest.raises(JsonInputError) as raised:
        parse_json(text)
    return [(e.field, e.message) for e in raised.value.errors]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        (nested(MAX_JSON_DEPTH), json.loads(nested(MAX_JSON_DEPTH))),
        ('{"a": "' + "[" * 5000 + '"}', {"a": "[" * 5000}),  # brackets in strings are text
        ('{"a": "\\"[[[[", "b": []}', {"a": '"[[[[', "b": []}),  # an escaped quote
        (f'{{"min": {INT64_MIN}, "max": {INT64_MAX}}}', {"min": INT64_MIN, "max": INT64_MAX}),
        ('{"x": 1.7976931348623157e308, "y": 1e-400}', {"x": 1.7976931348623157e308, "y": 0.0}),
        ('{"x": 0.' + "1" * 5000 + "}", {"x": 0.1111111111111111}),  # long fractions are fine
        ('"\\ud83d\\ude00"', "😀"),  # a surrogate pair is one character
        ('{"a": "\\\\u0000"}', {"a": "\\u0000"}),  # an escaped backslash, then text: no NUL
        (b'{"b": "\xc3\xa9"}', {"b": "é"}),
        ("null", None),
        ("  [ ]  ", []),
    ],
)
def test_accepted(text: str | bytes, value: Any) -> None:
    assert parse_json(text) == value


@pytest.mark.parametrize(
    ("text", "issues"),
    [
        # Given JSON nested past 32 levels, in any field, however deep
        (nested(MAX_JSON_DEPTH + 1), [("body.0.0.0.0.0.0.0…", "nests deeper than 32 levels")]),
        (nested(2000), [("body.0.0.0.0.0.0.0…", "nests deeper than 32 levels")]),
        (
            '{"task_inputs": {"x": ' + nested(2000) + "}}",
            [("task_inputs.x.0.0.0.0.0.0…", "nests deeper than 32 levels")],
        ),
        (
            '{"a": [1, 2, ' + nested(40, "{", "}", "") + "]}",
            [("a.2", "nests deeper than 32 levels")],
        ),
        (
            '{"p": ' + nested(31, '{"k": ', "}", "[[]]") + "}",
            [("p.k.k.k.k.k.k.k…", "nests deeper than 32 levels")],
        ),
        # Given an integer beyond int64, of any length
        ('{"n": ' + "1" * 4301 + "}", [("n", INT_RANGE)]),
        ('{"n": -' + "9" * 100_000 + "}", [("n", INT_RANGE)]),
        (f'{{"n": {INT64_MAX + 1}}}', [("n", INT_RANGE)]),
        (f'{{"n": {INT64_MIN - 1}}}', [("n", INT_RANGE)]),
        (
            '{"output_meta": {"outputs": [{"type": "text", "tokens": 99999999999999999999}]}}',
            [("output_meta.outputs.0.tokens", INT_RANGE)],
        ),
        (f"[{INT64_MAX + 1}]", [("body.0", INT_RANGE)]),
        (str(10**30), [("body", INT_RANGE)]),
        # Given NaN or Infinity anywhere, or a double that overflows
        (
            '{"task_inputs": {"x": NaN}}',
            [("task_inputs.x", "NaN and Infinity are not JSON numbers")],
        ),
        (
            '{"output_meta": {"outputs": [{"type": "raw", "cost": Infinity}]}}',
            [("output_meta.outputs.0.cost", "NaN and Infinity are not JSON numbers")],
        ),
        ('{"a": [-Infinity]}', [("a.0", "NaN and Infinity are not JSON numbers")]),
        ('{"a": 1e400}', [("a", "number out of range: too large for a double")]),
        ('{"a": -1e400}', [("a", "number out of range: too large for a double")]),
        # Given a lone surrogate, in a value or a key
        (
            '{"a": "\\ud800"}',
            [("a", "string is not valid Unicode (a lone surrogate escape)")],
        ),
        (
            '{"\\udfff": 1}',
            [("\\udfff", "string is not valid Unicode (a lone surrogate escape)")],
        ),
        # Given a NUL character, which cel-expr would cut the string at, in a value or a key
        (
            '{"task_inputs": {"model": "a\\u0000b"}}',
            [
                (
                    "task_inputs.model",
                    "string holds a NUL character (\\u0000), which pricing cannot carry",
                )
            ],
        ),
        (
            '{"k\\u0000": 1, "l": ["\\u0000"]}',
            [
                ("k\\u0000", "string holds a NUL character (\\u0000), which pricing cannot carry"),
                ("l.0", "string holds a NUL character (\\u0000), which pricing cannot carry"),
            ],
        ),
        # Given text that is not JSON at all
        ("{nope", [("body", "body is not valid JSON")]),
        ("", [("body", "body is not valid JSON")]),
        ("[1,]", [("body", "body is not valid JSON")]),
        (b"\xff", [("body", "must be UTF-8 JSON")]),
    ],
)
def test_refused_with_the_field(text: str | bytes, issues: list[tuple[str, str]]) -> None:
    assert refusals(text) == issues


def test_several_refusals_are_all_named_in_document_order() -> None:
    text = '{"a": NaN, "b": [1, ' + "9" * 30 + '], "c": {"d": Infinity}}'
    assert [field for field, _ in refusals(text)] == ["a", "b.1", "c.d"]


def test_a_refusal_is_a_400_and_a_value_error() -> None:
    """HTTP maps it to 400 problem+json; event parsing that catches ValueError dead-letters it
    like any malformed event."""
    with pytest.raises(JsonInputError) as raised:
        parse_json('{"a": NaN}')
    assert isinstance(raised.value, InvalidRequestError) and raised.value.status == 400
    assert isinstance(raised.value, ValueError)
    assert raised.value.detail == "invalid JSON: a: NaN and Infinity are not JSON numbers"


def test_the_root_is_named_by_the_caller() -> None:
    with pytest.raises(JsonInputError) as raised:
        parse_json("{", root="message body")
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("message body", "message body is not valid JSON")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[" * MAX_BODY_BYTES,
        "{" * MAX_BODY_BYTES,
        '{"a":' * (MAX_BODY_BYTES // 5),
        "[" * (MAX_BODY_BYTES // 2) + "]" * (MAX_BODY_BYTES // 2),
        '{"n": ' + "1" * (MAX_BODY_BYTES - 10) + "}",
        "[" + "NaN," * (MAX_BODY_BYTES // 4 - 1) + "0]",
    ],
    ids=["open-arrays", "open-objects", "open-keys", "balanced", "long-int", "many-nans"],
)
def test_the_worst_bodies_of_the_size_limit_are_refused(text: str) -> None:
    # How fast is bench/'s business (no timed assertions on shared machines): here, that the
    # scan refuses them without a RecursionError or a parser error escaping.
    with pytest.raises(JsonInputError):
        parse_json(text)


# Any UTF-8 text (no lone surrogates) but NUL, which is refused (the property below).
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(texts.filter(lambda t: len(t) <= 8), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_within_the_limits_parses_as_the_standard_parser_does(value: Any) -> None:
    text = json.dumps(value)
    if max_depth(value) <= MAX_JSON_DEPTH:
        assert parse_json(text) == json.loads(text)


@settings(max_examples=200, deadline=None)
@given(json_values, texts, texts)
def test_a_nul_anywhere_in_a_string_is_refused_at_its_path(
    value: Any, before: str, after: str
) -> None:
    assume(max_depth(value) <= MAX_JSON_DEPTH - 2)
    document = {"task_inputs": {"v": value, "s": before + "\x00" + after}}
    assert ("task_inputs.s", NUL_CHARACTER) in refusals(json.dumps(document))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='[]{}",:0123456789-.eE\\NaInfity tu', max_size=300))
def test_any_text_parses_or_is_refused_never_crashes(text: str) -> None:
    try:
        parse_json(text)
    except JsonInputError as error:
        assert error.errors and all(e.field and e.message for e in error.errors)


def max_depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((max_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((max_depth(v) for v in value.values()), default=0)
    return 0
