from fractions import Fraction

import pytest
from pydantic import ValidationError

from usage_pricing import METER_CATALOGUE, Resource, default_resource_fee, usage_seconds_from_ms
from usage_pricing.core.money import MICROCENTS_PER_DOLLAR


def test_seed_example_llm_micro_for_600_seconds() -> None:
    fee = default_resource_fee([Resource(meter="llm/micro")], 600)
    assert fee == 5_232_498
    assert round(fee / MICROCENTS_PER_DOLLAR, 2) == 0.05  # the seed's "$0.05"


@pytest.mark.parametrize(
    ("meter", "seed_dollars_per_second"),
    [
        ("llm/micro", "0.0000872083"),
        ("llm/xs", "0.0001475035"),
        ("llm/sm", "0.0006478333"),
        ("llm/md", "0.0008433876"),
        ("llm/lg", "0.0012956667"),
        ("llm/xl", "0.0024468774"),
        ("llm/xxl", "0.0047912685"),
        ("llm/super", "0.0059890856"),
        ("standard/micro", "0.00053440"),
        ("standard/xs", "0.00066800"),
        ("standard/sm", "0.00427520"),
        ("standard/md", "0.00480960"),
        ("standard/lg", "0.00855040"),
        ("standard/xl", "0.01603200"),
        ("standard/xxl", "0.02458240"),
        ("standard/super", "0.02992640"),
    ],
)
def test_catalogue_matches_seed_per_second_prices(meter: str, seed_dollars_per_second: str) -> None:
    # The seed rounds $/s to 10 significant digits; the hourly rate must round to it.
    per_second = Fraction(METER_CATALOGUE[meter], 3600 * MICROCENTS_PER_DOLLAR)
    seed = Fraction(seed_dollars_per_second)
    assert abs(per_second - seed) <= Fraction(1, 10**10)


@pytest.mark.parametrize(
    ("elapsed_ms", "seconds"), [(0, 0), (1, 1), (999, 1), (1000, 1), (1001, 2), (600000, 600)]
)
def test_usage_seconds_round_up(elapsed_ms: int, seconds: int) -> None:
    assert usage_seconds_from_ms(elapsed_ms) == seconds


def test_default_resource_fee_sums_exactly_then_rounds_once() -> None:
    # Two rows of 1 µ¢/h for 900 s are 0.25 µ¢ each: rounding per row gives 0 + 0, the exact
    # sum is 0.5, which rounds once (away from zero) to 1.
    assert default_resource_fee([Resource(price_per_hour=1)], 900) == 0
    assert default_resource_fee([Resource(price_per_hour=1)] * 2, 900) == 1
    rows = [Resource(price_per_second=7, count=2), Resource(meter="standard/micro")]
    assert default_resource_fee(rows, 10) == 2 * 7 * 10 + 192_384_000 * 10 // 3600


def test_resource_row_needs_exactly_one_rate() -> None:
    with pytest.raises(
        ValidationError,
        match="exactly one of price_per_second, price_per_hour or meter is required",
    ):
        Resource(name="gpu0")
    with pytest.raises(ValidationError, match="got price_per_second, meter"):
        Resource(price_per_second=1, meter="llm/micro")


def test_unknown_meter_is_rejected_naming_known_ones() -> None:
    with pytest.raises(ValidationError, match="unknown meter 'llm/giant'"):
        Resource(meter="llm/giant")


def test_resource_cel_view_resolves_meter_rate() -> None:
    row = Resource(name="gpu0", model="A100", meter="llm/micro", count=2).to_cel()
    assert row == {
        "name": "gpu0",
        "type": "gpu",
        "tier": "cloud",
        "model": "A100",
        "count": 2,
        "price_per_second": 0,
        "price_per_hour": 31_394_988,
    }
