"""Output metadata that apps report per run (docs/pricing.md). The same models serve app code, the
evaluate API and billing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from usage_pricing.core.factories import empty_dict, empty_list
from usage_pricing.core.jsonsafe import JsonObject
from usage_pricing.core.limits import MAX_META_ITEMS, MAX_QUANTITY, MAX_SECONDS

Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
Seconds = Annotated[float, Field(ge=0.0, le=MAX_SECONDS)]
VideoResolution = Literal["480p", "720p", "1080p", "1440p", "4k"]


class _MetaItem(BaseModel):
    # strict: "5" is not a token count and true is not a width: wrong types are rejected.
    # defer_build: handlers validate items only inside OutputMeta, whose validator holds theirs;
    # an item's own validator is built when first used directly (app code), not by every cold
    # start (docs/operations.md; ~3 ms).
    model_config = ConfigDict(
        strict=True, extra="forbid", allow_inf_nan=False, frozen=True, defer_build=True
    )

    extra: JsonObject = Field(
        default_factory=empty_dict, description="App-specific pricing factors."
    )


class TextMeta(_MetaItem):
    type: Literal["text"] = "text"
    tokens: Quantity = 0


class ImageMeta(_MetaItem):
    type: Literal["image"] = "image"
    width: Quantity = 0
    height: Quantity = 0
    resolution_mp: Annotated[float, Field(ge=0.0, le=MAX_QUANTITY)] = 0.0
    steps: Quantity = 0
    count: Quantity = 1


class VideoMeta(_MetaItem):
    type: Literal["video"] = "video"
    width: Quantity = 0
    height: Quantity = 0
    resolution_mp: Annotated[float, Field(ge=0.0, le=MAX_QUANTITY)] = 0.0
    resolution: VideoResolution | None = None
    seconds: Seconds = 0.0
    fps: Quantity = 0


class AudioMeta(_MetaItem):
    type: Literal["audio"] = "audio"
    seconds: Seconds = 0.0
    sample_rate: Quantity = 0


class RawMeta(_MetaItem):
    type: Literal["raw"] = "raw"
    cost: Annotated[float, Field(ge=0.0, le=MAX_QUANTITY, description="Raw cost in cents.")] = 0.0


MetaItem = Annotated[
    TextMeta | ImageMeta | VideoMeta | AudioMeta | RawMeta, Field(discriminator="type")
]
META_TYPES = ("text", "image", "video", "audio", "raw")
MetaList = Annotated[list[MetaItem], Field(max_length=MAX_META_ITEMS)]


class OutputMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: MetaList = Field(default_factory=empty_list)
    outputs: MetaList = Field(default_factory=empty_list)

    def to_cel(self) -> dict[str, list[dict[str, Any]]]:
        return {"inputs": meta_list_to_cel(self.inputs), "outputs": meta_list_to_cel(self.outputs)}


def meta_list_to_cel(items: list[Any]) -> list[dict[str, Any]]:
    # Every field present, zero-filled: formulas never need has() for a declared field.
    # __dict__ is the validated field map; reading it avoids model_dump's cost on 1,000-item lists.
    return [dict(item.__dict__) for item in items]


class BaseAppOutput(BaseModel):
    """Base for an app's output model; output_meta is what billing prices. Only app code uses
    it, so its validator is built on its first use, not by every handler's cold start."""

    model_config = ConfigDict(defer_build=True)

    output_meta: OutputMeta | None = None


__all__ = [
    "META_TYPES",
    "AudioMeta",
    "BaseAppOutput",
    "ImageMeta",
    "MetaItem",
    "OutputMeta",
    "RawMeta",
    "TextMeta",
    "VideoMeta",
    "meta_list_to_cel",
]
