"""CEL's operator semantics for cel-python, where it is laxer than the CEL spec (and cel-expr).

cel-python's operators are Python's: a bool is an int (true + 1 == 2), int and double mix
(a dyn ratio times an int price silently becomes a double), a double divided by zero is +inf
whatever its sign, && and || accept any operand, and values of different types cannot be
compared. Money depends on these: "int * double" must be an error on both engines. These
replacements keep cel-python's own implementation for every well-typed case and apply CEL's
rules to the rest; cel-expr is the reference."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from celpy import celtypes
from celpy.evaluation import CELEvalError, base_functions

from usage_pricing.core.money import INT64_MIN

Kind = str


def kind(value: Any) -> Kind:
    if isinstance(value, celtypes.BoolType):
        return "bool"
    if isinstance(value, celtypes.UintType):
        return "uint"
    if isinstance(value, celtypes.IntType):
        return "int"
    if isinstance(value, celtypes.DoubleType | float):
        return "double"
    if isinstance(value, celtypes.StringType | str):
        return "string"
    if isinstance(value, celtypes.BytesType | bytes):
        return "bytes"
    if isinstance(value, celtypes.ListType | list):
        return "list"
    if isinstance(value, celtypes.MapType | dict):
        return "map"
    if isinstance(value, celtypes.TimestampType):
        return "timestamp"
    if isinstance(value, celtypes.DurationType):
        return "duration"
    if value is None:
        return "null"
    return type(value).__name__


NUMERIC = frozenset({"int", "uint", "double"})


def _no_overload(name: str, *values: Any) -> CELEvalError:
    kinds = ", ".join(kind(v) for v in values)
    return CELEvalError(f"found no matching overload for '{name}' applied to '({kinds})'")


def _first_error(*values: Any) -> CELEvalError | None:
    return next((v for v in values if isinstance(v, CELEvalError)), None)


def _arithmetic(name: str, allowed: frozenset[tuple[Kind, Kind]]) -> Callable[[Any, Any], Any]:
    original = base_functions[name]

    def apply(left: Any, right: Any) -> Any:
        error = _first_error(left, right)
        if error is not None:
            return error
        kinds = (kind(left), kind(right))
        if kinds not in allowed:
            return _no_overload(name, left, right)
        if name == "_/_" and kinds == ("double", "double"):
            return celtypes.DoubleType(_ieee_divide(float(left), float(right)))
        if name in ("_/_", "_%_") and kinds == ("int", "int") and left == INT64_MIN and right == -1:
            return CELEvalError("integer overflow")
        return original(left, right)

    return apply


def _ieee_divide(left: float, right: float) -> float:
    if right != 0.0:
        return left / right
    if left == 0.0 or math.isnan(left):
        return math.nan
    return math.copysign(math.inf, left) * math.copysign(1.0, right)


def _same(*kinds: Kind) -> frozenset[tuple[Kind, Kind]]:
    return frozenset((k, k) for k in kinds)


def _numeric(value: Any) -> float | int:
    return float(value) if kind(value) == "double" else int(value)


def _ordering(name: str) -> Callable[[Any, Any], Any]:
    original = base_functions[name]
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "_<_": lambda a, b: a < b,
        "_<=_": lambda a, b: a <= b,
        "_>_": lambda a, b: a > b,
        "_>=_": lambda a, b: a >= b,
    }

    def apply(left: Any, right: Any) -> Any:
        error = _first_error(left, right)
        if error is not None:
            return error
        kinds = {kind(left), kind(right)}
        if len(kinds) == 1 and kinds <= {
            "int",
            "uint",
            "double",
            "string",
            "bytes",
            "bool",
            "timestamp",
            "duration",
        }:
            return original(left, right)
        if kinds <= NUMERIC:  # CEL compares numbers across int, uint and double at run time
            return celtypes.BoolType(compare[name](_numeric(left), _numeric(right)))
        return _no_overload(name, left, right)

    return apply


def equal(left: Any, right: Any) -> bool:
    """CEL equality: numbers compare by value across int, uint and double; values of other
    different types are unequal (not an error); lists and maps compare element by element."""
    left_kind, right_kind = kind(left), kind(right)
    if left_kind in NUMERIC and right_kind in NUMERIC:
        return bool(_numeric(left) == _numeric(right))
    if left_kind != right_kind:
        return False
    if left_kind == "list":
        return len(left) == len(right) and all(
            equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if left_kind == "map":
        return len(left) == len(right) and all(
            any(equal(key, other) and equal(value, right[other]) for other in right)
            for key, value in left.items()
        )
    return bool(left == right)


def _equality(negate: bool) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        error = _first_error(left, right)
        if error is not None:
            return error
        return celtypes.BoolType(equal(left, right) != negate)

    return apply


def _membership(item: Any, container: Any) -> Any:
    error = _first_error(item, container)
    if error is not None:
        return error
    container_kind = kind(container)
    if container_kind == "list":
        return celtypes.BoolType(any(equal(item, element) for element in container))
    if container_kind == "map":
        return celtypes.BoolType(any(equal(item, key) for key in container))
    return _no_overload("@in", item, container)


def _logical(name: str, absorbing: bool) -> Callable[[Any, Any], Any]:
    """&& (absorbing false) and ||  (absorbing true): an absorbing bool on either side decides,
    even against an error; otherwise both sides must be bools."""

    def apply(left: Any, right: Any) -> Any:
        for value in (left, right):
            if kind(value) == "bool" and bool(value) is absorbing:
                return celtypes.BoolType(absorbing)
        error = _first_error(left, right)
        if error is not None:
            return error
        if kind(left) == kind(right) == "bool":
            return celtypes.BoolType(not absorbing)
        return _no_overload(name, left, right)

    return apply


def _negate(value: Any) -> Any:
    if isinstance(value, CELEvalError):
        return value
    if kind(value) == "int":
        return (
            CELEvalError("integer overflow")
            if value == INT64_MIN
            else celtypes.IntType(-int(value))
        )
    if kind(value) == "double":
        return celtypes.DoubleType(-float(value))
    return _no_overload("-_", value)


def _not(value: Any) -> Any:
    if isinstance(value, CELEvalError):
        return value
    if kind(value) == "bool":
        return celtypes.BoolType(not bool(value))
    return _no_overload("!_", value)


# cel-expr parses numbers from strings as absl does: ASCII whitespace around, ASCII digits inside,
# no base prefixes or digit separators. Python's int() and float() accept far more (Unicode
# digits and spaces, "0x10", "1_0"), so cel-python parses strings itself.
_ASCII_SPACE = " \t\n\v\f\r"
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_UINT_TEXT = re.compile(r"\+?[0-9]+")
_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)


def _conversion(name: str, pattern: re.Pattern[str], convert: Callable[[Any], Any]) -> Any:
    def apply(value: Any) -> Any:
        if isinstance(value, CELEvalError):
            return value
        if kind(value) == "string":
            text = str(value).strip(_ASCII_SPACE)
            if not pattern.fullmatch(text):
                return CELEvalError(f"cannot convert string to {name}")
            try:
                return convert(celtypes.StringType(text))
            except (ValueError, OverflowError) as error:
                return CELEvalError(str(error))
        try:
            return convert(value)
        except (ValueError, OverflowError, TypeError) as error:
            return CELEvalError(str(error))

    return apply


def _to_string(value: Any) -> Any:
    """string(): bytes must be UTF-8 and lists or maps have no overload, as in cel-expr."""
    if isinstance(value, CELEvalError):
        return value
    value_kind = kind(value)
    if value_kind == "bytes":
        try:
            return celtypes.StringType(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            return CELEvalError("malformed UTF-8 bytes")
    if value_kind in ("list", "map"):
        return _no_overload("string", value)
    return celtypes.StringType(value)


NUMBERS = ("int", "uint", "double")
OPERATORS: dict[str, Callable[..., Any]] = {
    "_+_": _arithmetic("_+_", _same(*NUMBERS, "string", "bytes", "list", "duration")
                       | {("timestamp", "duration"), ("duration", "timestamp")}),
    "_-_": _arithmetic("_-_", _same(*NUMBERS, "duration", "timestamp")
                       | {("timestamp", "duration")}),
    "_*_": _arithmetic("_*_", _same(*NUMBERS)),
    "_/_": _arithmetic("_/_", _same(*NUMBERS)),
    "_%_": _arithmetic("_%_", _same("int", "uint")),
    "_<_": _ordering("_<_"),
    "_<=_": _ordering("_<=_"),
    "_>_": _ordering("_>_"),
    "_>=_": _ordering("_>=_"),
    "_==_": _equality(negate=False),
    "_!=_": _equality(negate=True),
    "_in_": _membership,
    "_&&_": _logical("_&&_", absorbing=False),
    "_||_": _logical("_||_", absorbing=True),
    "-_": _negate,
    "!_": _not,
    "int": _conversion("int", _INT_TEXT, celtypes.IntType),
    "uint": _conversion("uint", _UINT_TEXT, celtypes.UintType),
    "double": _conversion("double", _DOUBLE_TEXT, celtypes.DoubleType),
    "string": _to_string,
}  # fmt: skip
