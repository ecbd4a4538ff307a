import pytest
from pydantic import ValidationError

from usage_pricing import (
    AudioMeta,
    BaseAppOutput,
    ImageMeta,
    OutputMeta,
    RawMeta,
    TextMeta,
    VideoMeta,
)
from usage_pricing.edge.http import field_path


class AppOutput(BaseAppOutput):
    response: str


def test_app_code_reports_usage_as_the_seeds_show() -> None:
    output = AppOutput(
        response="hi",
        output_meta=OutputMeta(
            inputs=[TextMeta(tokens=120)],
            outputs=[
                TextMeta(tokens=40),
                ImageMeta(width=1024, height=1024, resolution_mp=1.05, steps=20, count=1),
                VideoMeta(width=1280, height=720, resolution="720p", seconds=5.0),
                AudioMeta(seconds=30.0),
                ImageMeta(width=1024, height=1024, extra={"model": "sdxl-turbo", "lora_count": 2}),
            ],
        ),
    )
    restored = AppOutput.model_validate_json(output.model_dump_json())
    assert restored == output
    assert restored.output_meta is not None
    assert restored.output_meta.outputs[4].extra == {"model": "sdxl-turbo", "lora_count": 2}


def test_defaults_are_zero_filled_in_the_cel_view() -> None:
    meta = OutputMeta(outputs=[ImageMeta(), VideoMeta(), AudioMeta(), RawMeta(), TextMeta()])
    assert meta.to_cel()["outputs"] == [
        {"type": "image", "width": 0, "height": 0, "resolution_mp": 0.0, "steps": 0, "count": 1, "extra": {}},
        {"type": "video", "width": 0, "height": 0, "resolution_mp": 0.0, "resolution": None, "seconds": 0.0, "fps": 0, "extra": {}},
        {"type": "audio", "seconds": 0.0, "sample_rate": 0, "extra": {}},
        {"type": "raw", "cost": 0.0, "extra": {}},
        {"type": "text", "tokens": 0, "extra": {}},
    ]  # fmt: skip
    assert OutputMeta().to_cel() == {"inputs": [], "outputs": []}


def _rejection(payload: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as raised:
        OutputMeta.model_validate(payload)
    return [(field_path(e["loc"]), e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        (
            {"type": "text", "tokens": -1},
            "outputs.0.tokens",
            "Input should be greater than or equal to 0",
        ),
        (
            {"type": "image", "count": -2},
            "outputs.0.count",
            "Input should be greater than or equal to 0",
        ),
        (
            {"type": "video", "seconds": -0.5},
            "outputs.0.seconds",
            "Input should be greater than or equal to 0",
        ),
        ({"type": "audio", "seconds": "30"}, "outputs.0.seconds", "Input should be a valid number"),
        ({"type": "text", "tokens": "5"}, "outputs.0.tokens", "Input should be a valid integer"),
        ({"type": "text", "tokens": True}, "outputs.0.tokens", "Input should be a valid integer"),
        ({"type": "text", "tokens": 1.5}, "outputs.0.tokens", "Input should be a valid integer"),
        (
            {"type": "image", "width": 10**13},
            "outputs.0.width",
            "Input should be less than or equal to 1000000000000",
        ),
        (
            {"type": "video", "resolution": "8k"},
            "outputs.0.resolution",
            "Input should be '480p', '720p', '1080p', '1440p' or '4k'",
        ),
        ({"type": "text", "colour": "red"}, "outputs.0.colour", "Extra inputs are not permitted"),
        (
            {"type": "raw", "cost": float("inf")},
            "outputs.0.cost",
            "Input should be a finite number",
        ),
    ],
)
def test_bad_items_are_rejected_naming_the_field(
    item: dict[str, object], field: str, message: str
) -> None:
    assert _rejection({"outputs": [item]}) == [(field, message)]


def test_unknown_type_is_rejected() -> None:
    [(field, message)] = _rejection({"inputs": [{"type": "smell", "tokens": 1}]})
    assert field == "inputs.0"
    assert message.startswith(
        "Input tag 'smell' found using 'type' does not match any of the expected tags"
    )


def test_missing_type_is_rejected() -> None:
    [(field, message)] = _rejection({"outputs": [{"tokens": 1}]})
    assert (field, message) == ("outputs.0", "Unable to extract tag using discriminator 'type'")


def test_lists_are_limited_to_1000_items() -> None:
    OutputMeta(outputs=[TextMeta(tokens=1)] * 1000)
    assert _rejection({"outputs": [{"type": "text"}] * 1001}) == [
        ("outputs", "List should have at most 1000 items after validation, not 1001")
    ]


def test_extra_holds_json_values_only() -> None:
    with pytest.raises(ValidationError) as raised:
        ImageMeta(extra={"when": object()})
    assert field_path(raised.value.errors()[0]["loc"]).startswith("extra.when")
