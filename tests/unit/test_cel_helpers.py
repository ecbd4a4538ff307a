"""Every §5 helper, table-driven, on both engines. Each row must give the same answer on both."""

from typing import Any

import pytest

from usage_pricing.pricing.cel import CelEngine

from .celcases import Err, matches, run

HELPER_CASES: list[tuple[str, Any]] = [
    # text_tokens / image_count / video_seconds / audio_seconds
    ("text_tokens(output_meta.inputs)", 150),
    ("text_tokens(outputs)", 400),
    ("text_tokens([])", 0),
    ("text_tokens([{'type': 'text', 'tokens': 5}, {'type': 'image'}])", 5),
    ("text_tokens([{'type': 'text'}])", 0),
    ("text_tokens([1, 2])", Err("expects a list of meta items")),
    ("text_tokens([{'type': 'text', 'tokens': 'many'}])", Err("tokens must be an int")),
    ("text_tokens(prices)", Err()),
    ("image_count(output_meta.outputs)", 3),
    ("image_count([{'type': 'image'}])", 1),  # count defaults to 1
    ("image_count(inputs)", 0),
    ("video_seconds(outputs)", 7.75),
    ("video_seconds([])", 0.0),
    ("audio_seconds(outputs)", 30.0),
    ("audio_seconds([{'type': 'audio', 'seconds': 2}])", 2.0),
    # count_type / first
    ("count_type(outputs, 'image')", 2),
    ("count_type(outputs, 'raw')", 0),
    ("count_type(outputs, 1)", Err()),
    ("first(outputs, 'video').seconds", 5.5),
    ("first(outputs, 'image').extra.model", "sdxl"),
    ("first(outputs, 'raw') == null", True),
    ("first(outputs, 'raw').seconds", Err()),
    # megapixels / pixels / resolution
    ("megapixels(1024, 1024)", 1.048576),
    ("megapixels(first(outputs, 'image').width, first(outputs, 'image').height)", 0.786432),
    ("pixels(1920, 1080)", 2073600),
    ("pixels(3037000500, 3037000500)", Err("overflows int64")),
    ("resolution(640, 480)", "480p"),
    ("resolution(1280, 720)", "720p"),
    ("resolution(720, 1280)", "720p"),
    ("resolution(1281, 721)", "1080p"),
    ("resolution(1920, 1080)", "1080p"),
    ("resolution(2560, 1440)", "1440p"),
    ("resolution(3840, 2160)", "4k"),
    ("resolution(0, 0)", "480p"),
    ("resolution(1.0, 2.0)", Err()),
    # get / get_extra / get_bool / get_string
    ("get(task_inputs, 'steps', 0)", 30),
    ("get(task_inputs, 'missing', 25)", 25),
    ("get(task_inputs, 'missing', 'sd')", "sd"),
    ("get(task_inputs, 'missing', 1.5)", 1.5),
    ("get(task_inputs, 'missing', null) == null", True),
    ("get(task_inputs, 'ratio', 1.0) * 2.0", 3.0),
    ("get(task_inputs, 'quality', 'sd') == 'hd' ? 2 : 1", 2),
    ("get(task_inputs, 'steps', 0) * prices.per_image", 6_000_000),
    ("get(task_inputs, 'quality', 0) + 1", Err()),
    ("get(prices, 'per_image', 0)", 200_000),
    ("get(1, 'a', 0)", Err()),
    ("get_extra(first(outputs, 'image'), 'model', 'none')", "sdxl"),
    ("get_extra(first(outputs, 'image'), 'lora_count', 0)", 0),
    ("get_extra(first(outputs, 'video'), 'model', 'none')", "none"),
    ("get_extra({'type': 'text'}, 'x', 3)", 3),
    ("get_extra({'extra': 1}, 'x', 3)", Err("extra must be a map")),
    ("get_bool(first(outputs, 'image'), 'extra.draft', false)", True),
    ("get_bool(first(outputs, 'image'), 'extra.missing', false)", False),
    ("get_bool(first(outputs, 'image'), 'extra.model', false)", False),  # typed: a string is absent
    ("get_bool(task_inputs, 'nested.flag', false)", True),
    ("get_string(task_inputs, 'nested.name', '')", "x"),
    ("get_string(task_inputs, 'steps', 'none')", "none"),
    ("get_string(task_inputs, 'nested.flag.deeper', 'd')", "d"),
    ("get_bool(task_inputs, 'nested', 1)", Err()),
    # to_dollars / to_cents
    ("to_dollars(prices.per_image)", "0.002"),
    ("to_dollars(100000000)", "1.00"),
    ("to_dollars(3900000)", "0.039"),
    ("to_dollars(1)", "0.00000001"),
    ("'$' + to_dollars(prices.per_image) + ' per image'", "$0.002 per image"),
    ("to_dollars(1.5)", Err()),
    ("to_cents(1000000)", 1.0),
    ("to_cents(prices.per_image)", 0.2),
    # ceil / floor / min / max / sum
    ("ceil(2.1)", 3),
    ("ceil(-2.1)", -2),
    ("floor(2.9)", 2),
    ("floor(-2.1)", -3),
    ("ceil(video_seconds(outputs)) * prices.per_second", 8_000),
    ("ceil(1.0 / 0.0)", Err("has no integer value")),
    ("floor(1e300)", Err("overflows int64")),
    ("ceil(2)", Err()),
    ("min(3, 5)", 3),
    ("max(3, 5)", 5),
    ("min(2.5, 1.5)", 1.5),
    ("max(-1.0, -2.0)", -1.0),
    ("min(1, 2.0)", Err()),
    ("sum([1, 2, 3])", 6),
    ("sum([])", 0),
    ("sum([0.5, 0.25])", 0.75),
    ("sum(outputs.map(o, o.type == 'text' ? o.tokens : 0))", 400),
    ("sum([1, 2.0])", Err("all ints or all doubles")),
    ("sum(['a'])", Err()),
    ("sum([9223372036854775807, 1])", Err("overflows int64")),
]


@pytest.mark.parametrize(("source", "expected"), HELPER_CASES, ids=[c[0] for c in HELPER_CASES])
def test_helper(engine: CelEngine, source: str, expected: Any) -> None:
    result = run(engine, source)
    assert matches(result, expected), (
        f"{engine.name}: {source} gave {result!r}, expected {expected!r}"
    )
