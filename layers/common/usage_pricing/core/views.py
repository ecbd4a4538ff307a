"""A priced figure as the domain holds it (`Fee`, `Description`) and as the API shows it
(`FeeView`, `DescriptionView`: microcents, dollars, and the error that zeroed it).

Apart from pricing so that handlers which only read what was charged (the task cost, the task
list) import these and never the CEL engines, the budget or the metadata models (docs/operations.md:
nothing on a handler's import path is there only for another handler)."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, Field

from usage_pricing.core.money import to_dollars


class Fee(NamedTuple):
    """One priced component: microcents, and the formula error that zeroed it, if any."""

    value: int
    error: str | None = None


class Description(NamedTuple):
    value: str
    error: str | None = None


def _no_error(value: object) -> bool:
    return value is None


class FeeView(BaseModel):
    value: int = Field(description="Microcents.")
    dollars: str = Field(description="The value in dollars, for people.")
    error: str | None = Field(default=None, exclude_if=_no_error)

    @classmethod
    def of(cls, fee: Fee) -> FeeView:
        return cls(value=fee.value, dollars=to_dollars(fee.value), error=fee.error)


class DescriptionView(BaseModel):
    value: str
    error: str | None = Field(default=None, exclude_if=_no_error)


__all__ = ["Description", "DescriptionView", "Fee", "FeeView"]
