"""Budgets as the API takes and shows them (docs/spend-controls.md), and as stored."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from usage_pricing.controls.choices import (
    DEFAULT_ACTION,
    DEFAULT_THRESHOLDS,
    MAX_THRESHOLD_PERCENT,
    MAX_THRESHOLDS,
    BudgetAction,
    Period,
)
from usage_pricing.core.limits import APP_PATH, MAX_APP_PATH
from usage_pricing.core.money import INT64_MAX, to_dollars
from usage_pricing.core.windows import zone

BUDGET_ID = re.compile(r"[a-z0-9_-]{1,64}")
MAX_BUDGETS = 100  # per team (docs/spend-controls.md)
# At most this many budgets apply to one task (the team's plus its app's): every one is an item
# of the charge's transaction, with up to MAX_THRESHOLDS outbox items, inside DynamoDB's 100.
MAX_APPLICABLE = 5


class Amount(BaseModel):
    value: int = Field(description="Microcents.")
    dollars: str

    @classmethod
    def of(cls, value: int) -> Amount:
        return cls(value=value, dollars=to_dollars(value))


class BudgetRequest(BaseModel):
    """The body of PUT /budgets/{budgetID}."""

    model_config = ConfigDict(extra="forbid")

    app: Annotated[str | None, Field(max_length=MAX_APP_PATH, pattern=APP_PATH)] = None
    period: Period
    tz: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    limit: Annotated[int, Field(gt=0, le=INT64_MAX, strict=True)]
    thresholds: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_THRESHOLD_PERCENT, strict=True)]],
        Field(min_length=1, max_length=MAX_THRESHOLDS),
    ] = list(DEFAULT_THRESHOLDS)
    action: BudgetAction = DEFAULT_ACTION

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except Exception:
            raise ValueError("must be an IANA time zone name, e.g. Europe/Berlin") from None
        return value

    @field_validator("thresholds")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a threshold")
        return sorted(value)


class Budget(BaseModel):
    """A stored budget. `generation` numbers its scope (app, period, tz): a change of scope
    starts new counters, seeded from the aggregates. `since` is the start of the period it was
    created (or re-scoped) in: charges completed before it are not its concern."""

    budget_id: str
    team_id: str
    app: str | None = None
    period: Period
    tz: str
    limit: int
    thresholds: list[int]
    action: BudgetAction
    generation: int
    since: str
    created_at: str
    updated_at: str

    def applies_to(self, app: str) -> bool:
        return self.app is None or self.app == app

    def item(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


def _absent(value: object) -> bool:
    return value is None


class BudgetView(BaseModel):
    budget_id: str
    app: str | None = Field(default=None, exclude_if=_absent)
    period: str
    tz: str
    limit: Amount
    thresholds: list[int]
    action: str
    period_start: str
    period_end: str
    spent: Amount
    held: Amount
    remaining: Amount = Field(
        description="limit − spent − held; negative once an alert budget is over"
    )
    crossed: list[int] = Field(description="Thresholds crossed this period")
    as_of: str
    created_at: str
    updated_at: str


class BudgetList(BaseModel):
    data: list[BudgetView]
