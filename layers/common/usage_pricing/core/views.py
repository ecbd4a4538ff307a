"""A priced figure as the domain holds it (`Fee`, `Description`) and as the API shows it
(`FeeView`, `DescriptionView`: microcents, dollars, and the error that zeroed it).

Apart from pricing so that handlers which only read what was charged (the task cost, the task
list) import these and never the CEL engines, the budget or the metadata models (docs/operations.md:
nothing on a handler's import path is there only for another handler)."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, Field

from usage_pricing.core.money import fits_int64, to_dollars


class Fee(NamedTuple):
    """One priced component: microcents, and the formula error that zeroed it, if any."""

    value: int
    error: str | None = None


class Description(NamedTuple):
    value: str
    error: str | None = None


def absent(value: object) -> bool:
    """`exclude_if` of an optional field: left out of the JSON while None. The one such test of
    every answer (views, spend answers, the backtest)."""
    return value is None


class FeeView(BaseModel):
    value: int = Field(description="Microcents.")
    dollars: str = Field(description="The value in dollars, for people.")
    error: str | None = Field(default=None, exclude_if=absent)

    @classmethod
    def of(cls, fee: Fee) -> FeeView:
        return cls(value=fee.value, dollars=to_dollars(fee.value), error=fee.error)


class DescriptionView(BaseModel):
    value: str
    error: str | None = Field(default=None, exclude_if=absent)


# A message about one field, in the shape of a problem's `errors` ({field, message}, as
# core.errors.FieldIssue carries it inside the layer): the one such type of every answer. A
# figure an answer cannot state (the spend answers' `errors`, the backtest's `figure_errors`:
# FigureError) and a warning about what a request sent (the pricing store's `warnings`) are both
# one. A comment, not a docstring: the docstring would become the OpenAPI schema's description.
class FieldMessage(BaseModel):
    field: str = Field(
        description="The field, as a dotted path: description, total_cost, per_model.0.cost…"
    )
    message: str


FigureError = FieldMessage


class Figures:
    """Collects every figure outside int64 as an error on that figure (core.money.fits_int64);
    the figure itself is then reported as null, never as a wrong number."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.errors: list[FigureError] = []

    def check(self, value: int, path: str) -> int | None:
        if fits_int64(value):
            return value
        self.errors.append(FigureError(field=path, message=self.message))
        return None

    def result(self) -> list[FigureError] | None:
        return self.errors or None


__all__ = [
    "Description",
    "DescriptionView",
    "Fee",
    "FeeView",
    "FieldMessage",
    "FigureError",
    "Figures",
    "absent",
]
