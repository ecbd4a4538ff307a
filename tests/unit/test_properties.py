"""Properties over generated inputs: exact rounding, the fast path equals the staged path, and
metadata survives JSON."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from usage_pricing import (
    AppPricing,
    AudioMeta,
    ImageMeta,
    OutputMeta,
    PricingEvaluator,
    PricingInput,
    TextMeta,
    VideoMeta,
    default_resource_fee,
    round_half_away,
)


def exact_half_away(value: float) -> int:
    exact = abs(Fraction(value))
    whole, remainder = divmod(exact.numerator, exact.denominator)
    if 2 * remainder >= exact.denominator:
        whole += 1
    return -whole if value < 0 else whole


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-(2.0**70), max_value=2.0**70)
halves = st.integers(min_value=-(2**52), max_value=2**52).map(lambda n: n + 0.5)


@given(st.one_of(finite, halves))
def test_float_rounding_is_exact_half_away_from_zero(value: float) -> None:
    assert round_half_away(value) == exact_half_away(value)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.floats(min_value=0, max_value=1e19),
        halves.filter(lambda v: v >= 0),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
    as_int=st.booleans(),
)
def test_fast_path_prices_like_the_staged_path(value: float, as_int: bool) -> None:
    from tests.conftest import engine_named

    literal = repr(value) if value == value and abs(value) != float("inf") else None
    if literal is None:
        source = "double('nan')" if value != value else ("1.0 / 0.0" if value > 0 else "-1.0 / 0.0")
    else:
        source = f"int({literal})" if as_int and abs(value) < 9e18 else literal
    evaluator = PricingEvaluator(engine_named("cel-expr"))
    pricing = AppPricing(
        prices={"p": 7}, inference_expression=source, royalty_expression="inference_fee / 3"
    )
    task = PricingInput()
    variables = task.cel_variables(pricing.prices)
    defaults = [default_resource_fee([], 0), 0, 0, 0]
    staged = evaluator._price_staged(pricing.fee_sources(), variables, defaults)
    assert evaluator.price(pricing, task).fees == tuple(staged)


items = st.one_of(
    st.builds(TextMeta, tokens=st.integers(0, 10**12)),
    st.builds(ImageMeta, width=st.integers(0, 10**5), height=st.integers(0, 10**5), count=st.integers(0, 100),
              steps=st.integers(0, 1000), resolution_mp=st.floats(0, 1000), extra=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8) | st.booleans(), max_size=3)),
    st.builds(VideoMeta, seconds=st.floats(0, 1e6), resolution=st.sampled_from([None, "480p", "720p", "1080p", "1440p", "4k"])),
    st.builds(AudioMeta, seconds=st.floats(0, 1e6), sample_rate=st.integers(0, 192000)),
)  # fmt: skip


@given(
    st.builds(OutputMeta, inputs=st.lists(items, max_size=5), outputs=st.lists(items, max_size=5))
)
def test_output_meta_round_trips_through_json(meta: OutputMeta) -> None:
    assert OutputMeta.model_validate_json(meta.model_dump_json()) == meta
    assert OutputMeta.model_validate(meta.model_dump()) == meta
