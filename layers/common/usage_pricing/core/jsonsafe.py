"""The one JSON parser for untrusted text (docs/limits.md): HTTP bodies at the resolver edge and
task
events in billing both go through `parse_json`, so no input can reach a parser error.

- nesting deeper than MAX_JSON_DEPTH (32) is refused before the text is parsed, by a
  non-recursive scan, so 100,000 nested `[` cost a regular expression, never a RecursionError;
- every integer must fit int64: a number of any length is refused by its digit count before
  Python's int() sees it (no "Exceeds the limit (4300 digits)" ValueError);
- NaN, Infinity and -Infinity (which Python's json accepts) are refused, as is a number that
  overflows a double (1e400 would parse as inf);
- strings must be Unicode: a lone surrogate escape ("\\ud800") is refused, since it could be
  stored nowhere (UTF-8 cannot encode it);
- strings must not hold a NUL ("\\u0000"): cel-expr's Python binding cuts a string at its first
  NUL, so a formula would see "a" where the task sent "a\\u0000b" and could charge what the other
  engine would not (tests/fuzz/test_engine_agreement.py pins the engine's behaviour).

Each refusal is a JsonInputError naming the field by its dotted path ("task_inputs.n.0"), or the
root ("body") for the document itself. JsonInputError is an InvalidRequestError (HTTP 400) and a
ValueError (so event parsing that catches ValueError treats it as any other malformed event)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, ConfigDict, ValidationError

from usage_pricing.core.errors import FieldIssue, InvalidRequestError, join_issues

if TYPE_CHECKING:
    from pydantic import TypeAdapter
from usage_pricing.core.limits import MAX_JSON_DEPTH
from usage_pricing.core.money import INT64_MAX, INT64_MIN, fits_int64

# len("-9223372036854775808"): anything longer is out of range whatever its digits.
_MAX_INT_CHARS = 20
_MAX_ISSUES = 10
_PATH_PARTS_SHOWN = 8

# A JSON string token (the unrolled-loop form: linear, no backtracking), and the structural
# characters the depth scan and the path finder care about.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]', re.S)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
# JSON can carry a NUL only escaped (a raw control character is invalid JSON); the walk after
# tells an escaped NUL from an escaped backslash followed by "u0000".
_NUL_ESCAPE = "\\u0000"
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}

TOO_DEEP = f"nests deeper than {MAX_JSON_DEPTH} levels"
INT_RANGE = f"integer out of range: must be within int64 ({INT64_MIN} to {INT64_MAX})"
FLOAT_RANGE = "number out of range: too large for a double"
NOT_A_NUMBER = "NaN and Infinity are not JSON numbers"
LONE_SURROGATE = "string is not valid Unicode (a lone surrogate escape)"
NUL_CHARACTER = "string holds a NUL character (\\u0000), which pricing cannot carry"
NOT_JSON = (
    "must hold only JSON values: objects with string keys, arrays, strings, numbers, booleans"
    " and null"
)


class JsonInputError(InvalidRequestError, ValueError):
    """Untrusted JSON that cannot be accepted; `errors` name the fields."""

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        super().__init__(f"invalid JSON: {join_issues(issues, shown=3)}", errors=list(issues))


class _Refused:
    """What a parse hook returns in place of a number it refuses; found by the walk after."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _Hooks:
    def __init__(self) -> None:
        self.refused = False

    def integer(self, text: str) -> int | _Refused:
        if len(text) <= _MAX_INT_CHARS:
            value = int(text)
            if fits_int64(value):
                return value
        self.refused = True
        return _Refused(INT_RANGE)

    def number(self, text: str) -> float | _Refused:
        value = float(text)
        if math.isinf(value):
            self.refused = True
            return _Refused(FLOAT_RANGE)
        return value

    def constant(self, _text: str) -> _Refused:
        self.refused = True
        return _Refused(NOT_A_NUMBER)


def parse_json(text: str | bytes, *, root: str = "body", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse untrusted JSON text, or raise JsonInputError naming what is wrong (see module)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInputError([FieldIssue(root, "must be UTF-8 JSON")]) from None
    if _too_deep(text, max_depth):
        raise JsonInputError([FieldIssue(_deep_path(text, max_depth, root), TOO_DEEP)])
    hooks = _Hooks()
    try:
        value = json.loads(
            text, parse_int=hooks.integer, parse_float=hooks.number, parse_constant=hooks.constant
        )
    except (json.JSONDecodeError, RecursionError):
        # RecursionError cannot happen after the depth scan; it is caught so that no parser
        # error can escape whatever the scan missed.
        raise JsonInputError([FieldIssue(root, f"{root} is not valid JSON")]) from None
    if hooks.refused or _SURROGATE_ESCAPE.search(text) or _NUL_ESCAPE in text:
        issues = _refusals(value, root)
        if issues:
            raise JsonInputError(issues)
    return value


def _too_deep(text: str, max_depth: int) -> bool:
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return bool(brackets) and max(accumulate(map(_STEP.__getitem__, brackets))) > max_depth


def _deep_path(text: str, max_depth: int, root: str) -> str:
    """The dotted path of the first container opened past max_depth (a linear token scan)."""
    frames: list[list[Any]] = []  # [bracket, current key or index]
    last_string = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            last_string = token
        elif token in "[{":
            if len(frames) >= max_depth:
                break
            frames.append([token, 0 if token == "[" else ""])
        elif token in "]}":
            if not frames:
                break
            frames.pop()
        elif token == ":" and frames and frames[-1][0] == "{":
            frames[-1][1] = _key(last_string)
        elif token == "," and frames and frames[-1][0] == "[":
            frames[-1][1] += 1
    # An object frame without a key yet (only in text that is not JSON anyway) adds nothing.
    parts: list[Any] = [frame[1] for frame in frames if frame[1] != ""]
    if frames and frames[0][0] == "[":
        parts.insert(0, root)  # a document that is an array: "body.0.0…", not "0.0…"
    return _dotted(parts, root)


def _key(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def _dotted(parts: Sequence[Any], root: str) -> str:
    if not parts:
        return root
    shown = ".".join(str(p) for p in parts[:_PATH_PARTS_SHOWN])
    return shown + ("…" if len(parts) > _PATH_PARTS_SHOWN else "")


def _refusals(value: Any, root: str) -> list[FieldIssue]:
    """Every refused number and lone surrogate, with its path (depth is bounded, so the stack
    is too)."""
    issues: list[FieldIssue] = []
    start: tuple[Any, ...] = (root,) if isinstance(value, list) else ()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, start)]
    while stack and len(issues) < _MAX_ISSUES:
        item, path = stack.pop()
        if isinstance(item, _Refused):
            issues.append(FieldIssue(_dotted(path, root), item.message))
        elif isinstance(item, str):
            problem = _string_problem(item)
            if problem:
                issues.append(FieldIssue(_dotted(path, root), problem))
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                problem = _string_problem(key)
                if problem:
                    shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
                    shown = shown.replace("\x00", "\\u0000")
                    issues.append(FieldIssue(_dotted((*path, shown), root), problem))
                    continue
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            children = [(child, (*path, index)) for index, child in enumerate(item)]
            stack.extend(reversed(children))
    return issues


def _string_problem(text: str) -> str | None:
    if not _is_unicode(text):
        return LONE_SURROGATE
    if "\x00" in text:
        return NUL_CHARACTER
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_value(value: Any) -> Any:
    """One value of a JSON object field, validated as pydantic's JsonValue validates it: into
    fresh containers of plain types (a dict the app reuses or changes later is not the one
    priced; a StrEnum or float subclass is a plain str or float, which both engines price alike),
    strictly, and finite. JsonValue is not part of any model's schema: its recursive schema cost
    each model that used it ~1 ms of every cold start (docs/operations.md). Its validator is built
    when a
    container first needs it; plain scalars (most values) never do. A JsonObject applies this to
    each of its values, so an error's location names the key."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float and math.isfinite(value):
        return value
    try:
        return _json_values().validate_python(value)
    except ValidationError as error:
        raise ValueError(f"{NOT_JSON}; {error.errors()[0]['msg']}") from None


@cache
def _json_values() -> TypeAdapter[Any]:
    from pydantic import JsonValue, TypeAdapter  # noqa: PLC0415 — built on first use

    return TypeAdapter(JsonValue, config=ConfigDict(strict=True, allow_inf_nan=False))


# A JSON object field: task_inputs, a metadata item's extra.
JsonObject = dict[str, Annotated[Any, AfterValidator(json_value)]]
