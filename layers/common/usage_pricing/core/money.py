"""Integer microcents: 1 USD = 100,000,000 microcents (1 cent = 1,000,000).

Money is never computed in float. A formula that yields a double is converted to its exact
binary value and rounded once, half away from zero; everything else stays an int."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

MICROCENTS_PER_DOLLAR = 100_000_000
MICROCENTS_PER_CENT = 1_000_000
# The int64 range: what DynamoDB numbers, CEL ints and the API's JSON integers all hold. The one
# home of both bounds; `fits_int64` is the one test of a figure against them.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


FEE_OVERFLOWS = "the fee overflows int64"


class FeeValueError(ValueError):
    """A formula result that cannot be a fee."""


def round_half_away(value: Fraction | Decimal | float | int) -> int:
    """Round to the nearest integer, ties away from zero, from the exact value (no float steps)."""
    if isinstance(value, bool):
        raise TypeError("bool is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FeeValueError(f"{value} is not a finite number")
        # For a double, |x| - floor(|x|) is exact (it is x's own low-order bits), so comparing
        # it with 0.5 decides the tie rule without leaving the double's exact value.
        magnitude = abs(value)
        whole = math.floor(magnitude)
        rounded = whole + 1 if magnitude - whole >= 0.5 else whole
        return -rounded if value < 0 else rounded
    exact = Fraction(value) if isinstance(value, Decimal) else value
    # Work on |value| so ties go away from zero; Fraction keeps every step exact.
    floor_abs, remainder = divmod(abs(exact.numerator), exact.denominator)
    if 2 * remainder >= exact.denominator:
        floor_abs += 1
    return -floor_abs if exact < 0 else floor_abs


def fee_from_result(value: object) -> int:
    """A formula result as a fee: int64 >= 0. Doubles are rounded once; other types are errors."""
    if isinstance(value, bool):
        raise FeeValueError("a fee must be a number, got bool")
    if isinstance(value, int):
        fee = value
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise FeeValueError(f"a fee must be finite, got {value}")
        if value < 0:
            raise FeeValueError(f"a fee cannot be negative, got {value!r}")
        fee = round_half_away(value)
    elif value is None:
        raise FeeValueError("a fee must be a number, got null")
    else:
        raise FeeValueError(f"a fee must be a number, got {kind_of(value)}")
    if fee < 0:
        raise FeeValueError(f"a fee cannot be negative, got {fee}")
    if fee > INT64_MAX:
        raise FeeValueError(f"a fee must fit in int64, got {value!r}")
    return fee


def kind_of(value: object) -> str:
    """A plain value's CEL kind, as messages name it (a fee that is not a number, a helper's
    argument): the one such namer of the layer."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def to_dollars(microcents: int) -> str:
    """Dollars for people: at least 2 and at most 8 decimals, zeros beyond the 2nd stripped."""
    if isinstance(microcents, bool) or not isinstance(microcents, int):
        raise TypeError("to_dollars() takes an int number of microcents")
    sign = "-" if microcents < 0 else ""
    whole, fraction = divmod(abs(microcents), MICROCENTS_PER_DOLLAR)
    decimals = f"{fraction:08d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{decimals}"


def to_cents(microcents: int) -> float:
    if isinstance(microcents, bool) or not isinstance(microcents, int):
        raise TypeError("to_cents() takes an int number of microcents")
    return microcents / MICROCENTS_PER_CENT


def dollars_to_microcents(dollars: str) -> int:
    """Exact conversion of a decimal dollar string, for operators and tests (e.g. "0.05")."""
    return round_half_away(Decimal(dollars) * MICROCENTS_PER_DOLLAR)


__all__ = [
    "FEE_OVERFLOWS",
    "INT64_MAX",
    "INT64_MIN",
    "MICROCENTS_PER_CENT",
    "MICROCENTS_PER_DOLLAR",
    "FeeValueError",
    "dollars_to_microcents",
    "fee_from_result",
    "fits_int64",
    "kind_of",
    "round_half_away",
    "to_cents",
    "to_dollars",
]
