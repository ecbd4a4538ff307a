from decimal import Decimal
from fractions import Fraction

import pytest

from usage_pricing import (
    INT64_MAX,
    FeeValueError,
    fee_from_result,
    round_half_away,
    to_cents,
    to_dollars,
)
from usage_pricing.core.money import dollars_to_microcents


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),  # half away from zero, not banker's rounding
        (-0.5, -1),
        (-2.5, -3),
        (0.49999999999999994, 0),  # float(x) + 0.5 would give 1
        (2.4999999999999996, 2),
        (Fraction(5232498, 1), 5232498),
        (Fraction(1, 3), 0),
        (Fraction(2, 3), 1),
        (Fraction(-7, 2), -4),
        (Decimal("0.5"), 1),
        (7, 7),
        (1e15 + 0.5, 1000000000000001),
    ],
)
def test_round_half_away(value: object, expected: int) -> None:
    assert round_half_away(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (400000, 400000),
        (12.5, 13),
        (0.4, 0),
        (-0.0, 0),
        (INT64_MAX, INT64_MAX),
        (9.2e18, 9200000000000000000),
    ],
)
def test_fee_from_result_accepts(value: object, expected: int) -> None:
    assert fee_from_result(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "a fee cannot be negative, got -1"),
        (-0.2, "a fee cannot be negative, got -0.2"),
        (float("nan"), "a fee must be finite, got nan"),
        (float("inf"), "a fee must be finite, got inf"),
        (True, "a fee must be a number, got bool"),
        ("5", "a fee must be a number, got string"),
        (None, "a fee must be a number, got null"),
        ([1], "a fee must be a number, got list"),
        ({"a": 1}, "a fee must be a number, got map"),
        (INT64_MAX + 1, "a fee must fit in int64, got 9223372036854775808"),
        (1e19, "a fee must fit in int64, got 1e+19"),
    ],
)
def test_fee_from_result_rejects(value: object, message: str) -> None:
    with pytest.raises(FeeValueError) as raised:
        fee_from_result(value)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("microcents", "dollars"),
    [
        (200000, "0.002"),
        (100000000, "1.00"),
        (3900000, "0.039"),
        (0, "0.00"),
        (1, "0.00000001"),
        (5232498, "0.05232498"),
        (5632498, "0.05632498"),
        (150000000, "1.50"),
        (123456789012, "1234.56789012"),
        (1000000, "0.01"),
        (-50000000, "-0.50"),
        (INT64_MAX, "92233720368.54775807"),
    ],
)
def test_to_dollars(microcents: int, dollars: str) -> None:
    assert to_dollars(microcents) == dollars


def test_to_dollars_takes_ints_only() -> None:
    with pytest.raises(TypeError):
        to_dollars(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_dollars(True)


def test_to_cents() -> None:
    assert to_cents(1_000_000) == 1.0
    assert to_cents(200_000) == 0.2
    assert to_cents(0) == 0.0


def test_dollar_strings_convert_exactly() -> None:
    assert dollars_to_microcents("0.05") == 5_000_000
    assert dollars_to_microcents("1") == 100_000_000
    assert dollars_to_microcents("0.000000005") == 1  # half a microcent rounds away from zero
